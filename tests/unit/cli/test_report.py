"""The rollout report: one self-contained page, each step plotted, every value escaped."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli
from sentinel_cli.report import rollout_page


def _window(requests, errors, p99):
    return {"requests": requests, "errors": errors, "p99": p99}


RECORD = {
    "app": "todo", "number": 4, "status": "rolled back", "verdict": "fail", "owner": "ann@laptop",
    "reason": "canary error rate 25.00% is over 1.00%", "canary_image": "todo:<2>", "production_image": "todo:1",
    "options": {"steps": [5, 50], "interval": "30s"},
    "steps": [
        {"weight": 5, "verdict": "pass", "reasons": [], "held": 0,
         "numbers": {"prod": {"requests": 300, "errors": 0, "p50": 0.002, "p95": 0.004, "p99": 0.005,
                              "windows": [_window(100, 0, 0.005)] * 3},
                     "canary": {"requests": 30, "errors": 0, "p50": 0.002, "p95": 0.004, "p99": 0.006,
                                "windows": [_window(10, 0, 0.006), _window(0, 0, None), _window(20, 0, 0.004)]}}},
        {"weight": 50, "verdict": "fail", "reasons": ["canary error rate 25.00% is over 1.00% (30 of 120 requests)"],
         "held": 1,
         "numbers": {"prod": {"requests": 120, "errors": 0, "p99": 0.005, "windows": [_window(60, 0, 0.005)] * 2},
                     "canary": {"requests": 120, "errors": 30, "p99": 0.02,
                                "windows": [_window(60, 10, 0.02), _window(60, 20, 0.02)]}}},
    ],
}  # fmt: skip


def _svgs(page: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", page, re.S)]


def test_each_step_has_an_error_rate_and_a_latency_plot_of_both_versions():
    page = rollout_page(RECORD)
    svgs = _svgs(page)
    assert len(svgs) == 4  # two steps, two plots each
    lines = [line for svg in svgs for line in svg.iter("{http://www.w3.org/2000/svg}polyline")]
    # The canary's window without requests splits its line in two on step 1's plots.
    assert [line.get("class") for line in lines] == ["prod", "canary", "canary"] * 2 + ["prod", "canary"] * 2
    assert "Step at 50%: <span class='fail'>fail</span> (held 1 intervals)" in page
    assert "canary error rate 25.00% is over 1.00% (30 of 120 requests)" in page


def test_the_highest_value_sits_on_the_top_of_its_plot():
    svg = _svgs(rollout_page(RECORD))[2]  # step 2, error rate: the canary's 33.3% is the top
    ys = [float(c.get("cy")) for c in svg.iter("{http://www.w3.org/2000/svg}circle")]
    assert min(ys) == 36.0 and max(ys) == 104.0  # top margin, and production's 0% on the axis


def test_values_from_the_record_are_escaped():
    page = rollout_page(RECORD)
    assert "todo:&lt;2&gt;" in page and "todo:<2>" not in page


def test_a_rollout_without_judged_steps_says_so():
    page = rollout_page({**RECORD, "steps": []})
    assert "No step was judged." in page and "<svg" not in page


def test_history_writes_the_report_of_the_rollout_asked_for(monkeypatch, tmp_path):
    monkeypatch.setattr(Context, "run", lambda self, playbook, extravars, title: {"rollouts": [RECORD]})
    target = tmp_path / "rollout.html"
    result = CliRunner().invoke(cli, ["canary", "history", "todo", "--rollout", "4", "--report", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"report of rollout 4: {target}"
    assert target.read_text(encoding="utf-8") == rollout_page(RECORD)


def test_a_report_of_an_app_without_rollouts_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(Context, "run", lambda self, playbook, extravars, title: {"rollouts": []})
    target = tmp_path / "rollout.html"
    result = CliRunner().invoke(cli, ["canary", "history", "todo", "--report", str(target)])
    assert result.exit_code == 1 and "app todo has no canary rollout to report" in result.output
    assert not target.exists()

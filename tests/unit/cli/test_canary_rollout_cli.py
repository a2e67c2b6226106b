"""canary deploy --auto: the rollout's options as the playbook takes them (shares, seconds), and
what only works with --auto refused without it; resume, history and a live rollout's status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from sentinel_cli.commands.canary import _live_rollout_lines, _rollout_text
from sentinel_cli.context import Context
from sentinel_cli.main import cli


@pytest.fixture
def calls(monkeypatch):
    made = []

    def fake_run(self, playbook, extravars, title):
        made.append((playbook, extravars))
        return {"outcome": "promoted", "production_image": "todo:2", "steps": []}

    monkeypatch.setattr(Context, "run", fake_run)
    return made


def test_auto_sends_shares_and_seconds_to_the_rollout_playbook(calls):
    result = CliRunner().invoke(cli, [
        "canary", "deploy", "todo", "--image", "todo:2", "--auto", "--steps", "5,50", "--interval", "20s",
        "--max-error-rate", "2%", "--max-p99", "300ms", "--max-latency-increase", "20%", "--min-requests", "30",
        "--on-inconclusive", "pause", "--load", "/api/todos:20", "--baseline",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    playbook, extravars = calls[0]
    assert playbook == "canary_rollout.yml"
    assert extravars == {
        "app": "todo", "image": "todo:2", "steps": "5,50", "interval": "20s", "max_error_rate": 0.02,
        "max_p99": 0.3, "max_latency_increase": 0.2, "min_requests": 30, "on_inconclusive": "pause",
        "load": "/api/todos:20", "baseline": True, "dry_run": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "5,10"], "--steps only work with --auto"),
        (["--dry-run"], "--dry-run only work with --auto"),
        (["--load", "/:5"], "--load only work with --auto"),
        (["--baseline"], "--baseline only work with --auto"),
        (["--auto", "--weight", "10"], "--weight does not work with --auto"),
        (["--auto", "--steps", " "], "--steps is empty"),
        (["--auto", "--max-p99", "fast"], "'fast' is not a latency"),
        (["--auto", "--max-error-rate", "1 percent"], "is not a percentage"),
        (["--auto", "--max-error-rate", "0.01"], "is not a percentage"),  # 1% or 0.01%? the sign says
    ],
)
def test_misused_options_are_refused_before_any_playbook(calls, args, message):
    result = CliRunner().invoke(cli, ["canary", "deploy", "todo", "--image", "todo:2", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert calls == []


@pytest.mark.parametrize(("given", "seconds"), [("500ms", 0.5), ("1.5s", 1.5), ("250", 0.25)])
def test_latency_takes_milliseconds_or_seconds(calls, given, seconds):
    CliRunner().invoke(cli, ["canary", "deploy", "todo", "--image", "todo:2", "--auto", "--max-p99", given])
    assert calls[0][1]["max_p99"] == seconds


def test_rollout_text_shows_each_step_and_why_one_failed():
    canary_numbers = {"requests": 120, "errors": 30, "p99": 0.02}
    result = {
        "outcome": "rolled back", "production_image": "todo:1",
        "steps": [{"weight": 5, "verdict": "fail", "reasons": ["canary error rate 25.00% is over 1.00%"],
                   "numbers": {"canary": canary_numbers}}],
    }  # fmt: skip
    text = _rollout_text("todo", result)
    assert text.splitlines() == [
        "todo: rolled back: production stays on todo:1",
        "    5%  fail          120 requests, 25.0% 5xx, p99 20 ms",
        "        canary error rate 25.00% is over 1.00%",
    ]


def test_rollout_text_shows_a_step_recorded_without_numbers():
    result = {"outcome": "rolled back", "production_image": "todo:1", "steps": [{"weight": 5, "verdict": "fail"}]}
    assert _rollout_text("todo", result).splitlines()[1:] == ["    5%  fail          no numbers recorded"]


def test_resume_sends_the_deadline_and_says_how_the_rollout_ended(calls):
    result = CliRunner().invoke(cli, ["canary", "resume", "todo", "--deadline", "1h"])
    assert result.exit_code == 0, result.output
    assert calls == [("canary_resume.yml", {"app": "todo", "deadline": "1h"})]
    assert "todo: promoted: production now runs todo:2" in result.output


def test_an_overdue_resume_says_so():
    text = _rollout_text("todo", {"outcome": "rolled back", "verdict": "overdue", "production_image": "todo:1"})
    assert text.splitlines()[0] == "todo: rolled back: production stays on todo:1 (past its deadline)"


def test_history_lists_each_rollout_and_one_in_full(monkeypatch):
    step = {"weight": 5, "verdict": "fail", "reasons": ["canary error rate 25.00% is over 1.00%"],
            "numbers": {"canary": {"requests": 120, "errors": 30, "p99": 0.02}}}  # fmt: skip
    rollout = {"number": 2, "started": "2026-12-02T10:00:00+00:00", "owner": "ann@laptop", "canary_image": "todo:2",
               "options": {"steps": [5, 50]}, "steps": [step], "status": "rolled back",
               "reason": step["reasons"][0]}  # fmt: skip
    made = []
    monkeypatch.setattr(Context, "run", lambda self, playbook, extravars, title: made.append(extravars) or {
        "rollouts": [rollout] if extravars.get("rollout", 2) == 2 else []})  # fmt: skip
    result = CliRunner().invoke(cli, ["canary", "history", "todo", "--rollout", "2"])
    assert result.exit_code == 0, result.output
    assert made == [{"app": "todo", "rollout": 2}]
    lines = result.output.splitlines()
    assert lines[0].split() == ["ROLLOUT", "STARTED", "BY", "CANARY", "STEPS", "STATUS", "REASON"]
    assert lines[1].split()[:6] == ["2", "2026-12-02T10:00:00+00:00", "ann@laptop", "todo:2", "1/2", "rolled"]
    assert lines[2:] == ["    5%  fail          120 requests, 25.0% 5xx, p99 20 ms",
                         "        canary error rate 25.00% is over 1.00%"]  # fmt: skip
    missing = CliRunner().invoke(cli, ["canary", "history", "todo", "--rollout", "7"])
    assert missing.exit_code == 1 and "app todo has no rollout 7" in missing.output


def test_a_live_rollout_shows_the_step_under_way_and_its_time_left():
    now = datetime(2026, 12, 2, 10, 0, 20, tzinfo=UTC)
    rollout = {"number": 3, "status": "running", "app": "todo", "options": {"steps": [5, 50]}, "steps": [],
               "current": {"weight": 5, "started": "2026-12-02T10:00:00+00:00", "interval_seconds": 30,
                           "step_seconds": 90}}  # fmt: skip
    assert _live_rollout_lines(rollout, now) == [
        "  rollout 3 (running), steps 5,50%",
        "    5%  judging      10 s left (up to 70 s if held)",
    ]
    held = _live_rollout_lines(rollout, now.replace(second=50))
    assert held[-1] == "    5%  judging      held: at most 40 s more"
    stale = _live_rollout_lines(rollout, now.replace(minute=5))
    assert stale[-1] == (
        "    5%  judging      230 s past its time: is its run gone? sentinel unlock todo, sentinel canary resume todo"
    )
    paused = {**rollout, "status": "paused", "current": None}
    assert _live_rollout_lines(paused, now)[-1] == "  paused: sentinel canary resume / promote / rollback todo"

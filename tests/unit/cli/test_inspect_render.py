"""How `sentinel inspect app` and `sentinel canary status` print inspect.yml's result."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sentinel_cli.commands import canary, inspect
from sentinel_cli.context import Context
from sentinel_cli.output import Output

NUMBERS = {
    "prod": {
        "requests": 1200.4,
        "requests_per_second": 4.001,
        "error_ratio_5xx": 0.0,
        "error_ratio_4xx": 0.012,
        "p95_seconds": 0.0953,
    },
    "canary": {
        "requests": 120,
        "requests_per_second": 0.4,
        "error_ratio_5xx": 0.25,
        "error_ratio_4xx": 0,
        "p95_seconds": None,
    },
}
NODES = {
    "node1": {"cpu": 0.123, "memory": 0.5, "disk": 0.75},
    "node2": {"cpu": 0.9, "memory": None, "disk": 0.1},
    "node3": {"cpu": 0.0, "memory": 0.0, "disk": 0.0},
}


def _result(metrics: dict) -> dict:
    task = {"id": "abcdefabcdef0123", "state": "running", "error": ""}
    return {
        "app": {
            "name": "todo",
            "services": {
                "prod": {"name": "todo-prod", "image": "todo:1", "replicas": {"running": 1, "desired": 1},
                         "tasks": [{**task, "node": "node1"}, {**task, "node": "node3", "state": "shutdown"}]},
                "canary": {"name": "todo-canary", "image": "todo:2", "replicas": {"running": 1, "desired": 1},
                           "tasks": [{**task, "node": "node2"}]},
            },
            "route": {"domains": ["todo.example.com"], "tls": True},
        },
        "split": {"exists": True, "weights": {"prod": 90, "canary": 10}},
        "metrics": metrics,
    }  # fmt: skip


def test_tables_of_traffic_and_of_the_nodes_the_app_runs_on():
    text = inspect.render_app(_result({"available": True, "window": "5m", "app": NUMBERS, "nodes": NODES}))
    assert "  URL:      https://todo.example.com" in text
    assert "Traffic (last 5m):" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("VERSION"))
    assert lines[header].split() == ["VERSION", "REQUESTS", "REQ/S", "5XX", "%", "4XX", "%", "P95", "MS"]
    assert lines[header + 1].split() == ["prod", "1200", "4.00", "0.0", "1.2", "95"]
    assert lines[header + 2].split() == ["canary", "120", "0.40", "25.0", "0.0", "-"]
    nodes = next(i for i, line in enumerate(lines) if line.startswith("NODE"))
    assert lines[nodes].split() == ["NODE", "CPU", "%", "MEMORY", "%", "DISK", "%"]
    # node3 only has a stopped task of the app: not shown
    assert [line.split() for line in lines[nodes + 1 :]] == [
        ["node1", "12.3", "50.0", "75.0"],
        ["node2", "90.0", "-", "10.0"],
    ]


def test_without_a_canary_only_production():
    numbers = {"prod": NUMBERS["prod"], "canary": None}
    text = inspect.render_app(_result({"available": True, "window": "1h", "app": numbers, "nodes": {}}))
    assert "Traffic (last 1h):" in text and "canary  " not in text.split("Traffic (last")[1]
    assert "CPU %" not in text  # no node numbers at all


@pytest.mark.parametrize(
    ("metrics", "shown"),
    [
        (
            {"available": False, "reason": "no sentinel-prometheus service"},
            "Metrics: unavailable (no sentinel-prometheus service)",
        ),
        ({}, "Metrics: unavailable (not read)"),
    ],
)
def test_unavailable_metrics_say_why(metrics, shown):
    text = inspect.render_app(_result(metrics))
    assert text.endswith(shown)
    assert "todo-canary" in text  # the rest is still there


class _Context(Context):
    """The CLI's context with the playbook run replaced by a canned result (no cluster here)."""

    def __init__(self, result, fmt):
        super().__init__(options=None, out=Output(fmt))
        self.result, self.calls = result, []

    def run(self, playbook, extravars, title):
        self.calls.append((playbook, extravars))
        return self.result


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_inspect_app_passes_the_window_and_prints(fmt):
    context = _Context(_result({"available": True, "window": "15m", "app": NUMBERS, "nodes": NODES}), fmt)
    run = CliRunner().invoke(inspect.inspect, ["app", "todo", "--window", "15m"], obj=context)
    assert run.exit_code == 0, run.output
    assert context.calls == [("inspect.yml", {"app": "todo", "window": "15m"})]
    if fmt == "json":
        assert json.loads(run.output)["metrics"]["app"]["canary"]["error_ratio_5xx"] == 0.25
    else:
        assert "Traffic (last 15m):" in run.output


def test_canary_status_counts_requests_per_version():
    context = _Context(_result({"available": True, "window": "5m", "app": NUMBERS, "nodes": NODES}), "text")
    run = CliRunner().invoke(canary.canary, ["status", "todo"], obj=context)
    assert run.exit_code == 0, run.output
    assert "90%  todo:1  1/1 tasks  1200 requests, 0.0% 5xx in 5m" in run.output
    assert "10%  todo:2  1/1 tasks  120 requests, 25.0% 5xx in 5m" in run.output


def test_canary_status_without_metrics_is_unchanged():
    context = _Context(_result({"available": False, "reason": "x"}), "json")
    run = CliRunner().invoke(canary.canary, ["status", "todo"], obj=context)
    assert json.loads(run.output)["traffic"] is None
    context = _Context(_result({"available": False, "reason": "x"}), "text")
    run = CliRunner().invoke(canary.canary, ["status", "todo"], obj=context)
    assert run.output.splitlines()[1].endswith("1/1 tasks")


def test_a_rollouts_baseline_shows_its_share():
    result = _result({"available": False, "reason": "no Prometheus"})
    result["split"]["weights"] = {"prod": 60, "canary": 20, "baseline": 20}
    assert "production 60%  canary 20%  baseline 20%" in inspect.render_app(result)

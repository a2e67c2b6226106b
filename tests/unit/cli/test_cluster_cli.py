"""The cluster commands' rendering and confirmation, with the playbook run replaced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sentinel_cli.commands import cluster
from sentinel_cli.context import Context
from sentinel_cli.main import cli

NODES = [
    {"hostname": "node1", "role": "manager", "leader": True, "reachability": "reachable", "availability": "active",
     "state": "ready", "engine_version": "20.10.24", "tasks": 3, "labels": {"zone": "a", "disk": "ssd"}},
    {"hostname": "node2", "role": "worker", "leader": False, "reachability": None, "availability": "drain",
     "state": "down", "engine_version": "", "tasks": 0, "labels": {}},
]  # fmt: skip


@pytest.fixture
def runs(monkeypatch):
    """Playbook calls made by the command; each returns the result queued for it."""
    calls = []
    results = {}

    def fake_run(self, playbook, extravars, title):
        calls.append((playbook, extravars))
        return results.get(playbook, {})

    monkeypatch.setattr(Context, "run", fake_run)
    return calls, results


def test_node_rows():
    rows = cluster.node_rows(NODES)
    assert rows[0]["role"] == "manager (leader)" and rows[0]["labels"] == "disk=ssd,zone=a"
    assert rows[1] == {
        "hostname": "node2", "role": "worker", "availability": "drain", "state": "down",
        "engine": "-", "tasks": 0, "labels": "-",
    }  # fmt: skip


def test_an_unreachable_manager_says_so():
    node = dict(NODES[0], leader=False, reachability="unreachable")
    assert cluster.node_rows([node])[0]["role"] == "manager (unreachable)"


def test_remove_asks_first_and_json_needs_yes(runs):
    calls, _ = runs
    result = CliRunner().invoke(cli, ["-o", "json", "cluster", "remove", "node2"])
    assert result.exit_code == 1 and "--yes" in json.loads(result.output)["errors"][0]
    result = CliRunner().invoke(cli, ["cluster", "remove", "node2"], input="n\n")
    assert result.exit_code == 1 and calls == []
    result = CliRunner().invoke(cli, ["cluster", "remove", "node2", "--yes"])
    assert result.exit_code == 0 and calls == [("cluster_remove.yml", {"node": "node2"})]
    result = CliRunner().invoke(cli, ["cluster", "remove", "node2", "--yes", "--force"])
    assert result.exit_code == 0 and calls[-1] == ("cluster_remove.yml", {"node": "node2", "force": True})


@pytest.mark.parametrize(("command", "availability"), [("drain", "drain"), ("activate", "active")])
def test_drain_and_activate_run_one_playbook(runs, command, availability):
    calls, _ = runs
    assert CliRunner().invoke(cli, ["cluster", command, "node2"]).exit_code == 0
    assert calls == [("cluster_availability.yml", {"node": "node2", "availability": availability})]


def test_inspect_shows_load_when_prometheus_answers(runs):
    _, results = runs
    results["cluster_inspect.yml"] = {
        "nodes": NODES,
        "tasks": {"desired": 2, "running": 2},
        "metrics": {"available": True, "reason": None, "nodes": {"node1": {"cpu": 0.12, "memory": 0.5, "disk": 0.61}}},
    }
    out = CliRunner().invoke(cli, ["cluster", "inspect"]).output
    header, first, second = out.splitlines()[:3]
    assert header.split() == [
        "HOSTNAME",
        "ROLE",
        "AVAILABILITY",
        "STATE",
        "ENGINE",
        "TASKS",
        "CPU",
        "MEMORY",
        "DISK",
        "LABELS",
    ]
    assert "12%" in first and "50%" in first and "61%" in first
    assert second.split()[6:9] == ["-", "-", "-"]


def test_inspect_says_why_there_is_no_load(runs):
    _, results = runs
    results["cluster_inspect.yml"] = {
        "nodes": NODES,
        "tasks": {"desired": 2, "running": 1},
        "metrics": {"available": False, "reason": "no sentinel-prometheus service", "nodes": {}},
    }
    out = CliRunner().invoke(cli, ["cluster", "inspect"]).output
    assert "CPU" not in out.splitlines()[0] and "no sentinel-prometheus service" in out and "1/2" in out

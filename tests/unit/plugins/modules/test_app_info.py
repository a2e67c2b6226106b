"""app_info run whole against the in-memory Swarm: in one run, what swarm_app_info, canary_weights_info and
canary_record_info each read, and Prometheus asked only where it was asked for. metrics_info's own numbers are
proven in test_metrics_info.py, and app_info against the real Swarm and Prometheus in
tests/integration/test_inspect_metrics.py."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.modules import (
    app_info,
    canary_record,
    canary_record_info,
    canary_weights,
    canary_weights_info,
    swarm_app,
    swarm_app_info,
)
from memory_swarm import MemorySwarm
from module_harness import fail, run

MODULES = (app_info, canary_record, canary_record_info, canary_weights, canary_weights_info, swarm_app, swarm_app_info)


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    for module in MODULES:
        monkeypatch.setattr(module, "Swarm", MemorySwarm)


def deploy_with_a_canary():
    run(swarm_app, {"name": "todo", "image": "todo:1", "env": {"A": "1"}})
    run(swarm_app, {"name": "todo", "role": "canary", "image": "todo:2"})
    run(canary_weights, {"name": "todo", "weight": 10})
    run(canary_record, {"name": "todo", "id": "r1", "set": {"status": "paused"}, "event": "paused"})


def test_one_run_reads_what_the_three_info_modules_read():
    deploy_with_a_canary()
    result = run(app_info, {"name": "todo", "metrics": False})
    assert result["changed"] is False
    assert result["app"] == run(swarm_app_info, {"name": "todo"})["apps"][0]
    services = result["app"]["services"]
    assert set(services) == {"prod", "canary"} and services["prod"]["env"] == {"A": "1"}
    split = run(canary_weights_info, {"name": "todo"})
    assert result["split"] == {k: v for k, v in split.items() if k != "changed"}
    assert result["split"]["weights"] == {"prod": 90, "canary": 10}
    assert result["rollout"] == run(canary_record_info, {"name": "todo", "limit": 1})["rollouts"][0]
    assert result["rollout"]["status"] == "paused"


def test_metrics_not_asked_for_are_not_read():
    deploy_with_a_canary()
    metrics = run(app_info, {"name": "todo", "metrics": False, "window": "10m"})["metrics"]
    assert metrics == {"available": False, "reason": "not asked for", "app": None, "nodes": {}, "window": "10m"}


def test_without_prometheus_the_numbers_are_unavailable_and_say_why():
    deploy_with_a_canary()
    metrics = run(app_info, {"name": "todo"})["metrics"]
    assert metrics["available"] is False and "no sentinel-prometheus service" in metrics["reason"]
    assert metrics["window"] == "5m"  # the doc fragment's default


def test_an_unknown_app_is_reported_as_absent_without_asking_prometheus():
    result = run(app_info, {"name": "nope"})
    assert result["app"]["exists"] is False and result["split"]["exists"] is False and result["rollout"] is None
    assert result["metrics"]["reason"] == "not asked for"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Bad_Name"}, "Error reading app Bad_Name: invalid app name"),
        ({"name": "todo", "window": "5 minutes"}, "window"),
        ({"name": "todo", "query_timeout": 0}, "query_timeout"),
    ],
)
def test_bad_input_fails_before_the_engine(monkeypatch, args, message):
    def no_engine(module):
        raise AssertionError("the engine was contacted before the input was validated")

    monkeypatch.setattr(app_info, "Swarm", no_engine)
    assert message in fail(app_info, args)["msg"]

"""app_alerts run whole against the in-memory Swarm: the four steps, keep-current, back to the platform's,
refusals that change nothing, and swarm_app leaving the thresholds alone.

That the Swarm exporter serves them and the rules use them: tests/unit/roles (the exporter's test, promtool's).
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.modules import app_alerts, swarm_app
from memory_swarm import MemorySwarm
from module_harness import fail, run

PROD = "todo-prod"


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(app_alerts, "Swarm", MemorySwarm)
    monkeypatch.setattr(swarm_app, "Swarm", MemorySwarm)
    assert run(swarm_app, {"name": "todo", "image": "todo:1"})["changed"]


def labels() -> dict:
    return {k: v for k, v in MemorySwarm().service(PROD)["Spec"]["Labels"].items() if k.startswith("sentinel.alert.")}


def test_four_steps():
    args = {"name": "todo", "thresholds": {"p95_seconds": 0.3, "error_ratio": "0.01"}, "_ansible_diff": True}
    check = run(app_alerts, args, check=True)
    assert check["changed"] and check["changes"] == ["error_ratio", "p95_seconds"] and labels() == {}
    assert check["diff"] == {
        "before": {"thresholds": {}},
        "after": {"thresholds": {"p95_seconds": 0.3, "error_ratio": 0.01}},
    }
    tasks_before = MemorySwarm().service(PROD)["Spec"]["TaskTemplate"]
    assert run(app_alerts, args)["changed"]
    assert labels() == {"sentinel.alert.p95-seconds": "0.3", "sentinel.alert.error-ratio": "0.01"}
    assert MemorySwarm().service(PROD)["Spec"]["TaskTemplate"] == tasks_before  # the tasks keep running
    for check_mode in (True, False):
        assert not run(app_alerts, args, check=check_mode)["changed"]


def test_left_out_keeps_null_gives_back_and_a_redeploy_leaves_them():
    run(app_alerts, {"name": "todo", "thresholds": {"p95_seconds": 0.3, "error_ratio": 0.01}})
    kept = run(app_alerts, {"name": "todo", "thresholds": {"p95_seconds": None}})
    assert kept["thresholds"] == {"error_ratio": 0.01} and labels() == {"sentinel.alert.error-ratio": "0.01"}
    assert run(swarm_app, {"name": "todo", "image": "todo:2"})["changed"]
    assert labels() == {"sentinel.alert.error-ratio": "0.01"}
    assert not run(swarm_app, {"name": "todo", "image": "todo:2"})["changed"]
    assert run(app_alerts, {"name": "todo"}, check=True)["thresholds"] == {"error_ratio": 0.01}


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"p95_seconds": 0}, "above 0 and at most 600"),
        ({"p95_seconds": "slow"}, "give a number"),
        ({"error_ratio": 1.5}, "above 0 and at most 1"),
        ({"error_ratio": "nan"}, "above 0 and at most 1"),
        ({"error_ratio": True}, "above 0 and at most 1"),
        ({"p99_seconds": 1}, "unknown threshold 'p99_seconds'"),
    ],
)
def test_bad_thresholds_are_refused_and_change_nothing(thresholds, message):
    run(app_alerts, {"name": "todo", "thresholds": {"p95_seconds": 0.3}})
    before = MemorySwarm().service(PROD)
    failed = fail(app_alerts, {"name": "todo", "thresholds": thresholds})
    assert message in failed["msg"] and failed["msg"].startswith("Error setting the alert thresholds of app todo")
    assert MemorySwarm().service(PROD) == before


def test_an_app_that_is_not_there():
    assert "deploy it first" in fail(app_alerts, {"name": "nope", "thresholds": {"p95_seconds": 1}})["msg"]

"""swarm_lease run whole, with the engine's configs replaced by an in-memory store.

What these prove is the lease's rules (one holder, a refusal naming it, an ended lease taken over,
only the holder or force gives it back, check mode, the four steps); that the engine refuses a
second config of one name, on every manager, is proven on a real Swarm by
tests/integration/test_one_operation_at_a_time.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _lease
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError
from ansible_collections.sentinel.paas.plugins.modules import swarm_lease
from module_harness import fail, run


class Conflict(APIError):
    status_code = 409


class MemorySwarm:
    """Configs by name, as the engine keeps them: a second create of one name conflicts."""

    configs: dict[str, dict] = {}
    writes = 0

    def __init__(self, module):
        pass

    def config(self, name):
        return self.configs.get(name)

    def create_config(self, name, data, labels):
        if name in self.configs:
            raise Conflict("409 Conflict: config name exists")
        MemorySwarm.writes += 1
        self.configs[name] = {"ID": f"id-{name}", "Spec": {"Name": name, "Labels": dict(labels), "Data": data}}

    def remove_config(self, config_id):
        MemorySwarm.writes += 1
        del self.configs[next(n for n, c in self.configs.items() if c["ID"] == config_id)]


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    monkeypatch.setattr(swarm_lease, "Swarm", MemorySwarm)
    MemorySwarm.configs = {}
    MemorySwarm.writes = 0


def take(token="run-1", owner="alice@laptop", operation="canary promote", **extra):
    return {"name": "todo", "token": token, "owner": owner, "operation": operation, "_ansible_diff": True, **extra}


def give_back(token="run-1", **extra):
    return {"name": "todo", "token": token, "state": "absent", **extra}


def test_check_apply_check_apply():
    check = run(swarm_lease, take(), check=True)
    assert check["changed"] and check["held"] and MemorySwarm.writes == 0
    applied = run(swarm_lease, take())
    assert applied["changed"] and applied["held"] and MemorySwarm.writes == 1
    assert applied["lease"]["owner"] == "alice@laptop" and applied["lease"]["operation"] == "canary promote"
    assert "token" not in applied["lease"], "the token is the holder's alone"
    assert applied["diff"]["before"] == {} and applied["diff"]["after"] == applied["lease"]
    assert not run(swarm_lease, take(), check=True)["changed"]
    again = run(swarm_lease, take())
    assert not again["changed"] and again["lease"] == applied["lease"] and MemorySwarm.writes == 1


def test_a_second_operation_is_refused_naming_the_holder_and_since_when():
    held = run(swarm_lease, take())["lease"]
    before = dict(MemorySwarm.configs)
    failed = fail(swarm_lease, take(token="run-2", owner="bob@ci", operation="deploy"))
    assert failed["msg"].startswith(f"app todo is busy: canary promote by alice@laptop since {held['started']}")
    assert "sentinel unlock todo" in failed["msg"]
    assert MemorySwarm.configs == before


def test_an_ended_lease_is_taken_over():
    past = datetime.now(UTC) - timedelta(hours=1)
    dead = _lease.new_lease("dead-run", "alice@laptop", "deploy", past, 60)
    MemorySwarm.configs["sentinel-lease-app-todo"] = {"ID": "old", "Spec": {"Labels": _lease.labels_of(dead)}}
    taken = run(swarm_lease, take(token="run-2", owner="bob@ci"))
    assert taken["changed"] and taken["held"] and taken["lease"]["owner"] == "bob@ci"


def test_only_the_holder_gives_it_back_unless_forced():
    run(swarm_lease, take())
    other = run(swarm_lease, give_back(token="someone-else"))
    assert not other["changed"] and other["lease"]["owner"] == "alice@laptop" and not other["held"]
    mine = run(swarm_lease, give_back())
    assert mine["changed"] and mine["lease"] is None and mine["previous"]["owner"] == "alice@laptop"
    assert not run(swarm_lease, give_back())["changed"]
    run(swarm_lease, take())
    forced = run(swarm_lease, give_back(token="unlock", force=True))
    assert forced["changed"] and MemorySwarm.configs == {}


def test_two_takers_racing_one_loses_with_the_winners_name(monkeypatch):
    real_create = MemorySwarm.create_config

    def winner_first(self, name, data, labels):
        winner = _lease.new_lease("run-w", "carol@ci", "scale", datetime.now(UTC), 60)
        real_create(self, name, b"{}", _lease.labels_of(winner))
        real_create(self, name, data, labels)

    monkeypatch.setattr(MemorySwarm, "create_config", winner_first)
    assert "scale by carol@ci" in fail(swarm_lease, take())["msg"]


def test_the_cluster_has_one_lease_of_its_own():
    run(swarm_lease, {"scope": "cluster", "token": "t", "owner": "o", "operation": "cluster drain"})
    assert list(MemorySwarm.configs) == ["sentinel-lease-cluster"]
    assert run(swarm_lease, take())["held"], "an app's lease is another one"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (take(name="Bad_Name"), "invalid app name"),
        (take(seconds=0), "invalid seconds 0"),
        ({"name": "todo", "token": "t"}, "missing: owner, operation"),
        ({"token": "t", "owner": "o", "operation": "x"}, "missing: name"),
    ],
)
def test_bad_input_is_refused_before_the_engine(args, message):
    assert message in fail(swarm_lease, args)["msg"]
    assert MemorySwarm.configs == {}

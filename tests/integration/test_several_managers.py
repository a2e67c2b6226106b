"""Several managers: every manager's Traefik serves the same route and split, whenever it joined,
and a manager that was down during a change catches up by itself.

A Swarm built here: node1 a manager, node2 and node3 engines outside the Swarm. App `multi` gets a
canary at 50% with one manager; `cluster scale` then makes node2 and node3 managers (three, for
the quorum), and the tests send real requests to each manager's Traefik and count who answered.
The tests build on each other and run in file order.
"""

from __future__ import annotations

import time

import pytest
import yaml

from tests.harness.ansible import Ansible
from tests.harness.http import Edge, Load
from tests.integration.test_cluster_ops import Ops

pytestmark = pytest.mark.cluster

APP = "multi"
DOMAIN = "multi.sentinel.test"
MANAGERS = ["node1", "node2", "node3"]


@pytest.fixture(scope="module")
def ops(cluster_factory):
    cluster = cluster_factory.create(managers=1, workers=0, spare=2)
    try:
        ops = Ops(cluster_factory, cluster)
        ops.inventory(["node1"], [])
        run = ops.ansible.playbook("init.yml")
        assert run.ok, f"init.yml failed: {run.failures or run.stderr[-3000:]}"
        image = cluster.image("sentinel-test/todo:1")
        run = ops.sentinel("deploy", APP, "--image", image, "--domain", DOMAIN, "--no-tls", "--replicas", "2")
        assert run.returncode == 0, run.error
        run = ops.sentinel("canary", "deploy", APP, "--image", cluster.image("sentinel-test/todo:2"), "--weight", "50")
        assert run.returncode == 0, run.error
        yield ops
    finally:
        cluster_factory.destroy(cluster)


def edge(ops: Ops, node: str) -> Edge:
    return Edge(ops.node(node).ip, DOMAIN)


def versions(ops: Ops, node: str, n: int = 40) -> set[str]:
    return set(edge(ops, node).versions(n))


def test_managers_that_join_later_serve_the_split_they_never_saw(ops):
    ops.inventory(MANAGERS, [])
    run = ops.sentinel("cluster", "scale")
    assert run.returncode == 0, run.error
    assert sorted(run.data["joined"]) == ["node2", "node3"]
    assert {name: role for name, (role, _, _) in ops.swarm_nodes().items()} == dict.fromkeys(MANAGERS, "manager")
    started = time.monotonic()
    for node in MANAGERS:
        edge(ops, node).wait_until(f"both versions through {node}", lambda e: set(e.versions(40)) == {"1", "2"}, 90)
    print(f"\nnew managers served the split {time.monotonic() - started:.1f} s after cluster scale returned")


def test_inspect_asks_prometheus_on_the_manager_it_is_pinned_to(ops):
    """inspect.yml reads the app and asks Prometheus on the manager prometheus_manager_group names (here node2), not
    on the first manager: any manager reads the app the same. (This cluster runs no monitoring stack, so the numbers
    only say why they are missing; test_inspect_metrics.py reads them from the real Prometheus.)"""
    inventory = yaml.safe_load(ops.ansible.inventory_path.read_text())
    inventory["all"]["children"]["prometheus_elsewhere"] = {"hosts": {"node2": None}}
    play = Ansible(inventory).playbook("inspect.yml", {"app": APP, "prometheus_manager_group": "prometheus_elsewhere"})
    assert play.ok, play.failures or play.stderr[-2000:]
    [read] = play.results("Read the app, its split, its last rollout, and its traffic and its nodes' load")
    assert read["_ansible_delegated_vars"]["ansible_host"] == ops.node("node2").container  # where Ansible ran it
    [report] = play.results("Report")
    result = report["ansible_stats"]["data"]["sentinel_result"]
    assert result["app"]["exists"] and set(result["app"]["services"]) == {"prod", "canary"}
    assert result["split"]["weights"] == {"prod": 50, "canary": 50}
    assert result["metrics"]["available"] is False
    assert result["metrics"]["reason"].startswith("no sentinel-prometheus service"), result["metrics"]


def test_a_change_is_done_only_once_every_manager_serves_it(ops):
    """canary traffic returns once each Traefik serves the new weights: no request after it sees the old."""
    run = ops.sentinel("canary", "traffic", APP, "--weight", "0")
    assert run.returncode == 0, run.error
    for node in MANAGERS:
        assert versions(ops, node) == {"1"}, f"{node} still sends new users to the canary"
    run = ops.sentinel("canary", "traffic", APP, "--weight", "100")
    assert run.returncode == 0, run.error
    for node in MANAGERS:
        assert versions(ops, node) == {"2"}, f"{node} does not send everybody to the canary yet"


def test_a_manager_down_during_a_change_catches_up_by_itself(ops):
    node3 = ops.factory.host.containers.get(ops.node("node3").container)
    node3.stop(timeout=1)
    try:
        run = ops.sentinel("canary", "traffic", APP, "--weight", "0")
        # node3 cannot be asked; the change is made in the Swarm and served by every manager that is up.
        assert run.returncode == 0, run.error
        for node in ("node1", "node2"):
            assert versions(ops, node) == {"1"}
    finally:
        node3.start()
    started = time.monotonic()
    edge(ops, "node3").wait_until("node3 serving weight 0", lambda e: set(e.versions(40)) == {"1"}, timeout=120)
    print(f"\nnode3 serves the change made while it was down {time.monotonic() - started:.1f} s after it started")


def test_a_manager_up_but_not_serving_a_change_stops_the_run_on_every_manager(ops):
    """node2's sentinel-traefik-sync is stuck: its Traefik keeps the old split. The run waits, names
    node2 and stops on every manager before anything else moves; once unstuck, node2 catches up."""
    sync = ops.node("node2").client.containers.list(filters={"name": "sentinel-traefik-sync"})[0]
    sync.pause()
    try:
        run = ops.cli()("canary", "traffic", APP, "--weight", "100")
        assert run.returncode != 0
        assert "node2: Error waiting for Traefik to serve app multi" in run.error, run.error
        assert "not served on every manager that is up" in run.error, run.error
        assert versions(ops, "node2") == {"1"}, "node2's Traefik moved without its sync"
    finally:
        sync.unpause()
    edge(ops, "node2").wait_until("node2 catching up", lambda e: set(e.versions(40)) == {"2"}, timeout=60)
    for node in ("node1", "node3"):
        assert versions(ops, node) == {"2"}


def test_rollback_under_load_through_every_manager_fails_no_request(ops):
    run = ops.sentinel("canary", "traffic", APP, "--weight", "50")
    assert run.returncode == 0, run.error
    for node in MANAGERS:
        assert versions(ops, node) == {"1", "2"}
    loads = [Load(edge(ops, node), clients=1, max_seconds=120) for node in MANAGERS]
    for load in loads:
        load.__enter__()
    try:
        run = ops.sentinel("canary", "rollback", APP, "--yes")
    finally:
        for load in loads:
            load.__exit__(None, None, None)
    assert run.returncode == 0, run.error
    for node, load in zip(MANAGERS, loads, strict=True):
        print(f"\nfault table: {load.summary(f'canary rollback, 3 managers, load through {node}')}")
        load.assert_went_on()
        assert not load.failures, (node, load.failures)
        assert versions(ops, node) == {"1"}, f"{node} still routes to the canary after the rollback"
    running = [s.name for s in ops.cluster.manager.client.services.list() if s.name.startswith(f"{APP}-")]
    assert sorted(running) == [f"{APP}-prod"]


def test_a_manager_lost_mid_operation_leaves_no_routing_half_switched(ops):
    """node3 dies while a rollback runs: wherever the run was, the managers that are up serve
    production only when it ends, and node3 too once it is back. Had the run stopped at node3 (a wait
    there failing rather than unreachable), running it again finishes it."""
    run = ops.sentinel("canary", "deploy", APP, "--image", ops.cluster.image("sentinel-test/todo:2"), "--weight", "50")
    assert run.returncode == 0, run.error
    node3 = ops.factory.host.containers.get(ops.node("node3").container)
    rollback = ops.cli().start("canary", "rollback", APP, "--yes")
    try:
        time.sleep(1.5)
        node3.stop(timeout=1)
        if rollback.wait(timeout=300) != 0:
            again = ops.sentinel("canary", "rollback", APP, "--yes")
            assert again.returncode == 0, again.error
        for node in ("node1", "node2"):
            assert versions(ops, node) == {"1"}, f"{node} routes to the canary after the rollback ended"
    finally:
        node3.start()
    edge(ops, "node3").wait_until("node3 back, serving production only", lambda e: set(e.versions(40)) == {"1"}, 120)
    running = [s.name for s in ops.cluster.manager.client.services.list() if s.name.startswith(f"{APP}-")]
    assert sorted(running) == [f"{APP}-prod"], "the rollback took the canary out"

"""Cluster operations through the real CLI on a Swarm built here: scale, inspect, drain,
activate, rebalance, remove, a node dying, and bad input.

The cluster starts as 1 manager + 1 worker with 2 spare engines outside the Swarm; each step
writes the inventory a user would have at that point (tests.harness.ansible.Ansible) and runs
`sentinel` with it. The tests build on each other and run in file order.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import platform_vars
from tests.harness.ansible import Ansible
from tests.harness.cli import Sentinel
from tests.harness.cluster import CONNECTION
from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state

pytestmark = pytest.mark.cluster

APP = "todo"
DOMAIN = "todo.sentinel.test"


class Ops:
    """The test cluster and a `sentinel` bound to any inventory of its nodes."""

    def __init__(self, factory, cluster):
        self.factory = factory
        self.cluster = cluster
        self.ansible: Ansible | None = None

    def node(self, name: str):
        return next(n for n in self.cluster.nodes if n.name == name)

    def inventory(self, managers: list[str], workers: list[str], extra_hosts: dict | None = None) -> Ansible:
        def hosts(names):
            return {n: {"ansible_host": self.node(n).container} for n in names}

        inventory = {
            "all": {
                "vars": {
                    "ansible_connection": CONNECTION,
                    "ansible_python_interpreter": "/usr/bin/python3",
                    **platform_vars(self.cluster),
                },
                "children": {
                    "managers": {"hosts": hosts(managers)},
                    "workers": {"hosts": {**hosts(workers), **(extra_hosts or {})}},
                },
            }
        }
        self.ansible = Ansible(inventory)
        return self.ansible

    def cli(self) -> Sentinel:
        # ansible.env() selects the json stdout callback, which hides per-task events from
        # ansible-runner: the CLI would then report "exited 2" instead of the failing task's message.
        env = {k: v for k, v in self.ansible.env().items() if k != "ANSIBLE_STDOUT_CALLBACK"}
        return Sentinel(self.ansible.inventory_path, env)

    def sentinel(self, *args: str, json_output: bool = True):
        return self.cli()(*args, json_output=json_output)

    def swarm_nodes(self) -> dict[str, dict]:
        """hostname -> (role, availability, state), as the engine of the manager sees them."""
        return {
            n.attrs["Description"]["Hostname"]: (
                n.attrs["Spec"]["Role"],
                n.attrs["Spec"]["Availability"],
                n.attrs["Status"]["State"],
            )
            for n in self.cluster.manager.client.nodes.list()
        }

    def app_tasks_by_node(self) -> dict[str, int]:
        client = self.cluster.manager.client
        hostnames = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
        counts: dict[str, int] = {}
        for task in client.services.get(f"{APP}-prod").tasks(filters={"desired-state": "running"}):
            if task["Status"]["State"] == "running":
                name = hostnames.get(task["NodeID"], task["NodeID"])
                counts[name] = counts.get(name, 0) + 1
        return counts

    def tokens(self) -> list[str]:
        tokens = self.cluster.manager.client.swarm.attrs["JoinTokens"]
        return [tokens["Worker"], tokens["Manager"]]


@pytest.fixture(scope="module")
def ops(cluster_factory):
    cluster = cluster_factory.create(managers=1, workers=1, spare=2)
    try:
        ops = Ops(cluster_factory, cluster)
        ops.inventory(["node1"], ["node2"])
        run = ops.ansible.playbook("init.yml")
        assert run.ok, f"init.yml failed: {run.failures or run.stderr[-3000:]}"
        yield ops
    finally:
        cluster_factory.destroy(cluster)


def edge(ops: Ops) -> Edge:
    return Edge(ops.cluster.manager.ip, DOMAIN)


def served_by(e: Edge, n: int) -> set[str]:
    return {e.get().headers.get("X-Served-By") for _ in range(n)}


# -- tests, in order ----------------------------------------------------------------------
def test_draining_the_only_active_node_is_refused(ops):
    ops.inventory(["node1"], ["node2"])
    assert ops.sentinel("cluster", "drain", "node2").returncode == 0
    before = ops.swarm_nodes()
    run = ops.sentinel("cluster", "drain", "node1")
    assert run.returncode != 0
    assert "only active node" in run.error
    assert ops.swarm_nodes() == before
    assert ops.sentinel("cluster", "activate", "node2").returncode == 0
    assert ops.swarm_nodes()["node2"][1] == "active"


def test_scale_joins_new_hosts_and_rerun_changes_nothing(ops):
    ops.inventory(["node1"], ["node2", "node3"])
    started = time.monotonic()
    run = ops.sentinel("cluster", "scale")
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.error
    print(f"\nBENCHMARK cluster scale: one node (engine present) joined and Ready in {seconds:.1f} s")
    assert run.data["joined"] == ["node3"]
    assert ops.swarm_nodes()["node3"] == ("worker", "active", "ready")

    ops.inventory(["node1"], ["node2", "node3", "node4"])
    text = ops.sentinel("cluster", "scale", json_output=False)  # text output: progress included
    assert text.returncode == 0, text.stderr
    assert {name: state for name, (_, _, state) in ops.swarm_nodes().items()} == dict.fromkeys(
        ["node1", "node2", "node3", "node4"], "ready"
    )

    again = ops.ansible.playbook("cluster_scale.yml")  # the json callback shows every task's result
    assert again.ok, again.failures
    assert again.changed_tasks == []

    printed = run.stdout + run.stderr + text.stdout + text.stderr + str(again.output) + again.stderr
    for token in ops.tokens():
        assert token not in printed, "a join token was printed"


def test_inspect_lists_every_node(ops):
    run = ops.sentinel("cluster", "inspect")
    assert run.returncode == 0, run.error
    nodes = {n["hostname"]: n for n in run.data["nodes"]}
    assert set(nodes) == {"node1", "node2", "node3", "node4"}
    assert nodes["node1"]["role"] == "manager" and nodes["node1"]["leader"]
    assert nodes["node1"]["tasks"] >= 1  # Traefik
    assert all(n["engine_version"] and n["state"] == "ready" for n in nodes.values())
    assert "node3" in ops.sentinel("cluster", "inspect", json_output=False).stdout
    # Tab after a node command offers the cluster's nodes (sentinel completion bash).
    assert ops.cli().complete("cluster drain node") == ["node1", "node2", "node3", "node4"]


def test_an_app_scaled_to_four_spreads_and_answers_through_traefik(ops):
    run = ops.sentinel(
        "deploy", APP, "--image", ops.cluster.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--health-path", "/healthz",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    labels = ops.cluster.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["Labels"]
    assert labels[f"traefik.http.services.{APP}-prod.loadbalancer.healthcheck.path"] == "/healthz"
    assert APP in ops.cli().complete("scale ")  # Tab offers the cluster's apps
    assert ops.sentinel("scale", APP, "4").returncode == 0
    e = edge(ops)
    e.wait_until("four tasks answering", lambda x: len(served_by(x, 40)) == 4, timeout=60)
    assert len(ops.app_tasks_by_node()) > 1


def test_drain_under_load_moves_tasks_and_activate_rebalance_bring_them_back(ops):
    assert ops.app_tasks_by_node().get("node2"), "node2 should run a task of the app before the drain"
    with Load(edge(ops), clients=2, max_seconds=240) as load:
        time.sleep(1)
        run = ops.sentinel("cluster", "drain", "node2")
        assert run.returncode == 0, run.error
        time.sleep(2)
    assert load.results and not load.failures, f"non-2xx answers during the drain: {load.failures}"
    tasks = ops.app_tasks_by_node()
    assert "node2" not in tasks and sum(tasks.values()) == 4
    assert run.data["node"]["availability"] == "drain" and run.data["node"]["tasks"] == 0

    assert ops.sentinel("cluster", "activate", "node2").returncode == 0
    assert ops.swarm_nodes()["node2"][1] == "active"
    with Load(edge(ops), clients=2, max_seconds=300) as load:
        rebalance = ops.sentinel("cluster", "rebalance")
    assert rebalance.returncode == 0, rebalance.error
    assert rebalance.data["rebalanced"] == [APP]
    assert not load.failures, f"non-2xx answers during the rebalance: {load.failures}"
    assert ops.app_tasks_by_node().get("node2"), "the rebalance should put tasks on node2 again"


def test_bad_input_is_refused_and_changes_nothing(ops):
    before = ops.swarm_nodes()
    cases = [
        (("cluster", "drain", "nosuch"), "not in the Swarm"),
        (("cluster", "activate", "nosuch"), "not in the Swarm"),
        (("cluster", "remove", "node1", "--yes"), "last manager"),
        (("cluster", "remove", "node2"), "--yes"),
    ]
    for args, expected in cases:
        run = ops.sentinel(*args)
        assert run.returncode != 0 and expected in run.error, (args, run.error)

    ops.inventory(["node1", "node2"], ["node3", "node4"])
    run = ops.sentinel("cluster", "scale")
    assert run.returncode != 0 and "odd number" in run.error, run.error

    ghost = {"ghost": {"ansible_host": f"sentinel-test-{ops.cluster.run_id}-ghost"}}
    ops.inventory(["node1"], ["node2", "node3", "node4"], extra_hosts=ghost)
    run = ops.sentinel("cluster", "scale")
    assert run.returncode != 0 and "cannot reach ghost" in run.error, run.error
    assert ops.swarm_nodes() == before


def test_a_dead_worker_is_seen_down_and_its_tasks_rescheduled(ops):
    ops.inventory(["node1"], ["node2", "node3", "node4"])
    victim = "node4" if ops.app_tasks_by_node().get("node4") else "node3"
    e = edge(ops)
    # Unpaced: the 0.1% goal is measured over every request the clients can send.
    with Load(e, clients=2, max_seconds=120, rate=None) as load:
        time.sleep(1)
        ops.factory.host.containers.get(ops.node(victim).container).stop(timeout=1)
        e.wait_until(
            "tasks rescheduled off the dead node",
            lambda _: victim not in ops.app_tasks_by_node() and sum(ops.app_tasks_by_node().values()) == 4,
            timeout=90,
        )
        recovered = len(load.results)
        time.sleep(3)
    after = load.results[recovered:]
    failed = sum(load.failures.values())
    print(f"\nfault table: {load.summary('worker killed under load')} ({dict(load.failures)})")
    # The goal: at most 0.1% failed. What fails is a request in flight on the dead node
    # (reset: 502, or hung until the client gives up: 0); a new one to a dead task dials for at
    # most 2 s, then the retry middleware sends it to another task.
    assert failed <= len(load.results) / 1000, load.failures
    # Traefik's health checks of /healthz take the dead node's tasks out of the load balancer: every request
    # that was answered (all but what was in flight there) took under 3 s, the goal.
    answered = [seconds for (status, _), (_, seconds) in zip(load.results, load.timings, strict=True) if status == 200]
    assert max(answered) < 3, f"an answered request took {max(answered):.2f} s"
    assert after and all(200 <= status < 300 for status, _ in after)
    assert len({e.get().headers.get("X-Served-By") for _ in range(20)}) >= 2

    run = ops.sentinel("cluster", "inspect")
    assert run.returncode == 0, run.error
    assert {n["hostname"]: n["state"] for n in run.data["nodes"]}[victim] == "down"


def pinned_like_a_database(ops, app: str, hostname: str):
    """A service pinned to a node as an app's database is pinned to its volume's node, made by hand as swarm_app
    labels and pins it: a real database on that node would cost a deploy and a db move for what these tests read."""
    client = ops.cluster.manager.client
    node_id = next(n.id for n in client.nodes.list() if n.attrs["Description"]["Hostname"] == hostname)
    return client.services.create(
        ops.cluster.image("sentinel-test/base:latest"), ["sleep", "infinity"], name=f"{app}-db",
        labels={"sentinel.app": app, "sentinel.role": "db"}, constraints=[f"node.id=={node_id}"],
    )  # fmt: skip


def refused_for_its_data(ops, node: str, app: str) -> None:
    before = cluster_state(ops.cluster)
    refused = ops.sentinel("cluster", "remove", node, "--yes")
    assert refused.returncode == 1
    assert f"node {node} holds the data of {app}-db" in refused.error
    assert f"sentinel db restore {app}" in refused.error and "--force" in refused.error
    assert cluster_state(ops.cluster) == before and node in ops.swarm_nodes()


def test_remove_takes_nodes_out_for_good(ops):
    down = next(name for name, (_, _, state) in ops.swarm_nodes().items() if state == "down")
    alive = next(n for n in ("node3", "node4") if n != down)
    ledgers = [pinned_like_a_database(ops, "ledger", down), pinned_like_a_database(ops, "journal", alive)]
    try:
        # A node down or up that holds a database's data: refused, unless forced.
        refused_for_its_data(ops, down, "ledger")
        run = ops.sentinel("cluster", "remove", down, "--yes", "--force")
        assert run.returncode == 0, run.error
        assert run.data["left"] is False  # it cannot leave itself: the managers forget it

        refused_for_its_data(ops, alive, "journal")
        with Load(edge(ops), clients=2, max_seconds=240) as load:
            run = ops.sentinel("cluster", "remove", alive, "--yes", "--force")
    finally:
        for ledger in ledgers:
            ledger.remove()
    assert run.returncode == 0, run.error
    assert run.data["left"] is True
    assert not load.failures, load.failures
    assert set(ops.swarm_nodes()) == {"node1", "node2"}
    assert ops.node(alive).client.info()["Swarm"]["LocalNodeState"] == "inactive"
    assert sum(ops.app_tasks_by_node().values()) == 4

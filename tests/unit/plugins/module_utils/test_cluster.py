"""The rules of plugins/module_utils/_cluster.py: node descriptions, drain / removal refusals."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _cluster


def engine_node(
    node_id, hostname, role="worker", availability="active", state="ready", reach="reachable", leader=False
):
    node = {
        "ID": node_id,
        "Spec": {"Role": role, "Availability": availability, "Labels": {"zone": "a"}},
        "Description": {"Hostname": hostname, "Engine": {"EngineVersion": "20.10.24"}},
        "Status": {"State": state, "Addr": f"10.0.0.{len(node_id)}"},
    }
    if role == "manager":
        node["ManagerStatus"] = {"Reachability": reach, "Leader": leader}
    return node


def service(service_id, name, replicas=None, constraints=()):
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    return {
        "ID": service_id,
        "Spec": {
            "Name": name,
            "Labels": {"sentinel.role": "prod"},
            "Mode": mode,
            "TaskTemplate": {"Placement": {"Constraints": list(constraints)}},
        },
    }


def task(service_id, node_id, state="running", desired="running"):
    return {"ServiceID": service_id, "NodeID": node_id, "DesiredState": desired, "Status": {"State": state}}


def node(hostname, role="worker", availability="active", state="ready", reach=None, pinned=(), local=False, tasks=0):
    """A node as describe_node returns it."""
    return {
        "tasks": tasks,
        "id": f"id-{hostname}",
        "hostname": hostname,
        "role": role,
        "availability": availability,
        "state": state,
        "reachability": reach if reach is not None else ("reachable" if role == "manager" else None),
        "pinned": list(pinned),
        "local": local,
    }


M1 = node("m1", "manager", local=True)


def test_describe_cluster_counts_running_tasks_on_ready_nodes_only():
    nodes = [
        engine_node("w1", "w1"),
        engine_node("m1", "m1", role="manager", leader=True),
        engine_node("w2", "w2", state="down"),
    ]
    services = [
        service("s1", "todo-prod", replicas=3),
        service("s2", "sentinel-traefik"),
        service("s3", "todo-db", 1, ["node.id==w1"]),
    ]
    tasks = [
        task("s1", "w1"),
        task("s1", "w1", state="shutdown", desired="shutdown"),  # an old task
        task("s1", "w2"),  # a down node's task only looks running
        task("s1", "m1", state="starting"),
        task("s2", "m1"),
        task("s3", "w1"),
    ]
    described = _cluster.describe_cluster(nodes, services, tasks, local_id="m1")
    assert [n["hostname"] for n in described["nodes"]] == ["m1", "w1", "w2"]
    by_name = {n["hostname"]: n for n in described["nodes"]}
    assert {h: n["tasks"] for h, n in by_name.items()} == {"m1": 1, "w1": 2, "w2": 0}
    assert by_name["m1"]["leader"] and by_name["m1"]["local"] and by_name["m1"]["reachability"] == "reachable"
    assert by_name["w1"]["reachability"] is None and by_name["w1"]["pinned"] == ["todo-db"]
    assert by_name["w1"]["engine_version"] == "20.10.24" and by_name["w1"]["labels"] == {"zone": "a"}
    # global services have no replica count to compare
    assert described["tasks"] == {"desired": 4, "running": 2}


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        (["node.id==abc"], ("id", "abc")),
        (["node.role == manager", "node.hostname == node2"], ("hostname", "node2")),
        (["node.role==manager"], None),
        (["node.id!=abc"], None),
        ([], None),
    ],
)
def test_pinned_to(constraints, expected):
    assert _cluster.pinned_to(service("s", "x", 1, constraints)) == expected


@pytest.mark.parametrize(
    ("ref", "found", "error"),
    [
        ("w1", "w1", ""),
        ("id-w2", "w2", ""),
        ("id-w", None, "ambiguous"),
        ("nosuch", None, "not in the Swarm"),
        ("", None, "give the node"),
        (None, None, "give the node"),
    ],
)
def test_find_node(ref, found, error):
    nodes = [M1, node("w1"), node("w2")]
    got, why = _cluster.find_node(nodes, ref)
    assert (got["hostname"] if got else None) == found
    assert error in why if error else why == ""


def test_find_node_with_duplicate_hostnames_asks_for_the_id():
    twin = dict(node("w1"), id="other")
    assert "give the node ID" in _cluster.find_node([node("w1"), twin], "w1")[1]


@pytest.mark.parametrize(
    ("nodes", "ref", "availability", "error"),
    [
        ([M1, node("w1")], "w1", "drain", ""),
        ([M1, node("w1")], "w1", "active", ""),
        ([M1, node("w1")], "w1", "pause", "invalid availability"),
        ([M1, node("w1")], "nosuch", "drain", "not in the Swarm"),
        ([M1, node("w1", availability="drain")], "m1", "drain", "only active node"),
        ([M1, node("w1", state="down")], "m1", "drain", "only active node"),
        ([M1, node("w1")], "m1", "drain", "only active manager"),
        ([M1, node("m2", "manager", availability="drain"), node("w1")], "m1", "drain", "only active manager"),
        ([M1, node("m2", "manager"), node("m3", "manager")], "m1", "drain", ""),
        ([M1, node("w1", pinned=["todo-db"]), node("w2")], "w1", "drain", "todo-db cannot move"),
        # already drained: nothing to refuse, and activating is always allowed
        ([M1, node("w1", availability="drain")], "w1", "drain", ""),
        ([node("m1", "manager", availability="drain")], "m1", "active", ""),
        # a down node has no tasks to move
        ([M1, node("w1", state="down")], "w1", "drain", ""),
    ],
)
def test_availability_error(nodes, ref, availability, error):
    got = _cluster.availability_error(nodes, ref, availability)
    assert (error in got) if error else got == ""


@pytest.mark.parametrize(
    ("nodes", "ref", "error"),
    [
        ([M1, node("w1"), node("w2")], "w2", ""),
        ([M1, node("w1", state="down"), node("w2")], "w1", ""),
        ([M1, node("w1")], "m1", "last manager"),
        ([node("m1", "manager", availability="drain", local=True), node("w1")], "w1", "only active node"),
        ([M1, node("w1", availability="drain")], "w1", ""),  # drained already: its tasks left
        ([M1, node("w1", pinned=["todo-db"]), node("w2")], "w1", "holds the data of todo-db"),
        # a lost node's data is lost too: refused unless forced, saying how to restore the database elsewhere
        ([M1, node("w1", state="down", pinned=["todo-db"]), node("w2")], "w1", "sentinel db restore todo"),
        ([M1, node("w1", state="down", pinned=["sentinel-prometheus"])], "w1", "removing it loses that data"),
        ([M1, node("w1")], "nosuch", "not in the Swarm"),
        # 3 managers -> 2: both reachable, a majority of 2
        ([M1, node("m2", "manager"), node("m3", "manager"), node("w1")], "m3", ""),
        # 3 managers, one unreachable: removing a reachable one leaves 1 of 2, below 2
        ([M1, node("m2", "manager", reach="unreachable"), node("m3", "manager"), node("w1")], "m3", "quorum"),
        # removing the unreachable one instead leaves 2 reachable of 2
        ([M1, node("m2", "manager", reach="unreachable", state="down"), node("m3", "manager")], "m2", ""),
        # 5 -> 4 with one unreachable: 3 reachable of 4, majority 3
        (
            [M1, *(node(f"m{i}", "manager") for i in (2, 3, 4)), node("m5", "manager", reach="unreachable")],
            "m4",
            "",
        ),
        # 5 -> 4 with two unreachable: 2 of 4, below 3
        (
            [
                M1,
                node("m2", "manager"),
                node("m3", "manager"),
                *(node(f"m{i}", "manager", reach="unreachable") for i in (4, 5)),
            ],
            "m3",
            "quorum",
        ),
        # the manager Sentinel runs on
        ([M1, node("m2", "manager"), node("m3", "manager")], "m1", "runs on"),
    ],
)
def test_removal_error(nodes, ref, error):
    got = _cluster.removal_error(nodes, ref)
    assert (error in got) if error else got == ""


@pytest.mark.parametrize("state", ["ready", "down"])
def test_force_removes_a_node_whose_data_is_lost_but_keeps_every_other_rule(state):
    w1 = node("w1", state=state, pinned=["todo-db"])
    assert _cluster.removal_error([M1, w1, node("w2")], "w1", force=True) == ""
    assert "last manager" in _cluster.removal_error([node("m1", "manager", pinned=["todo-db"])], "m1", force=True)


@pytest.mark.parametrize(
    ("count", "error"),
    [(1, ""), (3, ""), (5, ""), (0, "no managers"), (2, "odd number (1 or 3)"), (4, "odd number (3 or 5)")],
)
def test_manager_count_error(count, error):
    got = _cluster.manager_count_error(count)
    assert (error in got) if error else got == ""


@pytest.mark.parametrize(
    ("nodes", "ref", "error"),
    [
        ([node("m1", "manager", pinned=["todo-db"]), node("w1")], "w1", ""),
        # there already: nothing to refuse, and nothing to move
        ([node("m1", "manager", pinned=["todo-db"]), node("w1")], "m1", ""),
        ([node("m1", "manager", pinned=["todo-db"]), node("w1", state="down")], "w1", "node w1 is down"),
        ([node("m1", "manager", pinned=["todo-db"]), node("w1", availability="drain")], "w1", "node w1 is drain"),
        ([node("m1", "manager", pinned=["todo-db"])], "nosuch", "not in the Swarm"),
        ([node("m1", "manager", pinned=["todo-db"])], "", "give the node"),
        ([node("m1", "manager"), node("w1")], "w1", "todo-db is pinned to no node"),
        ([node("m1", "manager"), node("w1", state="down", pinned=["todo-db"])], "m1", "node w1 is down: its data"),
    ],
)
def test_db_move_error(nodes, ref, error):
    got = _cluster.db_move_error(nodes, "todo-db", ref)
    assert error in got if error else got == ""


PLACES = [
    node("m1", "manager", pinned=["prometheus"], tasks=5, local=True),
    node("w1", tasks=3),
    node("w2", tasks=1, pinned=["other-db"]),
    node("w3", availability="drain"),
    node("w4", state="down"),
]
EVERY = [n["id"] for n in PLACES]


WITH_DB = PLACES + [node("w5", pinned=["todo-db"])]


@pytest.mark.parametrize(
    ("nodes", "exists", "ref", "kept", "reachable", "placed", "error"),
    [
        # a new database: the fewest pinned services, then the fewest tasks, among those that can run it
        (PLACES, False, "", [], EVERY, "w1", ""),
        (PLACES, False, "", [], ["id-m1", "id-w2"], "w2", ""),  # w1 is not in the inventory (or did not answer)
        ([node("w1", tasks=4), node("w2", tasks=2)], False, "", [], ["id-w1", "id-w2"], "w2", ""),
        (PLACES, False, "m1", [], EVERY, "m1", ""),
        (PLACES, False, "id-w2", [], EVERY, "w2", ""),
        (PLACES, False, "w3", [], EVERY, None, "node w3 is drain"),
        (PLACES, False, "w4", [], EVERY, None, "node w4 is down"),
        (PLACES, False, "nosuch", [], EVERY, None, "not in the Swarm"),
        (PLACES, False, "w1", [], ["id-m1"], None, "node w1 is not in the inventory"),
        (PLACES[3:4], False, "", [], EVERY, None, "no node of the inventory is active and ready"),
        # a destroy kept its volume: that node, even with more pinned services
        (PLACES, False, "", ["id-m1"], EVERY, "m1", ""),
        (PLACES, False, "m1", ["id-m1"], EVERY, "m1", ""),
        (PLACES, False, "w1", ["id-m1"], EVERY, None, "node m1 keeps todo-db's data from before"),
        (PLACES, False, "", ["id-w4"], EVERY, None, "node w4 is down"),
        (PLACES, False, "", ["id-m1", "id-w1"], EVERY, None, "nodes m1 and w1 each keep a volume of todo-db"),
        # an existing database stays: only db move moves its data
        (WITH_DB, True, "", [], EVERY, "w5", ""),
        (WITH_DB, True, "w5", [], EVERY, "w5", ""),
        (WITH_DB, True, "w1", [], EVERY, None, "sentinel db move todo --to w1"),
        (PLACES, True, "w1", [], EVERY, None, "todo-db is pinned to a node that left the Swarm"),
    ],
)
def test_database_placement(nodes, exists, ref, kept, reachable, placed, error):
    got, why = _cluster.database_placement(nodes, "todo-db", exists, ref, kept, reachable)
    assert (got["hostname"] if got else None) == placed
    assert (error in why) if error else why == ""


def test_database_node_is_the_one_its_volume_is_pinned_to():
    nodes = [node("m1", "manager", pinned=["other-db"]), node("w1", pinned=["todo-db", "todo-db-backups"])]
    assert _cluster.database_node(nodes, "todo-db")["hostname"] == "w1"
    assert _cluster.database_node(nodes, "gone-db") is None


@pytest.mark.parametrize(
    ("described", "hosts", "expected"),
    [
        ({"hostname": "node2", "addr": "10.0.0.2"}, {"node1": (None, None), "node2": (None, None)}, "node2"),
        # by the address the node registered with: ansible_host, else the advertise address
        ({"hostname": "ip-10-0-0-2", "addr": "10.0.0.2"}, {"web2": ("10.0.0.2", None)}, "web2"),
        ({"hostname": "ip-10-0-0-2", "addr": "10.0.0.2"}, {"web2": ("web2.example.com", "10.0.0.2")}, "web2"),
        ({"hostname": "ip-10-0-0-2", "addr": "10.0.0.2"}, {"web3": ("10.0.0.3", None)}, ""),
        ({"hostname": "gone", "addr": ""}, {"web": (None, None)}, ""),
        ({}, {"web": (None, None)}, ""),
    ],
)
def test_host_of_node(described, hosts, expected):
    assert _cluster.host_of_node(described, hosts) == expected

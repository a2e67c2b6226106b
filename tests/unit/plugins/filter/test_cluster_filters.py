"""The filters of plugins/filter/cluster.py as playbooks call them (on cluster_info's nodes).

The rules themselves are tested in tests/unit/plugins/module_utils/test_cluster.py; here the
filter signatures, the '' / {} answers and the examples of their docs.
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.filter import cluster

FILTERS = cluster.FilterModule().filters()


def node(hostname, node_id, role="worker", availability="active", state="ready", pinned=(), local=False):
    """A node as cluster_info returns it."""
    return {
        "tasks": 0,
        "id": node_id,
        "hostname": hostname,
        "role": role,
        "availability": availability,
        "state": state,
        "reachability": "reachable" if role == "manager" else None,
        "pinned": list(pinned),
        "local": local,
    }


NODES = [
    node("m1", "aaa111", "manager", local=True),
    node("m2", "aab222", "manager"),
    node("m3", "bbb333", "manager"),
    node("w1", "ccc444"),
    node("w2", "ddd555", pinned=["todo-db"]),
]


def test_the_filters_are_registered():
    assert set(FILTERS) == {
        "node_availability_error",
        "node_removal_error",
        "manager_count_error",
        "find_node",
        "db_move_error",
        "database_node",
        "inventory_host",
        "database_placement",
    }


def test_the_database_filters_take_the_app_name():
    assert FILTERS["database_node"](NODES, "todo")["hostname"] == "w2"
    assert FILTERS["database_node"](NODES, "other") == {}
    assert FILTERS["db_move_error"](NODES, "todo", "w1") == ""
    assert "not in the Swarm" in FILTERS["db_move_error"](NODES, "todo", "nosuch")


def test_database_placement_names_the_node_and_its_inventory_host():
    hostvars = {"web1": {}, "w1": {}, "store": {"ansible_host": "10.0.0.8"}}
    hosts = ["web1", "w1", "store"]
    nodes = [dict(n, addr="10.0.0.8" if n["hostname"] == "w2" else "") for n in NODES]
    nodes[0]["pinned"] = ["prometheus"]
    placement = FILTERS["database_placement"]
    # m1 is the play's own host (web1) and holds Prometheus; m2 and m3 are not in the inventory; w2 (store) holds
    # another database
    assert placement(nodes, "new", False, "", [], hostvars, hosts, "web1") == {
        "node": nodes[3],
        "host": "w1",
        "kept": False,
        "error": "",
    }
    kept = placement(nodes, "new", False, None, ["web1"], hostvars, hosts, "web1")
    assert (kept["node"]["hostname"], kept["host"], kept["kept"]) == ("m1", "web1", True)
    existing = placement(nodes, "todo", True, "", [], hostvars, hosts, "web1")
    assert (existing["host"], existing["kept"]) == ("store", False)
    refused = placement(nodes, "new", False, "m2", [], hostvars, hosts, "web1")
    assert refused == {
        "node": {},
        "host": "",
        "kept": False,
        "error": "node m2 is not in the inventory, or did not answer: the database's commands run on its node",
    }


def test_inventory_host_reads_each_hosts_address_from_hostvars():
    hostvars = {"web1": {"ansible_host": "10.0.0.5"}, "web2": {"control_plane_advertise_addr": "10.0.0.6"}}
    hosts = ["web1", "web2"]
    assert FILTERS["inventory_host"]({"hostname": "x", "addr": "10.0.0.6"}, hostvars, hosts) == "web2"
    assert FILTERS["inventory_host"]({"hostname": "web1", "addr": "10.9.9.9"}, hostvars, hosts) == "web1"
    assert FILTERS["inventory_host"]({}, hostvars, hosts) == ""
    # The play's own node, named otherwise in the inventory (a public address, say): this host.
    local = {"hostname": "ip-10-0-0-9", "addr": "10.0.0.9", "local": True}
    assert FILTERS["inventory_host"](local, hostvars, hosts, "web1") == "web1"
    assert FILTERS["inventory_host"](local, hostvars, hosts) == ""


@pytest.mark.parametrize(
    ("ref", "hostname"), [("w1", "w1"), ("ccc444", "w1"), ("ccc", "w1"), ("bbb", "m3"), ("aab", "m2")]
)
def test_find_node_by_hostname_id_or_prefix(ref, hostname):
    assert FILTERS["find_node"](NODES, ref)["hostname"] == hostname


@pytest.mark.parametrize("ref", ["nope", "aa", "", None])
def test_find_node_gives_an_empty_dict_when_not_unique(ref):
    assert FILTERS["find_node"](NODES, ref) == {}


def test_find_node_prefers_the_hostname():
    nodes = [*NODES, node("ccc", "eee666")]
    assert FILTERS["find_node"](nodes, "ccc")["id"] == "eee666"


@pytest.mark.parametrize(
    ("ref", "availability", "why"),
    [
        ("w1", "drain", ""),
        ("w1", "active", ""),
        ("m2", "drain", ""),
        ("w2", "drain", "cannot move off node w2"),
        ("w1", "pause", "invalid availability 'pause'"),
        ("aa", "drain", "ambiguous"),
        ("nope", "drain", "not in the Swarm"),
    ],
)
def test_node_availability_error(ref, availability, why):
    error = FILTERS["node_availability_error"](NODES, ref, availability)
    assert (why in error) if why else error == ""


def test_node_availability_error_takes_keywords_as_its_docs_name_them():
    assert "cannot move off" in FILTERS["node_availability_error"](NODES, node="w2", availability="drain")


def test_draining_the_only_active_manager_is_refused():
    nodes = [node("m1", "a1", "manager", local=True), node("m2", "a2", "manager", availability="drain"), node("w", "b")]
    assert "only active manager" in FILTERS["node_availability_error"](nodes, "m1", "drain")


@pytest.mark.parametrize(
    ("nodes", "ref", "why"),
    [
        ([*NODES[:3], node("w1", "ccc444", availability="drain"), NODES[4]], "w1", ""),
        (NODES, "w1", ""),  # not drained yet, but draining it would be fine
        (NODES, "w2", "holds the data of todo-db"),
        (NODES, "m1", "the manager Sentinel runs on"),
        ([NODES[0], node("w1", "ccc444")], "m1", "last manager"),
        (NODES, "nope", "not in the Swarm"),
    ],
)
def test_node_removal_error(nodes, ref, why):
    error = FILTERS["node_removal_error"](nodes, ref)
    assert (why in error) if why else error == ""


def test_node_removal_error_with_force_loses_the_data_but_keeps_the_other_rules():
    assert FILTERS["node_removal_error"](NODES, "w2", True) == ""
    assert "the manager Sentinel runs on" in FILTERS["node_removal_error"](NODES, "m1", True)


@pytest.mark.parametrize(("count", "fine"), [(1, True), (3, True), (5, True), ("3", True), (0, False), (2, False)])
def test_manager_count_error(count, fine):
    assert (FILTERS["manager_count_error"](count) == "") is fine


def test_manager_count_error_example_from_its_docs():
    assert FILTERS["manager_count_error"](2) == (
        "the inventory has 2 managers: use an odd number (1 or 3); 2 managers survive no more failures than 1 "
        "and split votes more easily"
    )

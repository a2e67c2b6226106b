# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm nodes as Sentinel sees them, and the rules that keep a cluster alive through changes.

Pure functions over the engine's node, service and task documents: cluster_info describes
nodes with them, and the playbooks validate drain, activate and remove requests with them
(through the filters in plugins/filter/cluster.py) before touching the cluster.
Private to this collection.
"""

from __future__ import annotations

import re

AVAILABILITIES = ("active", "drain")
# Placement constraints that tie a service to one node (swarm_app pins NAME-db to its volume's node).
_PIN = re.compile(r"\s*node\.(id|hostname)\s*==\s*(\S+)\s*")


def pinned_to(service: dict) -> tuple[str, str] | None:
    """("id" | "hostname", value) when a placement constraint ties the service to one node."""
    placement = service["Spec"]["TaskTemplate"].get("Placement") or {}
    for constraint in placement.get("Constraints") or []:
        match = _PIN.fullmatch(constraint)
        if match:
            return match.group(1), match.group(2)
    return None


def replicas(service: dict) -> int | None:
    """Desired replicas of a replicated service; None for a global one."""
    return ((service["Spec"].get("Mode") or {}).get("Replicated") or {}).get("Replicas")


def running_tasks(tasks: list[dict], ready_node_ids: set[str]) -> list[dict]:
    """Tasks that run and are meant to: a task on a node that is down only looks running."""
    return [
        t
        for t in tasks
        if t.get("DesiredState") == "running"
        and t["Status"]["State"] == "running"
        and t.get("NodeID") in ready_node_ids
    ]


def describe_node(node: dict, task_count: int, pinned: list[str], local_id: str | None) -> dict:
    """What `sentinel cluster inspect` shows of one node (engine document -> flat dict)."""
    spec, status = node["Spec"], node.get("Status") or {}
    manager = node.get("ManagerStatus")
    return {
        "id": node["ID"],
        "hostname": node["Description"]["Hostname"],
        "addr": status.get("Addr", ""),
        "role": spec.get("Role", "worker"),
        "availability": spec.get("Availability", "active"),
        "state": status.get("State", "unknown"),
        "leader": bool(manager and manager.get("Leader")),
        "reachability": manager.get("Reachability") if manager else None,
        "engine_version": (node["Description"].get("Engine") or {}).get("EngineVersion", ""),
        "labels": spec.get("Labels") or {},
        "tasks": task_count,
        "pinned": sorted(pinned),
        "local": node["ID"] == local_id,
    }


def describe_cluster(nodes: list[dict], services: list[dict], tasks: list[dict], local_id: str | None) -> dict:
    """Nodes with their Sentinel task counts, and whether the replicated Sentinel services run in full.

    ``services`` and ``tasks`` are those of Sentinel services only.
    """
    ready = {n["ID"] for n in nodes if (n.get("Status") or {}).get("State") == "ready"}
    running = running_tasks(tasks, ready)
    per_node: dict[str, int] = {}
    for task in running:
        per_node[task["NodeID"]] = per_node.get(task["NodeID"], 0) + 1
    pins: dict[str, list[str]] = {}
    for service in services:
        pin = pinned_to(service)
        if pin:
            kind, value = pin
            for node in nodes:
                if (node["ID"] if kind == "id" else node["Description"]["Hostname"]) == value:
                    pins.setdefault(node["ID"], []).append(service["Spec"]["Name"])
    described = [describe_node(n, per_node.get(n["ID"], 0), pins.get(n["ID"], []), local_id) for n in nodes]
    described.sort(key=lambda n: (n["role"] != "manager", n["hostname"]))
    replicated = {s["ID"]: replicas(s) for s in services if replicas(s) is not None}
    return {
        "nodes": described,
        "tasks": {
            "desired": sum(replicated.values()),
            "running": sum(1 for t in running if t["ServiceID"] in replicated),
        },
    }


# -- the rules --------------------------------------------------------------------------
def find_node(nodes: list[dict], ref: str) -> tuple[dict | None, str]:
    """The described node named ``ref`` (hostname, ID or unique ID prefix), or (None, why not)."""
    if not isinstance(ref, str) or not ref.strip():
        return None, "give the node: its hostname or ID (sentinel cluster inspect lists them)"
    by_name = [n for n in nodes if n["hostname"] == ref]
    if len(by_name) == 1:
        return by_name[0], ""
    if len(by_name) > 1:
        return None, f"several nodes are called {ref}: give the node ID instead"
    by_id = [n for n in nodes if n["id"].startswith(ref)]
    if len(by_id) == 1:
        return by_id[0], ""
    if len(by_id) > 1:
        return None, f"node ID prefix {ref} is ambiguous: give more of it"
    return None, f"node {ref} is not in the Swarm (sentinel cluster inspect lists the nodes)"


def _schedulable(node: dict) -> bool:
    return node["availability"] == "active" and node["state"] == "ready"


def drain_error(nodes: list[dict], node: dict) -> str:
    """Why taking ``node`` out of scheduling would break the cluster; '' when it is safe."""
    others = [n for n in nodes if n["id"] != node["id"]]
    if node["state"] == "ready" and not any(_schedulable(n) for n in others):
        return f"node {node['hostname']} is the only active node: its tasks would have nowhere to go"
    if node["role"] == "manager" and not any(_schedulable(n) for n in others if n["role"] == "manager"):
        return (
            f"node {node['hostname']} is the only active manager: Traefik (the edge) runs on active "
            "managers only, so every app would go offline"
        )
    if node["pinned"]:
        return (
            f"{', '.join(node['pinned'])} cannot move off node {node['hostname']} (pinned there with "
            "its data volume): draining it would stop them"
        )
    return ""


def availability_error(nodes: list[dict], ref: str, availability: str) -> str:
    """Why setting ``ref``'s availability is refused; '' when it may go ahead."""
    if availability not in AVAILABILITIES:
        return f"invalid availability {availability!r}: use {' or '.join(AVAILABILITIES)}"
    node, error = find_node(nodes, ref)
    if node is None:
        return error
    if availability == "drain" and node["availability"] != "drain":
        return drain_error(nodes, node)
    return ""


def quorum_error(nodes: list[dict], node: dict) -> str:
    """Why removing the manager ``node`` would lose the Raft majority; '' when the rest keep it."""
    managers = [n for n in nodes if n["role"] == "manager"]
    if len(managers) <= 1:
        return f"node {node['hostname']} is the last manager: the Swarm cannot run without one"
    rest = [n for n in managers if n["id"] != node["id"]]
    reachable = [n for n in rest if n["reachability"] == "reachable"]
    majority = len(rest) // 2 + 1
    if len(reachable) < majority:
        return (
            f"removing manager {node['hostname']} would leave {len(reachable)} reachable of {len(rest)} "
            f"managers, below the majority of {majority} the Swarm needs (quorum): bring the "
            "unreachable managers back first"
        )
    return ""


def data_loss_error(node: dict) -> str:
    """What removing ``node`` would lose for good: the services pinned there with their volumes."""
    if not node["pinned"]:
        return ""
    databases = [name[: -len("-db")] for name in node["pinned"] if name.endswith("-db")]
    restore = (
        f"; move a database off it first while it is up (sentinel db move {databases[0]} --to OTHER), or, once it "
        f"is lost, deploy the app again and restore its latest backup copied off the node (sentinel db restore "
        f"{databases[0]}, docs/backups.md: 'After losing the database's node')"
        if databases
        else ""
    )
    return (
        f"node {node['hostname']} holds the data of {', '.join(node['pinned'])} (pinned there with its volume): "
        f"removing it loses that data for good{restore}. Give force (--force) to remove it anyway"
    )


def removal_error(nodes: list[dict], ref: str, force: bool = False) -> str:
    """Why removing ``ref`` from the Swarm is refused; '' when it may go ahead. ``force``: even when the data
    pinned to it is lost."""
    node, error = find_node(nodes, ref)
    if node is None:
        return error
    if node["role"] == "manager":
        error = quorum_error(nodes, node)
        if error:
            return error
    if node["local"]:
        return (
            f"node {node['hostname']} is the manager Sentinel runs on (the first of the inventory's "
            "managers): put another manager first in the inventory to remove it"
        )
    if not force and node["pinned"]:
        return data_loss_error(node)
    if node["state"] == "ready" and node["availability"] != "drain":
        return drain_error(nodes, dict(node, pinned=[]) if force else node)
    return ""


def database_node(nodes: list[dict], service: str) -> dict | None:
    """The described node that database ``service`` (NAME-db) is pinned to with its volume; None when none is."""
    return next((n for n in nodes if service in n["pinned"]), None)


def db_move_error(nodes: list[dict], service: str, ref: str) -> str:
    """Why database ``service`` cannot move to node ``ref``; '' when it may (also when it is there already)."""
    node, why = find_node(nodes, ref)
    if node is None:
        return why
    current = database_node(nodes, service)
    if current is None:
        return f"{service} is pinned to no node of the Swarm: there is no volume to move from"
    if service in node["pinned"]:
        return ""
    if current["state"] != "ready":
        return (
            f"{service}'s node {current['hostname']} is {current['state']}: its data cannot be read from there; "
            "restore a backup copied off it (docs/backups.md: 'After losing the database's node')"
        )
    return _database_start_error(node)


def _database_start_error(node: dict) -> str:
    if node["state"] != "ready":
        return f"node {node['hostname']} is {node['state']}: the database could not start there"
    if node["availability"] != "active":
        return f"node {node['hostname']} is {node['availability']}: the database could not start there"
    return ""


def database_placement(
    nodes: list[dict], service: str, exists: bool, ref: str, kept: list[str], reachable: list[str]
) -> tuple[dict | None, str]:
    """The node database ``service`` (NAME-db) lives on after a deploy, or (None, why it cannot).

    ``exists``: whether the service exists; ``ref``: the node the user named, '' for none; ``kept``: IDs of
    nodes holding a volume of the database that a destroy kept; ``reachable``: IDs of the nodes the inventory
    reaches (a database's commands run on its node). An existing database stays where it is: only db move
    moves data. A new one opens a kept volume, so a destroyed app deployed again finds its data; else it goes
    to the named node, else to the node with the fewest pinned services (each holds a volume there: databases,
    Prometheus), then the fewest tasks.
    """
    named = None
    if ref:
        named, why = find_node(nodes, ref)
        if named is None:
            return None, why
    if exists:
        existing = database_node(nodes, service)
        if existing is None:
            return None, (
                f"{service} is pinned to a node that left the Swarm: a deploy does not move its data; restore a "
                "backup copied off that node (docs/backups.md: 'After losing the database's node')"
            )
        if named is not None and named["id"] != existing["id"]:
            return None, (
                f"{service} is on node {existing['hostname']}: a deploy does not move its data; "
                f"sentinel db move {service[: -len('-db')]} --to {named['hostname']} does"
            )
        return existing, ""
    holding = [n for n in nodes if n["id"] in kept]
    if len(holding) > 1:
        return None, (
            f"nodes {' and '.join(n['hostname'] for n in holding)} each keep a volume of {service} from before: "
            "remove the one you do not want first"
        )
    if holding:
        if named is not None and named["id"] != holding[0]["id"]:
            return None, (
                f"node {holding[0]['hostname']} keeps {service}'s data from before (a destroy without "
                "--delete-data): deploy it there, or remove that volume first"
            )
        named = holding[0]
    if named is not None:
        if named["id"] not in reachable:
            return None, (
                f"node {named['hostname']} is not in the inventory, or did not answer: the database's commands run "
                "on its node"
            )
        why = _database_start_error(named)
        return (None, why) if why else (named, "")
    free = sorted(
        (n for n in nodes if _schedulable(n) and n["id"] in reachable), key=lambda n: (len(n["pinned"]), n["tasks"])
    )
    if not free:
        return None, "no node of the inventory is active and ready: the database could not start anywhere"
    return free[0], ""


def host_of_node(node: dict, hosts: dict) -> str:
    """The inventory host of a described node: {host: (ansible_host, advertise address)} matched by name first,
    then by the address the node registered with; '' when the inventory has none."""
    if node.get("hostname") in hosts:
        return node["hostname"]
    return next((host for host, addrs in hosts.items() if node.get("addr") and node["addr"] in addrs), "")


def manager_count_error(count: int) -> str:
    """Swarm managers keep a Raft majority: an even count tolerates no more failures than one fewer."""
    if count < 1:
        return "the inventory has no managers: put at least one host in the 'managers' group"
    if count % 2 == 0:
        return (
            f"the inventory has {count} managers: use an odd number ({count - 1} or {count + 1}); "
            f"{count} managers survive no more failures than {count - 1} and split votes more easily"
        )
    return ""

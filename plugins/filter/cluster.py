# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that let the cluster playbooks refuse a harmful node change before making it.

They take cluster_info's ``nodes`` and return '' when the change is safe, else the reason;
the rules live once in module_utils/_cluster.py.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils import _cluster, _naming


def _node_availability_error(nodes, node, availability):
    return _cluster.availability_error(nodes, node, availability)


def _node_removal_error(nodes, node, force=False):
    return _cluster.removal_error(nodes, node, bool(force))


def _manager_count_error(count):
    return _cluster.manager_count_error(int(count))


def _db_move_error(nodes, app, node):
    return _cluster.db_move_error(nodes, _naming.service_name(app, "db"), node)


def _database_node(nodes, app):
    """The described node the app's database is pinned to; {} when it is pinned to none."""
    return _cluster.database_node(nodes, _naming.service_name(app, "db")) or {}


def _inventory_host(node, hostvars, hosts, here=""):
    """The inventory host among ``hosts`` of a described node; '' when none is. ``here``: the host the play runs on,
    which is the node cluster_info calls local, however the inventory names it."""
    if node.get("local") and here:
        return here
    addrs = {h: (hostvars[h].get("ansible_host"), hostvars[h].get("control_plane_advertise_addr")) for h in hosts}
    return _cluster.host_of_node(node, addrs)


def _database_placement(nodes, app, exists, node, kept_hosts, hostvars, hosts, here):
    """Where the app's database lives after a deploy: {"node": described node or {}, "host": its inventory host,
    "kept": whether it opens a volume a destroy kept, "error": '' or why not}. ``exists``: whether the database
    service exists; ``node``: the node the user named ('' for none); ``kept_hosts``: inventory hosts holding its
    volume; ``hosts``: the inventory hosts it may go to."""
    host_of = {n["id"]: _inventory_host(n, hostvars, hosts, here) for n in nodes}
    kept = [i for i, host in host_of.items() if host and host in kept_hosts]
    placed, error = _cluster.database_placement(
        nodes, _naming.service_name(app, "db"), bool(exists), node or "", kept, [i for i, h in host_of.items() if h]
    )
    return {
        "node": placed or {},
        "host": host_of[placed["id"]] if placed else "",
        "kept": bool(placed) and not exists and placed["id"] in kept,
        "error": error,
    }


def _find_node(nodes, node):
    """The described node named ``node`` (hostname, ID or ID prefix); {} when there is none."""
    return _cluster.find_node(nodes, node)[0] or {}


class FilterModule:
    def filters(self):
        return {
            "node_availability_error": _node_availability_error,
            "node_removal_error": _node_removal_error,
            "manager_count_error": _manager_count_error,
            "find_node": _find_node,
            "db_move_error": _db_move_error,
            "database_node": _database_node,
            "inventory_host": _inventory_host,
            "database_placement": _database_placement,
        }

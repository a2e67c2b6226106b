#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: Describe the nodes of a Sentinel Swarm
description:
  - Read-only. Lists every node of the Swarm with its role, availability, state, manager reachability,
    engine version and labels, and how many tasks of Sentinel services (apps and platform, all with a
    C(sentinel.role) label) run on it.
  - Also tells which Sentinel services are pinned to a node by a placement constraint (an app's database,
    whose volume lives there), and whether the replicated Sentinel services run all their replicas (the
    cluster playbooks wait on that after a drain).
  - Must run against a manager's engine.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
"""

EXAMPLES = r"""
- name: Describe the cluster
  sentinel.paas.cluster_info:
  register: cluster

- name: Fail unless every node is Ready
  ansible.builtin.assert:
    that: cluster.nodes | rejectattr('state', 'eq', 'ready') | list | length == 0
"""

RETURN = r"""
nodes:
  description: Every node, managers first, then by hostname.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Swarm node ID.
      type: str
    hostname:
      description: The node's hostname (C(Description.Hostname)).
      type: str
    addr:
      description: Address the node is reached at (C(Status.Addr)).
      type: str
    role:
      description: V(manager) or V(worker).
      type: str
    availability:
      description: V(active), V(pause) or V(drain).
      type: str
    state:
      description: V(ready), V(down), V(disconnected) or V(unknown).
      type: str
    leader:
      description: Whether this manager leads the Raft group.
      type: bool
    reachability:
      description: A manager's reachability (V(reachable), V(unreachable)); null for workers.
      type: str
    engine_version:
      description: Docker Engine version of the node.
      type: str
    labels:
      description: Node labels (C(Spec.Labels)).
      type: dict
    tasks:
      description: Running tasks of Sentinel services on the node.
      type: int
    pinned:
      description: Sentinel services constrained to this node.
      type: list
      elements: str
    local:
      description: Whether this is the node whose engine the module talks to.
      type: bool
tasks:
  description: Replicas of replicated Sentinel services, desired and running on Ready nodes.
  returned: always
  type: dict
  sample: {desired: 5, running: 5}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _cluster
from ansible_collections.sentinel.paas.plugins.module_utils._naming import LABEL_ROLE
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def read_cluster(swarm):
    services = swarm.services({LABEL_ROLE: None})
    ids = {s["ID"] for s in services}
    # One task listing for all services; the engine keeps old tasks too, running_tasks() sorts them out.
    tasks = [t for t in swarm.tasks() if t.get("ServiceID") in ids]
    return _cluster.describe_cluster(list(swarm.nodes().values()), services, tasks, swarm.local_node_id())


def main():
    module = AnsibleModule(argument_spec=docker_argument_spec(), supports_check_mode=True)
    swarm = Swarm(module)
    try:
        cluster = read_cluster(swarm)
    except APIError as exc:
        module.fail_json(msg=f"Error reading cluster nodes: Docker API: {exc}")
    module.exit_json(changed=False, **cluster)


if __name__ == "__main__":
    main()

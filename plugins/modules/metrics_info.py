#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: metrics_info
short_description: Traffic of an app (production vs canary) and load of the nodes, from Prometheus
description:
  - Read-only. Asks the platform's Prometheus (service C(sentinel-prometheus), see the
    C(sentinel.paas.prometheus) role) for the requests, error ratios and 95th percentile latency
    of O(name)'s production and canary over O(window), as Traefik measured them, and for the CPU,
    memory and disk use of every node (node_exporter).
  - Without a Prometheus service, or when its task is not on this node or not answering, returns
    RV(available=false) and a RV(reason) instead of failing.
  - Without O(name), returns just the nodes.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.metrics
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  name:
    description:
      - The app whose Traefik services C(NAME-prod@swarm) and C(NAME-canary@file) are measured.
      - Versions whose Swarm service (C(NAME-prod), C(NAME-canary)) does not exist are returned as null.
      - Omitted, only the nodes are measured.
    required: false
seealso:
  - module: sentinel.paas.swarm_app_info
"""

EXAMPLES = r"""
- name: How are production and canary of todo doing?
  sentinel.paas.metrics_info:
    name: todo
    window: 10m
  register: todo_metrics

- name: Stop when the canary fails more often than production
  ansible.builtin.assert:
    that: todo_metrics.app.canary.error_ratio_5xx <= todo_metrics.app.prod.error_ratio_5xx + 0.01
  when: todo_metrics.available and todo_metrics.app.canary and todo_metrics.app.canary.requests > 0

- name: Load of every node
  sentinel.paas.metrics_info:
  register: cluster_metrics
"""

RETURN = r"""
available:
  description: Whether Prometheus answered; when false, RV(reason) says why and RV(app) and RV(nodes) are empty.
  returned: always
  type: bool
reason:
  description: Why the numbers are not available (no Prometheus service, its task elsewhere or silent); else null.
  returned: always
  type: str
window:
  description: The window the numbers cover (O(window)).
  returned: always
  type: str
  sample: 5m
app:
  description:
    - By version (V(prod), V(canary)); a version whose service does not exist is null. Null without O(name)
      or when RV(available=false).
    - C(requests) counted over the window from Traefik's raw counters (the value now minus the value a
      window ago; a version whose counter appeared inside the window counts from 0, so its first requests
      count), C(requests_per_second) (the same divided by the window),
      C(error_ratio_5xx) and C(error_ratio_4xx) (share of the answers, 0-1), C(p95_seconds) (latency
      below which 95% of the requests finished). Ratios and latency are null when the window has
      no request.
  returned: always
  type: dict
  sample:
    prod: {requests: 600.0, requests_per_second: 2.0, error_ratio_5xx: 0.0, error_ratio_4xx: 0.0, p95_seconds: 0.012}
    canary: {requests: 60.0, requests_per_second: 0.2, error_ratio_5xx: 0.25, error_ratio_4xx: 0.0, p95_seconds: 0.02}
nodes:
  description:
    - By node hostname (as Swarm and node_exporter report it), C(cpu) (busy share of all CPUs over the
      window), C(memory) (used share) and C(disk) (used share of the fullest real file system), each 0-1.
  returned: always
  type: dict
  sample:
    node1: {cpu: 0.12, memory: 0.43, disk: 0.61}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _metrics
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument, metrics_arguments
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._prometheus import (
    Prometheus,
    query_timeout_error,
)
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(required=False),
            **metrics_arguments(),
        ),
        supports_check_mode=True,
    )
    app, window = module.params["name"], module.params["window"]
    what = f"the metrics of app {app}" if app else "the metrics of the nodes"
    errors = [
        app_name_error(app) if app is not None else None,
        _metrics.window_error(window),
        query_timeout_error(module.params["query_timeout"]),
    ]
    if any(errors):
        module.fail_json(msg=f"Error reading {what}: {'; '.join(e for e in errors if e)}")
    try:
        result = Prometheus(Swarm(module), module.params["query_timeout"]).report(app, window)
    except (APIError, _metrics.PrometheusError) as exc:
        module.fail_json(msg=f"Error reading {what}: {exc}")
    module.exit_json(changed=False, window=window, **result)


if __name__ == "__main__":
    main()

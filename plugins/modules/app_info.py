#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_info
short_description: Everything about one Sentinel app, read in one module run
description:
  - Read-only. What C(sentinel inspect app) and C(sentinel canary status) show, that is the app as
    M(sentinel.paas.swarm_app_info) describes it, its traffic split as M(sentinel.paas.canary_weights_info) reads
    it, its last rollout as M(sentinel.paas.canary_record_info) keeps it and, with O(metrics), its traffic and its
    nodes' load as M(sentinel.paas.metrics_info) asks Prometheus.
  - One module run instead of four. Each run costs a Python start and its imports on the manager, and people wait
    for this read.
  - An unknown app is not an error; C(exists) in RV(app) is false and callers decide.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.metrics
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  metrics:
    description:
      - Ask Prometheus too. Its task must run on this node (see the notes), or RV(metrics) says where it runs;
        any manager reads the rest the same, so run the module there.
    type: bool
    default: true
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
seealso:
  - module: sentinel.paas.swarm_app_info
  - module: sentinel.paas.canary_weights_info
  - module: sentinel.paas.canary_record_info
  - module: sentinel.paas.metrics_info
"""

EXAMPLES = r"""
- name: Read everything about todo
  sentinel.paas.app_info:
    name: todo
    window: 10m
  register: todo

- name: Show its weights
  ansible.builtin.debug:
    msg: "{{ todo.split.weights }}"
  when: todo.app.exists and todo.split.exists
"""

RETURN = r"""
app:
  description: The app, as one entry of RV(sentinel.paas.swarm_app_info#module:apps) (with its tasks).
  returned: always
  type: dict
split:
  description: The traffic split, as M(sentinel.paas.canary_weights_info) returns it (C(exists) false without one).
  returned: always
  type: dict
rollout:
  description: The app's last rollout's record (see M(sentinel.paas.canary_record)), or null without one.
  returned: always
  type: dict
metrics:
  description:
    - As M(sentinel.paas.metrics_info) returns it, C(available), C(reason), C(window), C(app) and C(nodes).
    - With O(metrics=false), or for an app that does not exist, C(available) is false and C(reason) says the
      numbers were not asked for.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _metrics, _naming, _split
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout_record as records
from ansible_collections.sentinel.paas.plugins.module_utils._app_view import describe_app
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument, metrics_arguments
from ansible_collections.sentinel.paas.plugins.module_utils._prometheus import (
    Prometheus,
    query_timeout_error,
)
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            **metrics_arguments(),
            metrics={"type": "bool", "default": True},
        ),
        supports_check_mode=True,
    )
    p = module.params
    app, window = p["name"], p["window"]
    errors = [_naming.app_name_error(app), _metrics.window_error(window), query_timeout_error(p["query_timeout"])]
    if any(errors):
        module.fail_json(msg=f"Error reading app {app}: {'; '.join(e for e in errors if e)}")
    if _split.YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=_split.YAML_IMPORT_ERROR)
    swarm = Swarm(module)
    try:
        rollouts = records.rollouts_of(swarm, app)
        result = {
            "app": describe_app(swarm, app, with_tasks=True),
            "split": _split.split_of(swarm, app),
            "rollout": rollouts[0] if rollouts else None,
        }
        metrics = {"available": False, "reason": "not asked for", "app": None, "nodes": {}}
        if p["metrics"] and result["app"]["exists"]:
            metrics = Prometheus(swarm, p["query_timeout"]).report(app, window)
    except (APIError, ValueError, _metrics.PrometheusError) as exc:
        module.fail_json(msg=f"Error reading app {app}: {exc}")
    module.exit_json(changed=False, metrics={**metrics, "window": window}, **result)


if __name__ == "__main__":
    main()

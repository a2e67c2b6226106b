#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_app_info
short_description: Describe Sentinel apps on a Docker Swarm
description:
  - Read-only. Describes one app (O(name)) or every app found by its services' C(sentinel.app) label,
    with its services (production, canary, database) with image, replicas, update status, release, labels,
    and tasks with the node they run on.
  - An unknown app is not an error; it is returned with C(exists=false) and callers decide.
  - Never returns secret contents (secrets appear by name only).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  name:
    description: App to describe; without it, every app on the Swarm.
    required: false
  tasks:
    description: Include the tasks of every service (node hostname, state, error).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Describe the to-do app
  sentinel.paas.swarm_app_info:
    name: todo
  register: todo

- name: Fail when it is not deployed
  ansible.builtin.assert:
    that: todo.apps[0].exists

- name: List every app
  sentinel.paas.swarm_app_info:
    tasks: false
  register: everything
"""

RETURN = r"""
apps:
  description: One entry per app (just the one asked for with O(name)), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: App name.
      type: str
    exists:
      description: Whether any service of the app exists.
      type: bool
    network:
      description: The app's overlay network, or null when it does not exist.
      type: str
    services:
      description: >-
        By role (V(prod), V(canary), V(baseline), V(db)): name, image, port (the container port Traefik sends
        requests to, null for the database), replicas (desired, running), update_status
        (state and message of the last update, or null), release (the number of the release it runs; production's
        are recorded, see M(sentinel.paas.release_info)), labels, secrets (names), secret_env (secret names by
        C(KEY), as swarm_app's O(sentinel.paas.swarm_app#module:secret_env) made them; never a value), env (as given to
        swarm_app, without the variables the module adds for the database and the secrets), tasks.
      type: dict
    route:
      description:
        - The app's route as M(sentinel.paas.traefik_route_info) returns it
          (RV(sentinel.paas.traefik_route_info#module:route)); null when the app has no router.
      type: dict
    preview:
      description:
        - While a canary takes traffic through the split, how to reach it on purpose (see
          O(sentinel.paas.traefik_route#module:preview_header)); null otherwise.
        - C(header), the header line to send, for example C(X-Sentinel-Canary) then V(always); C(link), a URL that sets
          the preview cookie, for example V(https://todo.example.com/?sentinel-canary=1).
      type: dict
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._app_view import app_names, describe_app
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(required=False),
            tasks={"type": "bool", "default": True},
        ),
        supports_check_mode=True,
    )
    name = module.params["name"]
    if name is not None:
        error = _naming.app_name_error(name)
        if error:
            module.fail_json(msg=f"Error reading app {name}: {error}")
    swarm = Swarm(module)
    try:
        names = [name] if name is not None else app_names(swarm)
        apps = [describe_app(swarm, app, module.params["tasks"]) for app in names]
    except APIError as exc:
        module.fail_json(msg=f"Error reading app {name or '(all)'}: Docker API: {exc}")
    module.exit_json(changed=False, apps=apps)


if __name__ == "__main__":
    main()

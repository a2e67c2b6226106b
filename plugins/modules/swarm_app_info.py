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
from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import parse_route, preview_of


def describe_service(swarm, service, with_tasks):
    s = service["Spec"]
    labels = s.get("Labels") or {}
    container = s["TaskTemplate"]["ContainerSpec"]
    tasks = swarm.service_tasks(s["Name"])
    secrets = [ref["SecretName"] for ref in container.get("Secrets") or []]
    app = labels.get(_naming.LABEL_APP)
    refs = [
        {"name": ref["SecretName"], "target": (ref.get("File") or {}).get("Name")}
        for ref in container.get("Secrets") or []
    ]
    secret_env = spec.secret_env_refs(refs, app) if app else {}
    env = dict(item.split("=", 1) if "=" in item else (item, "") for item in container.get("Env") or [])
    update = service.get("UpdateStatus")
    info = {
        "name": s["Name"],
        "image": container["Image"],
        "port": spec.port_of(labels, app, labels.get(_naming.LABEL_ROLE)),
        "replicas": {
            "desired": ((s.get("Mode") or {}).get("Replicated") or {}).get("Replicas"),
            "running": sum(1 for t in tasks if t["desired_state"] == "running" and t["state"] == "running"),
        },
        "update_status": {"state": update.get("State"), "message": update.get("Message", "")} if update else None,
        "release": spec.release_of(labels) or None,
        "labels": labels,
        "secrets": secrets,
        "secret_env": secret_env,
        # What the user set (swarm_app's env option): the variables the module adds are left out.
        "env": spec.user_env(
            env, has_db=bool(app) and _naming.db_pgpass_secret(app) in secrets, secret_keys=secret_env
        ),
    }
    if with_tasks:
        info["tasks"] = tasks
    return info


def describe_app(swarm, app, with_tasks):
    services = {}
    for role in _naming.ROLES:
        service = swarm.service(_naming.service_name(app, role))
        if service and (service["Spec"].get("Labels") or {}).get(_naming.LABEL_APP) == app:
            services[role] = describe_service(swarm, service, with_tasks)
    network = _naming.app_network(app)
    prod_labels = services["prod"]["labels"] if "prod" in services else {}
    route = parse_route(app, prod_labels)
    return {
        "name": app,
        "exists": bool(services),
        "network": network if swarm.network(network) else None,
        "services": services,
        "route": route,
        "preview": preview_of(route),
    }


def app_names(swarm):
    """Apps with at least one prod, canary or db service (platform services carry role platform)."""
    names = set()
    for service in swarm.services({_naming.LABEL_APP: None}):
        labels = service["Spec"].get("Labels") or {}
        if labels.get(_naming.LABEL_ROLE) in _naming.ROLES:
            names.add(labels[_naming.LABEL_APP])
    return sorted(names)


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

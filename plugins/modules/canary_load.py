#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_load
short_description: Run a load generator that sends requests to a Sentinel app's canary through Traefik
description:
  - Gives a small app enough canary traffic for a verdict (Flagger's load tester). A one-task Swarm service,
    C(sentinel-load-NAME), on the edge network sends O(rps) requests a second to O(path) on the app's domain,
    through Traefik, with the sticky cookie of the canary's share of the split. So every request goes the way
    a user's would, and is the canary's; Traefik counts it as such, and the judge sees it.
  - When the canary cannot answer, the split's guard answers from production, as for any user.
  - With O(baseline), it sends as many requests again with the cookie of the baseline's share, so that the
    canary and its baseline are compared under the same load.
  - The generator stops by itself after O(seconds), so a rollout whose run died does not leave it running for
    long; V(absent) stops it at once.
  - It runs in the platform's Traefik image unless O(image) is given. It needs C(curl) for an app whose route
    is HTTPS (Alpine's busybox C(wget) sends plain HTTP only); a generator that cannot run fails the module
    with its last log line.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
options:
  state:
    description: V(present) runs the generator (a new one when its settings differ or it has ended); V(absent) stops it.
    type: str
    choices: [present, absent]
    default: present
  path:
    description: The path requested, from V(/), query included (C(SENTINEL_LOAD_PATH) in the service's env).
    type: str
    default: /
  rps:
    description: Requests a second, 1 to 500 (C(SENTINEL_LOAD_RPS)), per share with O(baseline).
    type: int
    default: 10
  seconds:
    description: How long the generator runs before it stops by itself (C(SENTINEL_LOAD_SECONDS)).
    type: int
    default: 3600
  baseline:
    description: Also send O(rps) requests a second to the baseline's share (a rollout with a baseline).
    type: bool
    default: false
  cookie_name:
    description: The split's sticky cookie, if it was given another name than the default.
    type: str
  image:
    description:
      - The image to run the generator in (the service's C(ContainerSpec.Image)); it needs C(/bin/sh) and
        C(curl) or busybox C(wget).
      - If not set, the image of the platform's Traefik service.
    type: str
seealso:
  - module: sentinel.paas.canary_weights
  - module: sentinel.paas.canary_analysis
"""

EXAMPLES = r"""
- name: Send 20 requests a second to todo's canary during its rollout
  sentinel.paas.canary_load:
    name: todo
    path: /api/todos
    rps: 20
    seconds: 1800

- name: Stop it
  sentinel.paas.canary_load:
    name: todo
    state: absent
"""

RETURN = r"""
load:
  description: What the generator does (its environment) and its C(image), null when none runs.
  returned: always
  type: dict
  sample: {SENTINEL_LOAD_URL: "http://todo.example.com/api/todos", SENTINEL_LOAD_RPS: "20", image: "traefik:v3.7"}
changes:
  description: V(load) when the generator is started or stopped, else C(load.FIELD) for each setting that differs.
  returned: always
  type: list
  elements: str
  sample: [load.SENTINEL_LOAD_RPS]
service:
  description: The generator's service name.
  returned: always
  type: str
  sample: sentinel-load-todo
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _job, _load, _naming, _split
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._diff import ChangeSet
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import parse_route

_START_SECONDS = 30  # for its image to be pulled and its task to start


class LoadError(Exception):
    """Why the generator cannot run; nothing was left running."""


def current(swarm, name):
    """(the generator's service, its settings plus image) while it runs; (service or None, None) otherwise."""
    service = swarm.service(name)
    if service is None or _job.outcome(swarm.tasks(name)):
        return service, None
    settings = _load.running_settings(service)
    settings["image"] = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    return service, settings


def wanted(swarm, p):
    """The settings (plus image) the request asks for, from the app's route."""
    app = p["name"]
    prod = swarm.service(_naming.service_name(app, "prod"))
    route = parse_route(app, prod["Spec"].get("Labels") or {}) if prod else None
    if not route or not route["domains"]:
        raise LoadError(f"app {app} has no route: the load goes through Traefik to its domain")
    roles = _naming.SIDE_ROLES if p["baseline"] else ("canary",)
    name = p["cookie_name"] or _naming.sticky_cookie(app)
    cookies = [f"{name}={_split.side_cookie_value(app, role)}" for role in roles]
    settings = _load.settings(route["domains"][0], route["tls"], p["path"], p["rps"], p["seconds"], cookies)
    traefik = swarm.service(_naming.PLATFORM_SERVICES["traefik"])
    if not p["image"] and traefik is None:
        raise LoadError("the platform's Traefik service is not there: run sentinel init, or give an image")
    settings["image"] = p["image"] or traefik["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    return settings


def started(swarm, name):
    """Wait until the generator runs; one that ends at once (no HTTP client in its image) is removed,
    and its last log line says why."""
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        tasks = swarm.tasks(name)
        ended = _job.outcome(tasks)
        if ended:
            lines, _engine_errors = swarm.service_logs(name) or ([], [])
            swarm.remove_service(name)
            last = _job.without_timestamps(lines)[-1:] or [ended["error"] or ended["state"]]
            raise LoadError(f"the generator ended at once ({ended['state']}): {last[0]}")
        if any(t["Status"]["State"] == "running" for t in tasks):
            return
        time.sleep(0.5)


def run(module, swarm):
    p = module.params
    name = _naming.load_service(p["name"])
    service, before = current(swarm, name)
    after = wanted(swarm, p) if p["state"] == "present" else None
    found = ChangeSet()
    # A generator that has ended is there but does nothing: it is replaced, or removed.
    found.record("load", before if before or service is None else {"ended": True}, after)
    changed = found.changed
    if changed and not module.check_mode:
        if service is not None:
            swarm.remove_service(name)
        if after is not None:
            network = swarm.network(_naming.EDGE_NETWORK)
            if network is None:
                raise LoadError(f"no {_naming.EDGE_NETWORK} network: run sentinel init first")
            env = {k: v for k, v in after.items() if k != "image"}
            swarm.create_service(**_load.service_spec(p["name"], after["image"], env, network["Id"]))
            started(swarm, name)
    result = {"changed": changed, "changes": found.changes, "load": after, "service": name}
    if module._diff:
        result["diff"] = found.diff
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            path={"type": "str", "default": "/"},
            rps={"type": "int", "default": 10},
            seconds={"type": "int", "default": 3600},
            baseline={"type": "bool", "default": False},
            cookie_name={"type": "str"},
            image={"type": "str"},
        ),
        supports_check_mode=True,
    )
    app = module.params["name"]
    errors = _load.request_errors(module.params)
    if errors:
        module.fail_json(msg=f"Error with the load generator of app {app}: {'; '.join(errors)}")
    try:
        result = run(module, Swarm(module))
    except LoadError as exc:
        module.fail_json(msg=f"Error with the load generator of app {app}: {exc}")
    except APIError as exc:
        module.fail_json(msg=f"Error with the load generator of app {app}: Docker API: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

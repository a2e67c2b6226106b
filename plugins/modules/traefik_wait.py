#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traefik_wait
short_description: Wait until this host's Traefik serves an app's route and split as written
description:
  - Asks the Traefik task on the host the module runs on, through Traefik's own API, what it serves now, and
    waits until that is what was written. Run it on every host that runs Traefik (the C(managers) group) after a
    change, so that a change is reported done only once every Traefik serves it.
  - The router comes from C(NAME-prod)'s labels (M(sentinel.paas.traefik_route)), which Traefik's Swarm provider
    reads every few seconds; the split from the document M(sentinel.paas.canary_weights) keeps in the Swarm,
    which C(sentinel-traefik-sync) writes into this host's Traefik directory and Traefik's file provider loads.
  - With O(domain), it also requests the domain from Traefik's HTTP port on this host, and waits until the app
    answers. That proves a new app reachable in one module run, rather than a retried request per second.
  - Traefik's API listens on its container's loopback only (C(--entrypoints.traefik.address=127.0.0.1:8080),
    set by the C(control_plane) role); the module reaches it with C(docker exec) and the container's C(wget) or
    C(curl). Nothing is opened to apps or the network.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
options:
  route:
    description:
      - Wait until the app's router C(NAME@swarm) sends to this, named as
        O(sentinel.paas.traefik_route#module:service) names it (V(prod) is C(NAME-prod@swarm), V(split) is
        C(NAME-split@file)).
      - Omitted, the router is not looked at.
    type: str
    choices: [prod, split]
  domain:
    description:
      - Wait until a request for this domain to Traefik's HTTP port on this host gets the app's answer (or the
        redirect to HTTPS), that is anything but Traefik's own C(404 page not found), a refused connection, or a
        504 (Traefik not reaching a task yet, as just after a new task joined the overlay).
      - Omitted, nothing is requested.
    type: str
  split:
    description:
      - Wait until Traefik's C(NAME-split@file) has the children and weights of the split kept in the Swarm (and is
        gone when the split is). V(false) does not look at the split.
    type: bool
    default: false
  reach:
    description:
      - With O(split=true) (required), also wait until Traefik's container gets an HTTP answer (any status) from
        each load balancer of the split as the Swarm keeps it (the canary's, the baseline's), by the Swarm name
        Traefik dials. It asks for C(/.well-known/sentinel-reach), a path no app serves, so that the app's own
        routes see no request from it. A new task's name reaches each node's DNS a moment after the task runs;
        until then the canary's guard sends its share to production, so a canary would be reported started but
        take no traffic.
    type: bool
    default: false
  maintenance:
    description:
      - V(true) waits until Traefik serves the app's maintenance router C(NAME-maintenance@file)
        (O(sentinel.paas.traefik_route#module:maintenance)), which needs the page's service C(sentinel-maintenance)
        that the C(control_plane) role runs; V(false) waits until it serves none. Omitted, it is not looked at.
    type: bool
  wait_timeout:
    description: Seconds to wait before failing.
    type: int
    default: 30
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
    details: Reads what Traefik serves once and waits for nothing, since check mode changed nothing to wait for.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: It only reads.
requirements:
  - PyYAML on the host the module runs on, with O(split=true) (Debian package C(python3-yaml))
seealso:
  - module: sentinel.paas.traefik_route
  - module: sentinel.paas.canary_weights
"""

EXAMPLES = r"""
- name: Route todo through its split
  sentinel.paas.traefik_route:
    name: todo
    service: split
  run_once: true

- name: Wait until every Traefik sends todo's traffic through the split
  sentinel.paas.traefik_wait:
    name: todo
    route: split
    split: true

- name: Wait until this manager's Traefik answers todo.example.com with the app
  sentinel.paas.traefik_wait:
    name: todo
    domain: todo.example.com
"""

RETURN = r"""
route:
  description:
    - The service Traefik's router of the app sends to now (V(prod), V(split), another name, or null).
    - Null too when neither O(route) nor O(split) was asked (Traefik's API is not asked then).
  returned: always
  type: str
  sample: split
split:
  description:
    - The children of Traefik's split and their weights now; null when it serves none.
    - Null too when neither O(route) nor O(split) was asked.
  returned: always
  type: dict
  sample: {todo-prod@swarm: 90, todo-canary-guard: 10}
seconds:
  description: How long the module waited.
  returned: always
  type: float
  sample: 1.2
"""

import http.client
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _split, _traefik, _traefik_api
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec

POLL_SECONDS = 0.25


def served(rawdata, app):
    """(route as traefik_route names it, the split's children) that Traefik serves now."""
    target = _traefik_api.routed_service(rawdata, app)
    names = {_traefik_api.route_target(app, service): service for service in ("prod", "split")}
    return names.get(target, target), _traefik_api.split_children(rawdata, app)


def kept_document(swarm, app):
    """The split's document as the Swarm keeps it, None without a split."""
    kept = files.kept(swarm, _naming.split_file(app))
    return _split.parse(files.text_of(kept[0])) if kept else None


def answer(domain):
    """Why Traefik on this host does not answer ``domain`` with the app yet (None once it does)."""
    connection = http.client.HTTPConnection("127.0.0.1", _naming.TRAEFIK_HTTP_PORT, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": domain})
        response = connection.getresponse()
        body = response.read(200)
    except (OSError, http.client.HTTPException) as exc:
        return f"a request for {domain} got no answer ({exc!r})"
    finally:
        connection.close()
    if response.status == 504 or (response.status == 404 and body.startswith(b"404 page not found")):
        return f"a request for {domain} gets Traefik's own {response.status}, not the app"
    return None


def pending(module, swarm, api, app, rawdata, route, split):
    """What Traefik does not serve yet, in words (empty when it serves all that was asked)."""
    waiting = []
    if module.params["domain"]:
        waiting.extend(filter(None, [answer(module.params["domain"])]))
    if module.params["route"] and route != module.params["route"]:
        waiting.append(f"its router sends to {route or 'nothing'}, not {module.params['route']}")
    if module.params["split"]:
        document = kept_document(swarm, app)
        expected = _traefik_api.document_children(document, app)
        if split != expected:
            waiting.append(f"its split is {split}, the Swarm keeps {expected}")
        elif module.params["reach"]:
            unreached = {n: url for n, url in _traefik_api.side_urls(document).items() if not api.reaches(url)}
            waiting.extend(f"it gets no answer from {name} at {url}" for name, url in unreached.items())
    maintenance = module.params["maintenance"]
    router = _naming.maintenance_router(app)
    if (
        maintenance is not None
        and _traefik_api.serves_router(rawdata, router, _naming.TRAEFIK_FILE_PROVIDER) != maintenance
    ):
        waiting.append(
            f"it serves {'no' if maintenance else 'a'} maintenance router {router}"
            + (f" (it needs the service {_traefik.MAINTENANCE_SERVICE}: sentinel init runs it)" if maintenance else "")
        )
    return waiting


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            route={"type": "str", "choices": ["prod", "split"]},
            domain={"type": "str"},
            split={"type": "bool", "default": False},
            reach={"type": "bool", "default": False},
            maintenance={"type": "bool"},
            wait_timeout={"type": "int", "default": 30},
        ),
        required_if=[("reach", True, ("split",))],
        supports_check_mode=True,
    )
    app = module.params["name"]
    error = _naming.app_name_error(app)
    if error:
        module.fail_json(msg=f"Error waiting for Traefik to serve app {app}: {error}")
    if module.params["split"] and _split.YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=_split.YAML_IMPORT_ERROR)
    swarm = Swarm(module)
    api = _traefik_api.TraefikAPI(swarm)
    # Traefik's API is asked only about what its configuration must show (a domain needs the answer alone).
    asks_api = module.params["route"] or module.params["split"] or module.params["maintenance"] is not None
    started = time.monotonic()
    while True:
        try:
            rawdata = api.rawdata() if asks_api else None
            route, split = served(rawdata, app) if rawdata else (None, None)
            waiting = pending(module, swarm, api, app, rawdata, route, split)
        except _traefik_api.Unanswered as exc:
            route, split, waiting = None, None, [f"{_traefik_api.TRAEFIK} on this host cannot be asked: {exc}"]
        except (APIError, OSError, ValueError, KeyError, TypeError) as exc:
            module.fail_json(msg=f"Error waiting for Traefik to serve app {app}: {exc}")
        seconds = round(time.monotonic() - started, 2)
        if not waiting or module.check_mode:
            module.exit_json(changed=False, route=route, split=split, seconds=seconds)
        if seconds > module.params["wait_timeout"]:
            module.fail_json(
                msg=f"Error waiting for Traefik to serve app {app}: after {seconds} s, {'; '.join(waiting)}",
                route=route,
                split=split,
                seconds=seconds,
            )
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traefik_route
short_description: Publish an app through Traefik (routers, TLS, redirect, middlewares)
description:
  - Manages the router side of the Traefik labels on the app's production service C(NAME-prod), that is
    every label starting with C(traefik.http.routers.NAME.), C(traefik.http.routers.NAME-) or
    C(traefik.http.middlewares.NAME-). Every other label of the service is left exactly as it is
    (M(sentinel.paas.swarm_app) owns them).
  - With O(tls=true), router C(NAME) serves the app on the HTTPS entrypoint with a certificate from
    O(cert_resolver), and router C(NAME-http) permanently redirects plain HTTP to https (middleware
    C(NAME-https)). With O(tls=false), router C(NAME) serves the app on the HTTP entrypoint.
  - Only service labels change, so the app's tasks keep running; Traefik picks the change up at its
    next poll of the Swarm.
  - Domains and names are validated before the cluster is touched, so nothing can be injected into
    a Traefik rule.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
options:
  app:
    description: The app name; the labels go on its service C(APP-prod).
    type: str
    required: true
  state:
    description:
      - V(present) writes the route; V(absent) removes every label this module owns and nothing else.
    type: str
    choices: [present, absent]
    default: present
  domains:
    description:
      - Host names that reach the app; sets C(traefik.http.routers.NAME.rule) (and the same rule on
        C(NAME-http)) to one C(Host) matcher per domain, joined with C(||).
      - Lowercased; each must be a full host name (RFC 1123 labels, at least one dot, at most 253
        characters). Wildcards and IP addresses are rejected. The first names the certificate.
      - Required with O(state=present).
    type: list
    elements: str
  entrypoints:
    description: Traefik entrypoints of the routers (C(traefik.http.routers.NAME.entrypoints)).
    type: dict
    default: {}
    suboptions:
      http:
        description: Plain HTTP entrypoint (the app with O(tls=false), the redirect with O(tls=true)).
        type: str
        default: web
      https:
        description: HTTPS entrypoint of the app with O(tls=true).
        type: str
        default: websecure
  tls:
    description:
      - Serve over HTTPS (C(traefik.http.routers.NAME.tls=true)) and redirect HTTP to it
        (C(traefik.http.middlewares.NAME-https.redirectscheme), permanent).
    type: bool
    default: true
  cert_resolver:
    description: ACME resolver for the certificate (C(traefik.http.routers.NAME.tls.certresolver)).
    type: str
    default: sentinel
  middlewares:
    description:
      - Extra middlewares applied to the app router, in order, as Traefik references (V(name) or
        V(name@provider), for example V(auth@file)); sets C(traefik.http.routers.NAME.middlewares).
      - Define them outside C(NAME-prod)'s C(traefik.http.middlewares.NAME-*) labels, which this module owns.
    type: list
    elements: str
    default: []
  service:
    description:
      - Where the app router sends traffic (C(traefik.http.routers.NAME.service)).
      - V(prod) is the Swarm service C(NAME-prod); V(split) is the weighted file-provider service
        C(NAME-split@file) that M(sentinel.paas.canary_weights) writes while a canary takes traffic.
    type: str
    choices: [prod, split]
    default: prod
  retry_attempts:
    description:
      - Attempts of the retry middleware C(NAME-retry) (C(traefik.http.middlewares.NAME-retry.retry.attempts)),
        so a request that meets a task which just stopped in a rolling update is retried on another.
      - V(0) disables it.
    type: int
    default: 3
  priority:
    description: Router priority (C(traefik.http.routers.NAME.priority)); Traefik's default (rule length) when unset.
    type: int
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Before and after of the labels this module owns.
  idempotent:
    support: full
notes:
  - The service C(APP-prod) must exist (deploy the app first with M(sentinel.paas.swarm_app)).
seealso:
  - module: sentinel.paas.traefik_route_info
  - module: sentinel.paas.swarm_app
  - module: sentinel.paas.canary_weights
"""

EXAMPLES = r"""
- name: Publish todo on two domains over HTTPS, HTTP redirected
  sentinel.paas.traefik_route:
    app: todo
    domains: [todo.example.com, www.todo.example.com]

- name: Plain HTTP only, with an extra middleware from the file provider
  sentinel.paas.traefik_route:
    app: todo
    domains: [todo.internal.example.com]
    tls: false
    middlewares: [office-only@file]

- name: Send traffic through the canary split
  sentinel.paas.traefik_route:
    app: todo
    domains: [todo.example.com]
    service: split

- name: Unpublish todo (the service keeps running)
  sentinel.paas.traefik_route:
    app: todo
    state: absent
"""

RETURN = r"""
route:
  description: The route now in place (in check mode, the one that would be), null when absent.
  returned: always
  type: dict
  sample:
    domains: [todo.example.com]
    tls: true
    entrypoints: {http: web, https: websecure}
    cert_resolver: sentinel
    middlewares: []
    service: prod
    retry_attempts: 3
    priority: null
labels:
  description: The labels this module owns on C(APP-prod) after the run.
  returned: always
  type: dict
  sample: {"traefik.http.routers.todo.rule": "Host(`todo.example.com`)"}
changes:
  description: The owned labels that were (or in check mode would be) added, changed or removed.
  returned: always
  type: list
  elements: str
  sample: ["traefik.http.routers.todo.rule"]
diff:
  description: The labels this module owns on C(APP-prod), before and after.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils._diff import changed_keys
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error, service_name
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    Swarm,
    docker_argument_spec,
)
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import (
    DEFAULT_CERT_RESOLVER,
    DEFAULT_ENTRYPOINTS,
    RouteError,
    build_labels,
    desired_route,
    owned_labels,
    replace_owned_labels,
)


class ServiceMissing(Exception):
    pass


class RouteManager:
    def __init__(self, module, swarm):
        self.module = module
        self.swarm = swarm
        self.app = module.params["app"]
        self.service = service_name(self.app, "prod")

    def run(self, route):
        """``route`` is the desired route, or None to remove it."""
        desired = build_labels(self.app, route) if route else {}
        spec = self.swarm.service(self.service)
        if spec is None:
            if route is None:  # nothing to unpublish
                return {
                    "changed": False,
                    "changes": [],
                    "route": None,
                    "labels": {},
                    "diff": {"before": {}, "after": {}},
                }
            raise ServiceMissing(f"service {self.service} not found; deploy the app first")
        current = owned_labels(self.app, spec["Spec"].get("Labels"))
        changes = changed_keys(current, desired)
        if changes and not self.module.check_mode:
            # Applied to the labels as re-read at write time, so a concurrent swarm_app run keeps its own.
            self.swarm.set_service_labels(self.service, lambda labels: replace_owned_labels(self.app, labels, desired))
        return {
            "changed": bool(changes),
            "changes": changes,
            "route": route,
            "labels": desired,
            "diff": {"before": current, "after": desired},
        }


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            app={"type": "str", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            domains={"type": "list", "elements": "str"},
            entrypoints={
                "type": "dict",
                "default": {},
                "options": {
                    "http": {"type": "str", "default": DEFAULT_ENTRYPOINTS["http"]},
                    "https": {"type": "str", "default": DEFAULT_ENTRYPOINTS["https"]},
                },
            },
            tls={"type": "bool", "default": True},
            cert_resolver={"type": "str", "default": DEFAULT_CERT_RESOLVER},
            middlewares={"type": "list", "elements": "str", "default": []},
            service={"type": "str", "choices": ["prod", "split"], "default": "prod"},
            retry_attempts={"type": "int", "default": 3},
            priority={"type": "int"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    present = p["state"] == "present"
    verb = "routing" if present else "removing the route of"
    error = app_name_error(p["app"])
    if error:
        module.fail_json(msg=f"Error {verb} app {p['app']!r}: {error}")
    try:
        route = desired_route(p["app"], p) if present else None
    except RouteError as exc:
        module.fail_json(msg=f"Error {verb} app {p['app']}: {exc}")
    try:
        result = RouteManager(module, Swarm(module)).run(route)
    except (ServiceMissing, APIError) as exc:
        module.fail_json(msg=f"Error {verb} app {p['app']}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

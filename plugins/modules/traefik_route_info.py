#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traefik_route_info
short_description: Read an app's Traefik route back from its service labels
description:
  - Reads the router-side Traefik labels that M(sentinel.paas.traefik_route) owns on C(NAME-prod)
    and returns the route they describe. Changes nothing.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
seealso:
  - module: sentinel.paas.traefik_route
"""

EXAMPLES = r"""
- name: Where is todo published?
  sentinel.paas.traefik_route_info:
    name: todo
  register: todo_route

- name: Show its URLs
  ansible.builtin.debug:
    msg: "{{ todo_route.route.domains | map('regex_replace', '^', 'https://') | list }}"
  when: todo_route.exists and todo_route.route.tls
"""

RETURN = r"""
exists:
  description: Whether C(NAME-prod) exists and carries an app router.
  returned: always
  type: bool
service_exists:
  description: Whether the service C(NAME-prod) exists.
  returned: always
  type: bool
route:
  description:
    - The route, in the shape of M(sentinel.paas.traefik_route)'s options; null when the app has no router.
    - Values edited by hand so that they no longer follow that shape come back raw (C(service),
      C(entrypoints)) or as null (C(domains), see RV(labels) for the raw rule).
  returned: always
  type: dict
  contains:
    domains:
      description: Host names of the rule, in order.
      type: list
      elements: str
    tls:
      description: Whether the app router serves HTTPS (and HTTP redirects to it).
      type: bool
    entrypoints:
      description: C(http) and C(https) entrypoints (C(https) null without TLS).
      type: dict
    cert_resolver:
      description: ACME resolver, null without TLS.
      type: str
    middlewares:
      description: Extra middlewares (the managed retry middleware is not listed).
      type: list
      elements: str
    service:
      description: V(prod) (C(NAME-prod)) or V(split) (C(NAME-split@file)).
      type: str
    retry_attempts:
      description: Attempts of the retry middleware, 0 when off.
      type: int
    priority:
      description: Router priority, null for Traefik's default.
      type: int
    hsts:
      description: Whether the app's HTTPS answers carry C(Strict-Transport-Security) (the middleware C(NAME-hsts)).
      type: bool
    preview_header:
      description:
        - While the route goes through the split, the header whose value V(always) sends a request to the canary
          (and V(never) to production); null otherwise. See O(sentinel.paas.traefik_route#module:preview_header).
      type: str
  sample:
    domains: [todo.example.com]
    tls: true
    entrypoints: {http: web, https: websecure}
    cert_resolver: sentinel
    middlewares: []
    service: prod
    retry_attempts: 3
    priority: null
    hsts: false
    preview_header: null
labels:
  description: The raw router-side labels of C(NAME-prod).
  returned: always
  type: dict
domain_owners:
  description:
    - Every domain an app's route serves in this Swarm, and that app. A domain belongs to one app,
      so M(sentinel.paas.traefik_route) refuses one that another app routes.
  returned: always
  type: dict
  sample: {"todo.example.com": "todo", "shop.example.com": "shop"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error, service_name
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import domain_owners, owned_labels, parse_route


def read_route(swarm, app):
    service = swarm.service(service_name(app, "prod"))
    labels = owned_labels(app, service["Spec"].get("Labels")) if service else {}
    route = parse_route(app, labels)
    return {
        "exists": route is not None,
        "service_exists": service is not None,
        "route": route,
        "labels": labels,
        "domain_owners": domain_owners(swarm.app_services("prod")),
    }


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_name_argument()),
        supports_check_mode=True,
    )
    app = module.params["name"]
    error = app_name_error(app)
    if error:
        module.fail_json(msg=f"Error reading the route of app {app!r}: {error}")
    try:
        result = read_route(Swarm(module), app)
    except APIError as exc:
        module.fail_json(msg=f"Error reading the route of app {app}: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

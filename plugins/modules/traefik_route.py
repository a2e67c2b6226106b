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
    every label starting with C(traefik.http.routers.NAME.), C(traefik.http.routers.NAME-),
    C(traefik.http.middlewares.NAME-) or C(sentinel.maintenance.), and the app's maintenance document
    C(NAME-maintenance.yml) of Traefik's file provider (see O(maintenance)). Every other label of the service is
    left exactly as it is (M(sentinel.paas.swarm_app) owns them).
  - With O(tls=true), router C(NAME) serves the app on the HTTPS entrypoint with a certificate from
    O(cert_resolver), and router C(NAME-http) permanently redirects plain HTTP to https (middleware
    C(NAME-https)). With O(tls=false), router C(NAME) serves the app on the HTTP entrypoint.
  - Only service labels (and the maintenance document) change, so the app's tasks keep running; Traefik picks
    the change up at its next poll of the Swarm.
  - Domains and names are validated before the cluster is touched, so nothing can be injected into
    a Traefik rule.
  - Options shown without a default keep the route's current value when omitted, so O(name) and O(service) alone
    switch where the router sends traffic. When the route is created they take the value given as "on creation".
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
options:
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
      - Required to create the route (and when its rule was edited by hand).
    type: list
    elements: str
  entrypoints:
    description: Traefik entrypoints of the routers (C(traefik.http.routers.NAME.entrypoints)).
    type: dict
    suboptions:
      http:
        description:
          - Plain HTTP entrypoint (the app with O(tls=false), the redirect with O(tls=true)). On creation V(web).
        type: str
      https:
        description: HTTPS entrypoint of the app with O(tls=true). On creation V(websecure).
        type: str
  tls:
    description:
      - Serve over HTTPS (C(traefik.http.routers.NAME.tls=true)) and redirect HTTP to it
        (C(traefik.http.middlewares.NAME-https.redirectscheme), permanent). On creation V(true).
      - This option takes the place of the engine connection's O(tls) of the C(sentinel.paas.docker) fragment, so
        this module reaches the engine without TLS (a local socket or a plain O(docker_host)).
    type: bool
    default: null
  cert_resolver:
    description:
      - ACME resolver for the certificate (C(traefik.http.routers.NAME.tls.certresolver)). On creation V(sentinel).
    type: str
  middlewares:
    description:
      - Extra middlewares applied to the app router, in order, as Traefik references (V(name) or
        V(name@provider), for example V(auth@file)); sets C(traefik.http.routers.NAME.middlewares).
      - Define them outside C(NAME-prod)'s C(traefik.http.middlewares.NAME-*) labels, which this module owns.
      - On creation none.
    type: list
    elements: str
  service:
    description:
      - Where the app router sends traffic (C(traefik.http.routers.NAME.service)).
      - V(prod) is the Swarm service C(NAME-prod); V(split) is the weighted file-provider service
        C(NAME-split@file) that M(sentinel.paas.canary_weights) writes while a canary takes traffic.
      - On creation V(prod).
    type: str
    choices: [prod, split]
  retry_attempts:
    description:
      - Attempts of the retry middleware C(NAME-retry) (C(traefik.http.middlewares.NAME-retry.retry.attempts)),
        so a request that meets a task which just stopped in a rolling update is retried on another.
      - V(0) disables it. On creation V(3).
    type: int
  priority:
    description:
      - Router priority (C(traefik.http.routers.NAME.priority)). On creation unset, which is Traefik's default
        (the rule's length).
    type: int
  hsts:
    description:
      - Send C(Strict-Transport-Security) on the app's HTTPS answers, for a year and its subdomains (the headers
        middleware C(NAME-hsts), C(stsSeconds=31536000), C(stsIncludeSubdomains=true)), so browsers never try plain
        HTTP again. Needs O(tls=true).
      - On creation V(false).
    type: bool
  preview_header:
    description:
      - While O(service=split), a preview of the canary whatever the weights (V(0) included, a dark launch for QA).
        A request whose header of this name is V(always) goes to the canary (router C(NAME-preview), through the
        canary's guard, so it fails over to production), V(never) to production (router C(NAME-pinned)).
        Without the header, the cookie C(sentinel-canary) decides the same way; a link with C(?sentinel-canary=1)
        (or V(0)) sets it to V(always) (or V(never)) and sends the browser back to the page without the parameter
        (routers C(NAME-preview-on), C(NAME-preview-off)).
      - The preview's routers have the app router's entrypoint, TLS and middlewares, so an authentication
        middleware guards the preview too.
      - Ignored with O(service=prod), where no canary takes traffic. Omitted, the preview keeps its current header;
        a route that goes through the split anew gets V(X-Sentinel-Canary).
    type: str
  maintenance:
    description:
      - Maintenance mode. V(true) sends every request for the app's domains to the platform's maintenance page
        (the service C(sentinel-maintenance) of the C(control_plane) role), which answers C(503 Service Unavailable)
        with O(maintenance_message) and a C(Retry-After) header; the app's tasks keep running, untouched, and a
        canary's split, weights and preview stay as they are, behind it. V(false) brings the traffic back.
      - Router C(NAME-maintenance), above every other router of the app (priority 1000000000), on the app
        router's entrypoint and TLS, and middleware C(NAME-maintenance) (headers), in the document
        C(NAME-maintenance.yml) that M(sentinel.paas.traefik_file)'s mirror puts in every manager's Traefik
        directory. Traefik's Swarm provider drops every router of a service that runs no task, so labels would
        leave a stopped production with Traefik's 404; the document keeps the page. Labels
        C(sentinel.maintenance.*) on C(NAME-prod) record the page's settings.
      - On creation V(false).
    type: bool
  maintenance_message:
    description:
      - What the maintenance page says, at most 500 characters, no control characters; HTML is shown as text.
        It travels percent-encoded in a label of C(NAME-prod) and in the document, so it must not be a secret.
      - V("") (or, when maintenance starts, omitted) is the page's own words ("This app is down for maintenance.
        Please try again shortly."). Omitted while in maintenance, the current message stays.
    type: str
  maintenance_retry_after:
    description:
      - Seconds the page's C(Retry-After) header asks clients to wait, 1 to 86400. Omitted while in maintenance,
        the current value stays; when maintenance starts, V(300).
    type: int
attributes:
  diff_mode:
    details: Before and after of the labels this module owns and of the maintenance document's text.
notes:
  - The service C(NAME-prod) must exist (deploy the app first with M(sentinel.paas.swarm_app)); V(absent)
    also removes a maintenance document left without it.
seealso:
  - module: sentinel.paas.traefik_route_info
  - module: sentinel.paas.swarm_app
  - module: sentinel.paas.canary_weights
"""

EXAMPLES = r"""
- name: Publish todo on two domains over HTTPS, HTTP redirected
  sentinel.paas.traefik_route:
    name: todo
    domains: [todo.example.com, www.todo.example.com]

- name: Plain HTTP only, with an extra middleware from the file provider
  sentinel.paas.traefik_route:
    name: todo
    domains: [todo.internal.example.com]
    tls: false
    middlewares: [office-only@file]

- name: Tell browsers to come back over HTTPS only (Strict-Transport-Security); the rest stays
  sentinel.paas.traefik_route:
    name: todo
    hsts: true

- name: Send traffic through the canary split (the rest of the route stays); QA previews with X-QA-Canary
  sentinel.paas.traefik_route:
    name: todo
    service: split
    preview_header: X-QA-Canary

- name: Put todo in maintenance (a 503 page with Retry-After; its tasks keep running)
  sentinel.paas.traefik_route:
    name: todo
    maintenance: true
    maintenance_message: Upgrading the database, back at 14:30 UTC.

- name: Bring todo's traffic back
  sentinel.paas.traefik_route:
    name: todo
    maintenance: false

- name: Unpublish todo (the service keeps running)
  sentinel.paas.traefik_route:
    name: todo
    state: absent
"""

RETURN = r"""
route:
  description:
    - The route now in place (in check mode, the one that would be), null when absent; in the shape of
      M(sentinel.paas.traefik_route_info)'s RV(sentinel.paas.traefik_route_info#module:route), every key set.
  returned: always
  type: dict
  sample: {domains: [todo.example.com], tls: true, entrypoints: {http: web, https: websecure}, service: prod}
preview:
  description:
    - While the route goes through the split, how to reach the canary on purpose; null otherwise.
    - C(header), the header line to send; C(link), a URL that sets the preview cookie.
  returned: always
  type: dict
  sample: {header: "X-Sentinel-Canary: always", link: "https://todo.example.com/?sentinel-canary=1"}
labels:
  description: The labels this module owns on C(NAME-prod) after the run.
  returned: always
  type: dict
  sample: {"traefik.http.routers.todo.rule": "Host(`todo.example.com`)"}
changes:
  description:
    - The owned labels that were (or in check mode would be) added, changed or removed, and C(file
      NAME-maintenance.yml) when the maintenance document was.
  returned: always
  type: list
  elements: str
  sample: ["traefik.http.routers.todo.rule"]
diff:
  description: The labels this module owns on C(NAME-prod), and the maintenance document's text, before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._diff import changed_keys
from ansible_collections.sentinel.paas.plugins.module_utils._naming import (
    app_name_error,
    maintenance_file,
    service_name,
)
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    Swarm,
    docker_argument_spec,
)
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import (
    RouteError,
    build_labels,
    check_given,
    desired_route,
    domain_owners,
    effective_params,
    maintenance_document,
    owned_labels,
    parse_route,
    preview_of,
    render_document,
    replace_owned_labels,
    taken_domain_errors,
)


class RouteManager:
    def __init__(self, module, swarm):
        self.module = module
        self.swarm = swarm
        self.app = module.params["name"]
        self.service = service_name(self.app, "prod")

    def run(self):
        """Compare the route the service has with the one asked for (None: no route), then write."""
        spec = self.swarm.service(self.service)
        present = self.module.params["state"] == "present"
        if spec is None and present:
            raise RouteError(f"service {self.service} not found; deploy the app first")
        current = owned_labels(self.app, spec["Spec"].get("Labels")) if spec else {}
        route = self.desired(parse_route(self.app, current)) if present else None
        taken = (
            taken_domain_errors(self.app, route["domains"], domain_owners(self.swarm.app_services("prod")))
            if route
            else []
        )
        if taken:
            raise RouteError("; ".join(taken))
        desired = build_labels(self.app, route) if route else {}
        changes = changed_keys(current, desired)
        if changes and not self.module.check_mode:
            # Applied to the labels as re-read at write time, so a concurrent swarm_app run keeps its own.
            self.swarm.set_service_labels(self.service, lambda labels: replace_owned_labels(self.app, labels, desired))
        # The maintenance router: a file-provider document, served also while production runs no task.
        file = maintenance_file(self.app)
        versions = _traefik_files.kept(self.swarm, file)
        page_now = _traefik_files.text_of(versions[0]) if versions else None
        page = render_document(maintenance_document(self.app, route))
        if page != page_now:
            changes.append(f"file {file}")
            if not self.module.check_mode:
                _traefik_files.replace(self.swarm, file, page, versions)
        result = {"changed": bool(changes), "changes": changes, "route": route, "labels": desired}
        result["preview"] = preview_of(route)
        if self.module._diff:
            result["diff"] = {
                "before": {"labels": current, "maintenance_file": page_now},
                "after": {"labels": desired, "maintenance_file": page},
            }
        return result

    def desired(self, current_route):
        """The route asked for: given options, else the current route's, else the creation defaults."""
        return desired_route(self.app, effective_params(self.module.params, current_route))


def argument_spec():
    # Options without a default keep the route's current value when omitted (see DOCUMENTATION).
    return docker_argument_spec(
        **app_name_argument(),
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        domains={"type": "list", "elements": "str"},
        entrypoints={"type": "dict", "options": {"http": {"type": "str"}, "https": {"type": "str"}}},
        tls={"type": "bool"},
        cert_resolver={"type": "str"},
        middlewares={"type": "list", "elements": "str"},
        service={"type": "str", "choices": ["prod", "split"]},
        retry_attempts={"type": "int"},
        priority={"type": "int"},
        hsts={"type": "bool"},
        preview_header={"type": "str"},
        maintenance={"type": "bool"},
        maintenance_message={"type": "str"},
        maintenance_retry_after={"type": "int"},
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    name = module.params["name"]
    verb = "routing" if module.params["state"] == "present" else "removing the route of"
    error = app_name_error(name)
    if error:
        module.fail_json(msg=f"Error {verb} app {name!r}: {error}")
    try:
        check_given(name, module.params)
        result = RouteManager(module, Swarm(module)).run()
    except (RouteError, APIError) as exc:
        module.fail_json(msg=f"Error {verb} app {name}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

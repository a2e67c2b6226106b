# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The router side of an app's Traefik labels: validate, build, parse back. Pure functions.

Private to this collection. Label layout for app NAME (see docs/conventions.md):

- router ``NAME``: the app itself (``Host()`` rule, entrypoint, TLS, middlewares, service);
- router ``NAME-http`` (TLS only): the same rule on the plain entrypoint, redirecting to https;
- middlewares ``NAME-https`` (redirectscheme), ``NAME-retry`` (retry) and ``NAME-hsts`` (headers);
- while the app is in maintenance, labels ``sentinel.maintenance.*`` (its record), and the file-provider
  document ``NAME-maintenance.yml``: router ``NAME-maintenance`` above all others, to the platform's page
  (``sentinel-maintenance``), with middleware ``NAME-maintenance`` (the message, Retry-After);
- while the route goes through the split, the canary's preview: routers ``NAME-preview`` (to the
  canary) and ``NAME-pinned`` (to production) for whoever names a side by header or cookie, and
  ``NAME-preview-on``/``-off`` with middlewares ``NAME-preview-on``/``-off``/``-link`` for the links
  that set the cookie.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

from ansible_collections.sentinel.paas.plugins.module_utils._naming import (
    LABEL_APP,
    MAINTENANCE_HEADER,
    MAINTENANCE_LABEL_PREFIX,
    MAINTENANCE_PRIORITY,
    PLATFORM_SERVICES,
    PREVIEW_COOKIE,
    PREVIEW_PARAMETER,
    TRAEFIK_CERT_RESOLVER,
    TRAEFIK_ENTRYPOINTS,
    guard_service,
    hsts_middleware,
    maintenance_middleware,
    maintenance_router,
    preview_middleware,
    preview_router,
    redirect_middleware,
    redirect_router,
    retry_middleware,
    route_label_prefixes,
    router_name,
    service_name,
    split_service,
)

SERVICES = ("prod", "split")
DEFAULT_ENTRYPOINTS = {"http": TRAEFIK_ENTRYPOINTS["http"], "https": TRAEFIK_ENTRYPOINTS["https"]}
# What an omitted option means for a route that does not exist yet: the one place of these
# defaults (traefik_route's DOCUMENTATION says "On creation ..." for each).
ROUTE_DEFAULTS = {
    "tls": True,
    "entrypoints": DEFAULT_ENTRYPOINTS,
    "cert_resolver": TRAEFIK_CERT_RESOLVER,
    "middlewares": [],
    "service": "prod",
    "retry_attempts": 3,
    "priority": None,
    "hsts": False,
    "preview_header": "X-Sentinel-Canary",
    "maintenance": False,
    # None: the page's own words (roles/control_plane/files/maintenance_page.py).
    "maintenance_message": None,
    "maintenance_retry_after": 300,
}
MAX_RETRY_ATTEMPTS = 10
# Strict-Transport-Security: a year, subdomains included (what browsers' preload lists ask for).
HSTS_SECONDS = 31536000
MAINTENANCE_SERVICE = f"{PLATFORM_SERVICES['maintenance']}@swarm"
MAX_MAINTENANCE_MESSAGE = 500
MAX_RETRY_AFTER = 86400
# Kept readable in the label; the rest (commas, quotes, non-ASCII) percent-encoded, so any text fits a header.
_MESSAGE_SAFE = " !'()./:;?@-_~"

_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_HOST_CHARS = re.compile(r"[A-Za-z0-9.-]", re.ASCII)
# Names Traefik accepts in labels (entrypoints, resolvers) and references (``name@provider``).
_TRAEFIK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", re.ASCII)
_MIDDLEWARE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}(?:@[A-Za-z0-9][A-Za-z0-9_-]{0,62})?", re.ASCII)
_HOST_MATCHER = re.compile(r"Host\(`([^`]*)`\)")
_RULE_JOIN = " || "
# An RFC 9110 field-name (a token) without the backtick, which would end a Traefik rule's string.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_|~0-9A-Za-z]+", re.ASCII)
_UNUSABLE_HEADERS = frozenset({"cookie", "host", "content-length", "transfer-encoding", "connection"})
# The canary's preview: the value of the header (or cookie) that sends a request to each side,
# and of the link parameter that sets that cookie.
PREVIEW_VALUES = {"canary": "always", "prod": "never"}
PREVIEW_LINK_VALUES = {"canary": "1", "prod": "0"}
_PREVIEW_HEADER_MATCHER = re.compile(r"Header\(`([^`]+)`, `" + PREVIEW_VALUES["canary"] + r"`\)")


class RouteError(ValueError):
    """Input that must not reach the cluster; the message names the bad value."""


# -- validation -----------------------------------------------------------------------
def domain_error(domain: object) -> str | None:
    """Why ``domain`` cannot go into a Host() rule, or None when it can (after lowercasing)."""
    if not isinstance(domain, str):
        return f"invalid domain {domain!r}: must be a string"
    if domain == "":
        return "invalid domain '': empty"
    if not domain.isascii():
        # Checked before lowercasing: str.lower() maps some non-ASCII letters onto ASCII ones.
        return f"invalid domain {domain!r}: contains non-ASCII characters; use its punycode (xn--) form"
    if "*" in domain:
        return (
            f"invalid domain {domain!r}: wildcards are not supported (a certificate for them needs a "
            "DNS-01 resolver); list each host name"
        )
    bad = [c for c in domain if not _HOST_CHARS.fullmatch(c)]
    if bad:
        return f"invalid domain {domain!r}: contains {bad[0]!r}; only letters, digits, hyphens and dots are allowed"
    if len(domain) > 253:
        return f"invalid domain {domain!r}: longer than 253 characters"
    if domain.endswith("."):
        return f"invalid domain {domain!r}: must not end with a dot"
    labels = domain.lower().split(".")
    if len(labels) < 2:
        return f"invalid domain {domain!r}: needs at least one dot (a full host name like app.example.com)"
    for label in labels:
        if not label:
            return f"invalid domain {domain!r}: has an empty label (a leading dot or two dots in a row)"
        if len(label) > 63:
            return f"invalid domain {domain!r}: label {label[:20]!r}... is longer than 63 characters"
        if not _HOST_LABEL.fullmatch(label):
            return f"invalid domain {domain!r}: label {label!r} must not start or end with a hyphen"
    if labels[-1].isdigit():
        return f"invalid domain {domain!r}: looks like an IP address; route by host name"
    return None


def normalize_domains(domains: object) -> list[str]:
    """Validated, lowercased domains without duplicates, in the given order (the first names the certificate)."""
    if not isinstance(domains, list) or not domains:
        raise RouteError("domains must list at least one host name")
    errors = [e for e in (domain_error(d) for d in domains) if e]
    if errors:
        raise RouteError("; ".join(errors))
    return list(dict.fromkeys(d.lower() for d in domains))


def _traefik_name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _TRAEFIK_NAME.fullmatch(value):
        raise RouteError(f"invalid {kind} {value!r}: use letters, digits, '-' and '_'")
    return value


def normalize_middlewares(app: str, middlewares: object) -> list[str]:
    """Extra middleware references (``name`` or ``name@provider``), each once, not ones this module manages."""
    if middlewares is None:
        return []
    if not isinstance(middlewares, list):
        raise RouteError("middlewares must be a list")
    previews = ("preview_on", "preview_off", "preview_link")
    own = {
        maintenance_middleware(app),
        retry_middleware(app),
        redirect_middleware(app),
        hsts_middleware(app),
        *(preview_middleware(app, k) for k in previews),
    }
    seen = []
    for ref in middlewares:
        if not isinstance(ref, str) or not _MIDDLEWARE_REF.fullmatch(ref):
            raise RouteError(f"invalid middleware {ref!r}: use name or name@provider (letters, digits, '-', '_')")
        name, provider = ref.split("@", 1) if "@" in ref else (ref, "swarm")
        if name in own and provider == "swarm":
            raise RouteError(f"invalid middleware {ref!r}: it is managed by traefik_route itself")
        if ref in seen:
            raise RouteError(f"invalid middleware {ref!r}: listed twice")
        seen.append(ref)
    return seen


def effective_params(params: dict, current: dict | None) -> dict:
    """``params`` with omitted options (None) taken from the ``current`` route (parse_route's
    answer, None when there is none); desired_route fills what is still missing from ROUTE_DEFAULTS."""
    current = current or {}
    effective = {}
    for key in ("domains", *ROUTE_DEFAULTS):
        value = params.get(key)
        if key == "entrypoints":
            # Per entrypoint: the given one, else the current one.
            value = {**_given(current.get(key) or {}), **_given(value or {})}
        elif value is None:
            value = current.get(key)
        if value is not None:
            effective[key] = value
    if "domains" not in effective:
        raise RouteError(
            "the route's rule was edited by hand (it is not the Host() rule Sentinel writes): give the domains"
            if current
            else "domains are required to create the route"
        )
    return effective


def _given(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def desired_route(app: str, params: dict) -> dict:
    """The route the module parameters ask for, validated and normalised (comparable with parse_route).

    Options missing from ``params`` (or None) take their ROUTE_DEFAULTS value.
    """
    return {"domains": normalize_domains(params.get("domains")), **route_settings(app, params)}


def check_given(app: str, params: dict) -> None:
    """Refuse bad given options before the cluster is read; omitted ones come from the current route."""
    if params.get("domains") is not None:
        normalize_domains(params["domains"])
    route_settings(app, params)


def route_settings(app: str, params: dict) -> dict:
    """Everything of the route but its domains, validated, with ROUTE_DEFAULTS for what is missing."""
    params = {**ROUTE_DEFAULTS, **_given(params)}
    tls = bool(params["tls"])
    entrypoints = dict(DEFAULT_ENTRYPOINTS, **{k: v for k, v in (params["entrypoints"] or {}).items() if v})
    service = params["service"]
    if service not in SERVICES:
        raise RouteError(f"invalid service {service!r}: use one of {', '.join(SERVICES)}")
    retry = params["retry_attempts"]
    if not isinstance(retry, int) or isinstance(retry, bool) or not 0 <= retry <= MAX_RETRY_ATTEMPTS:
        raise RouteError(f"invalid retry_attempts {retry!r}: use 0 (off) to {MAX_RETRY_ATTEMPTS}")
    priority = params["priority"]
    # The preview's routers take up to priority + 2; the maintenance router must stay above them all.
    top = MAINTENANCE_PRIORITY - 3
    if priority is not None and (
        not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= top
    ):
        raise RouteError(f"invalid priority {priority!r}: use a positive integer up to {top}")
    hsts = bool(params["hsts"])
    preview_header = params["preview_header"]
    error = preview_header_error(preview_header)
    if error:
        raise RouteError(error)
    if hsts and not tls:
        raise RouteError("hsts needs tls: browsers take Strict-Transport-Security from HTTPS answers only")
    maintenance = bool(params["maintenance"])
    message = params["maintenance_message"] or None  # "" goes back to the page's own words
    error = maintenance_message_error(message) if message else None
    if error:
        raise RouteError(error)
    retry_after = params["maintenance_retry_after"]
    if not isinstance(retry_after, int) or isinstance(retry_after, bool) or not 1 <= retry_after <= MAX_RETRY_AFTER:
        raise RouteError(f"invalid maintenance_retry_after {retry_after!r}: use 1 to {MAX_RETRY_AFTER} seconds")
    return {
        "tls": tls,
        "entrypoints": {
            "http": _traefik_name("entrypoint", entrypoints["http"]),
            "https": _traefik_name("entrypoint", entrypoints["https"]) if tls else None,
        },
        "cert_resolver": _traefik_name("cert_resolver", params["cert_resolver"]) if tls else None,
        "middlewares": normalize_middlewares(app, params["middlewares"]),
        "service": service,
        "retry_attempts": retry,
        "priority": priority,
        "hsts": hsts,
        # The preview exists while the route goes through the split, where the canary is.
        "preview_header": preview_header if service == "split" else None,
        "maintenance": maintenance,
        "maintenance_message": message if maintenance else None,
        "maintenance_retry_after": retry_after if maintenance else None,
    }


def maintenance_message_error(message: object) -> str | None:
    """Why ``message`` cannot be the maintenance page's text, or None when it can."""
    if not isinstance(message, str):
        return f"invalid maintenance message {message!r}: must be text"
    if len(message) > MAX_MAINTENANCE_MESSAGE:
        return f"invalid maintenance message: {len(message)} characters, at most {MAX_MAINTENANCE_MESSAGE}"
    if any(ord(c) < 32 or ord(c) == 127 for c in message):
        return "invalid maintenance message: control characters (such as a line break) are not allowed"
    return None


def preview_header_error(name: object) -> str | None:
    """Why ``name`` cannot be the header that previews the canary, or None when it can."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        return f"invalid preview header {name!r}: a header name is letters, digits and !#$%&'*+-.^_|~ only"
    if name.lower() in _UNUSABLE_HEADERS:
        return f"invalid preview header {name!r}: the client or the proxy sets that header itself; name your own"
    return None


# -- rules and labels -----------------------------------------------------------------
def build_rule(domains: list[str]) -> str:
    """``Host(`a`) || Host(`b`)`` from already validated domains."""
    return _RULE_JOIN.join(f"Host(`{d}`)" for d in domains)


def parse_rule(rule: str) -> list[str] | None:
    """The domains of a rule build_rule made, or None for any other rule (edited by hand)."""
    domains = []
    for part in rule.split(_RULE_JOIN):
        match = _HOST_MATCHER.fullmatch(part)
        if not match or domain_error(match.group(1)) or match.group(1) != match.group(1).lower():
            return None
        domains.append(match.group(1))
    return domains


def service_target(app: str, service: str) -> str:
    """The Traefik service the app router sends traffic to."""
    return service_name(app, "prod") if service == "prod" else f"{split_service(app)}@file"


def build_labels(app: str, route: dict) -> dict[str, str]:
    """Every label traefik_route owns on NAME-prod for ``route`` (a desired_route result)."""
    rule = build_rule(route["domains"])
    middlewares = list(route["middlewares"])
    labels = {}
    if route["hsts"]:
        # Outermost: every HTTPS answer carries it, the app's own errors included.
        middlewares.insert(0, hsts_middleware(app))
        hsts = f"traefik.http.middlewares.{hsts_middleware(app)}.headers"
        labels[f"{hsts}.stsSeconds"] = str(HSTS_SECONDS)
        labels[f"{hsts}.stsIncludeSubdomains"] = "true"
    if route["retry_attempts"]:
        # Innermost, next to the service: a task that just stopped during a rolling update
        # costs a retry on another task, not a failed request.
        middlewares.append(retry_middleware(app))
        labels[f"traefik.http.middlewares.{retry_middleware(app)}.retry.attempts"] = str(route["retry_attempts"])
    labels.update(_router_labels(router_name(app), rule, service_target(app, route["service"]), middlewares, route))
    if route["tls"]:
        labels[f"traefik.http.routers.{router_name(app)}.tls.certresolver"] = route["cert_resolver"]
        labels.update(_redirect_labels(app, rule, route))
    if route["preview_header"]:
        labels.update(_preview_labels(app, rule, middlewares, route))
    if route["maintenance"]:
        labels.update(_maintenance_record(route))
    return labels


def _maintenance_record(route: dict) -> dict[str, str]:
    """What NAME-prod's labels keep of the app's maintenance: the page's Retry-After and message (percent-encoded
    as the page's header carries it, '' for the page's own words). Traefik reads none of it."""
    return {
        f"{MAINTENANCE_LABEL_PREFIX}retry-after": str(route["maintenance_retry_after"]),
        f"{MAINTENANCE_LABEL_PREFIX}message": quote(route["maintenance_message"] or "", safe=_MESSAGE_SAFE),
    }


def maintenance_document(app: str, route: dict | None) -> dict | None:
    """The file-provider document of the app's maintenance (None when it is not in maintenance): router
    NAME-maintenance, above every other router of the app, sends every request for its domains on its entrypoint
    to the platform's page (a 503) instead of the app, whose tasks keep running; its middleware hands the page the
    message and adds Retry-After. With TLS, plain HTTP is still redirected to HTTPS first, where this router
    answers. A file, not labels: Traefik's Swarm provider drops the routers of a service that runs no task, and the
    page must answer most of all while production is stopped (a database move)."""
    if not route or not route["maintenance"]:
        return None
    record = _maintenance_record(route)
    router = {
        "rule": build_rule(route["domains"]),
        "entryPoints": [route["entrypoints"]["https" if route["tls"] else "http"]],
        "service": MAINTENANCE_SERVICE,
        "middlewares": [maintenance_middleware(app)],
        "priority": MAINTENANCE_PRIORITY,
    }
    if route["tls"]:
        router["tls"] = {"certResolver": route["cert_resolver"]}
    # Always set, empty for the page's own words: Traefik then drops a client's header of that name, so no visitor
    # writes the page others see.
    headers = {
        "customRequestHeaders": {MAINTENANCE_HEADER: record[f"{MAINTENANCE_LABEL_PREFIX}message"]},
        "customResponseHeaders": {"Retry-After": record[f"{MAINTENANCE_LABEL_PREFIX}retry-after"]},
    }
    return {
        "http": {
            "routers": {maintenance_router(app): router},
            "middlewares": {maintenance_middleware(app): {"headers": headers}},
        }
    }


def render_document(document: dict | None) -> str | None:
    """A file-provider document's text: JSON, which Traefik's YAML reader takes, in one stable form."""
    return None if document is None else json.dumps(document, indent=2, sort_keys=True) + "\n"


def _router_labels(
    name: str, rule: str, service: str, middlewares: list[str], route: dict, priority: int | None = None
) -> dict[str, str]:
    """One router on the route's entrypoint (HTTPS with ``tls``); ``priority`` None: the route's."""
    router = f"traefik.http.routers.{name}"
    labels = {f"{router}.rule": rule, f"{router}.service": service}
    if middlewares:
        labels[f"{router}.middlewares"] = ",".join(middlewares)
    priority = priority if priority is not None else route["priority"]
    if priority is not None:
        labels[f"{router}.priority"] = str(priority)
    if route["tls"]:
        labels[f"{router}.entrypoints"] = route["entrypoints"]["https"]
        labels[f"{router}.tls"] = "true"
    else:
        labels[f"{router}.entrypoints"] = route["entrypoints"]["http"]
    return labels


def _redirect_labels(app: str, rule: str, route: dict) -> dict[str, str]:
    """Router NAME-http: plain HTTP on the same rule, permanently redirected to HTTPS."""
    redirect = f"traefik.http.routers.{redirect_router(app)}"
    labels = {
        f"{redirect}.rule": rule,
        f"{redirect}.entrypoints": route["entrypoints"]["http"],
        f"{redirect}.middlewares": redirect_middleware(app),
        # The redirect never reaches a backend; noop keeps it valid whatever the app's target is.
        f"{redirect}.service": "noop@internal",
        f"traefik.http.middlewares.{redirect_middleware(app)}.redirectscheme.scheme": "https",
        f"traefik.http.middlewares.{redirect_middleware(app)}.redirectscheme.permanent": "true",
    }
    if route["priority"] is not None:
        labels[f"{redirect}.priority"] = str(route["priority"])
    return labels


# A preview link's URL with its ?sentinel-canary=N taken out (a ? or & may be left, which means nothing).
_LINK_REGEX = rf"^([^?]*\?(?:[^#]*&)?){PREVIEW_PARAMETER}=[01](?:&|$)(.*)$"


def _preview_labels(app: str, rule: str, middlewares: list[str], route: dict) -> dict[str, str]:
    """The canary's preview, whatever the weights (0 included: a dark launch for QA).

    Header ``PREVIEW_HEADER: always`` (or the cookie ``sentinel-canary=always``) reaches the canary,
    through its guard, so a canary that cannot answer still fails over to production; ``never``
    reaches production. The header beats the cookie. A link with ``?sentinel-canary=1`` (or 0)
    sets the cookie and sends the browser back to the page without the parameter. The app's own
    middlewares (authentication) apply to the preview as to the app. Traefik's default priority
    is the rule's length: the preview outranks the app router, a link outranks the preview.
    """
    header = route["preview_header"]
    hosts = f"({rule})"
    priority = route["priority"] or len(rule)
    labels = {}
    for side, other, kind in (("canary", "prod", "preview"), ("prod", "canary", "pinned")):
        value = PREVIEW_VALUES[side]
        cookie = rf"HeaderRegexp(`Cookie`, `(?:^|;\s*){PREVIEW_COOKIE}={value}(?:;|$)`)"
        asked = f"Header(`{header}`, `{value}`) || (!Header(`{header}`, `{PREVIEW_VALUES[other]}`) && {cookie})"
        target = f"{guard_service(app, 'canary')}@file" if side == "canary" else service_target(app, "prod")
        labels.update(
            _router_labels(preview_router(app, kind), f"{hosts} && ({asked})", target, middlewares, route, priority + 1)
        )
    link = preview_middleware(app, "preview_link")
    labels[f"traefik.http.middlewares.{link}.redirectregex.regex"] = _LINK_REGEX
    labels[f"traefik.http.middlewares.{link}.redirectregex.replacement"] = "${1}${2}"
    outer = [m for m in middlewares if m != retry_middleware(app)]  # a link reaches no backend to retry
    for side, kind in (("canary", "preview_on"), ("prod", "preview_off")):
        sets = preview_middleware(app, kind)
        cookie = f"{PREVIEW_COOKIE}={PREVIEW_VALUES[side]}; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if route["tls"] else ""
        )
        labels[f"traefik.http.middlewares.{sets}.headers.customresponseheaders.Set-Cookie"] = cookie
        on_link = f"{hosts} && Query(`{PREVIEW_PARAMETER}`, `{PREVIEW_LINK_VALUES[side]}`)"
        labels.update(
            _router_labels(
                preview_router(app, kind), on_link, "noop@internal", [*outer, sets, link], route, priority + 2
            )
        )
    return labels


def parse_route(app: str, labels: dict) -> dict | None:
    """The route that ``labels`` describe (best effort for hand-edited labels), None without a router.

    Values that are not in the form build_labels writes come back as None (domains) or as
    the raw value (service, entrypoints), so callers can show them.
    """
    main = f"traefik.http.routers.{router_name(app)}"
    rule = labels.get(f"{main}.rule")
    if rule is None:
        return None
    tls = labels.get(f"{main}.tls") == "true"
    redirect = f"traefik.http.routers.{redirect_router(app)}"
    refs = [m for m in labels.get(f"{main}.middlewares", "").split(",") if m]
    retry = labels.get(f"traefik.http.middlewares.{retry_middleware(app)}.retry.attempts")
    targets = {service_target(app, s): s for s in SERVICES}
    target = labels.get(f"{main}.service")
    priority = labels.get(f"{main}.priority")
    retry_after = labels.get(f"{MAINTENANCE_LABEL_PREFIX}retry-after")
    message = labels.get(f"{MAINTENANCE_LABEL_PREFIX}message")
    # Put in maintenance before its router became a document: its labels say so; the next run converts them.
    page = f"traefik.http.middlewares.{maintenance_middleware(app)}.headers"
    if retry_after is None and f"traefik.http.routers.{maintenance_router(app)}.rule" in labels:
        retry_after = labels.get(f"{page}.customresponseheaders.Retry-After", "")
        message = labels.get(f"{page}.customrequestheaders.{MAINTENANCE_HEADER}")
    in_maintenance = retry_after is not None
    return {
        "domains": parse_rule(rule),
        "tls": tls,
        "entrypoints": {
            "http": labels.get(f"{redirect}.entrypoints") if tls else labels.get(f"{main}.entrypoints"),
            "https": labels.get(f"{main}.entrypoints") if tls else None,
        },
        "cert_resolver": labels.get(f"{main}.tls.certresolver") if tls else None,
        "middlewares": [m for m in refs if m not in (retry_middleware(app), hsts_middleware(app))],
        "service": targets.get(target, target),
        "retry_attempts": int(retry) if retry and retry.isdigit() and retry_middleware(app) in refs else 0,
        "priority": int(priority) if priority and priority.isdigit() else None,
        "hsts": hsts_middleware(app) in refs,
        "preview_header": _preview_header(labels.get(f"traefik.http.routers.{preview_router(app, 'preview')}.rule")),
        "maintenance": in_maintenance,
        "maintenance_message": unquote(message) if in_maintenance and message else None,
        "maintenance_retry_after": int(retry_after) if in_maintenance and retry_after.isdigit() else None,
    }


def preview_of(route: dict | None) -> dict | None:
    """How to preview the canary on ``route`` (a parse_route answer): the header to send and a link
    that sets the cookie, in the app's first domain; None while no preview exists."""
    if not route or not route.get("preview_header") or not route.get("domains"):
        return None
    scheme = "https" if route["tls"] else "http"
    return {
        "header": f"{route['preview_header']}: {PREVIEW_VALUES['canary']}",
        "link": f"{scheme}://{route['domains'][0]}/?{PREVIEW_PARAMETER}={PREVIEW_LINK_VALUES['canary']}",
    }


def _preview_header(rule: str | None) -> str | None:
    match = _PREVIEW_HEADER_MATCHER.search(rule or "")
    return match.group(1) if match else None


# -- a domain belongs to one app ------------------------------------------------------
def domain_owners(prod_services: list[dict]) -> dict[str, str]:
    """{domain: app} over the routes of every app, from the engine's NAME-prod service objects."""
    owners = {}
    for service in prod_services:
        labels = service["Spec"].get("Labels") or {}
        app = labels.get(LABEL_APP)
        route = parse_route(app, labels) if app else None
        for domain in (route or {}).get("domains") or []:
            owners.setdefault(domain, app)
    return owners


def taken_domain_errors(app: str, domains: list[str], owners: dict[str, str]) -> list[str]:
    """One message for each of ``domains`` that another app routes (``owners``: domain_owners)."""
    lowered = [domain.lower() for domain in domains]  # routes keep their domains in lower case
    return [
        f"domain {domain} is routed by app {owners[domain]}: a domain belongs to one app "
        f"(change or destroy {owners[domain]} first)"
        for domain in lowered
        if owners.get(domain, app) != app
    ]


# -- ownership ------------------------------------------------------------------------
def is_owned_label(app: str, key: str) -> bool:
    return key.startswith(route_label_prefixes(app))


def owned_labels(app: str, labels: dict | None) -> dict[str, str]:
    return {k: v for k, v in (labels or {}).items() if is_owned_label(app, k)}


def replace_owned_labels(app: str, labels: dict | None, owned: dict[str, str]) -> dict[str, str]:
    """``labels`` with traefik_route's labels replaced by ``owned``; every other label kept as it is."""
    kept = {k: v for k, v in (labels or {}).items() if not is_owned_label(app, k)}
    stray = [k for k in owned if not is_owned_label(app, k)]
    if stray:
        raise ValueError(f"labels not owned by traefik_route: {stray}")
    kept.update(owned)
    return kept

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Traefik file-provider document that splits one app's traffic between prod and canary.

Pure functions (build, render, parse, compare, validate), and split_of, which reads the document kept in the Swarm.
Private to this collection.
"""

from __future__ import annotations

import hashlib
import re
import traceback

from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _traefik_files
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import CREATE_DEFAULTS

try:
    import yaml

    YAML_IMPORT_ERROR = None
except ImportError:  # reported by the modules through missing_required_lib("PyYAML")
    YAML_IMPORT_ERROR = traceback.format_exc()

HEADER = (
    "# Managed by sentinel.paas.canary_weights: do not edit by hand.\n"
    "# Traefik file provider: weighted split of {app} between production and canary.\n"
)

# RFC 6265 cookie-name = token (RFC 2616): visible ASCII except separators.
_COOKIE_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def parse_weight(value: object) -> int:
    """``value`` as the canary's share, an int in 0..100; raises ValueError with the reason.

    Accepts ints, floats without a fraction (Jinja's ``| float``) and integer strings
    (``-e weight=10``); rejects bools, which Python would otherwise count as 0 and 1.
    """
    number = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not 0 <= number <= 100:
        raise ValueError(
            f"invalid weight {value!r}: give the canary's share of traffic as a whole number "
            "from 0 to 100 (production gets the rest)"
        )
    return number


def cookie_name_error(name: object) -> str | None:
    """Why ``name`` is not an RFC 6265 cookie name, or None when it is."""
    if not isinstance(name, str) or not _COOKIE_TOKEN.fullmatch(name):
        return (
            f"invalid cookie name {name!r}: use letters, digits and !#$%&'*+-.^_`|~ only "
            "(an RFC 6265 token: no spaces, quotes, separators or control characters)"
        )
    return None


# What an omitted option means for a split that does not exist yet: the one place of these
# defaults (canary_weights' DOCUMENTATION says "on creation ..."); the cookie's default is
# _naming.sticky_cookie(app), the port's an app's (swarm_app's creation default). A baseline port
# of 0 is no baseline.
SPLIT_DEFAULTS = {"weight": 10, "secure": False, "port": CREATE_DEFAULTS["port"], "baseline_port": 0}


def effective_settings(app: str, given: dict, current: dict) -> dict:
    """desired_document's arguments: each ``given`` option (None: omitted), else what the
    ``current`` split has (read_split's answer, {} without one), else SPLIT_DEFAULTS."""
    current_weight = (current.get("weights") or {}).get("canary")
    choices = {
        "canary_weight": (given.get("weight"), current_weight, SPLIT_DEFAULTS["weight"]),
        "cookie_name": (given.get("cookie_name"), current.get("cookie_name"), _naming.sticky_cookie(app)),
        "secure": (given.get("secure"), current.get("secure"), SPLIT_DEFAULTS["secure"]),
        "port": (given.get("port"), current.get("port"), SPLIT_DEFAULTS["port"]),
        "baseline_port": (given.get("baseline_port"), current.get("baseline_port"), SPLIT_DEFAULTS["baseline_port"]),
    }
    return {key: next(v for v in values if v is not None) for key, values in choices.items()}


def weights(canary_weight: int, baseline_port: int) -> dict:
    """Each child's share: a baseline takes as much as the canary, production the rest."""
    shares = {"prod": 100 - canary_weight * (2 if baseline_port else 1), "canary": canary_weight}
    if baseline_port:
        shares["baseline"] = canary_weight
    return shares


# With a baseline, production keeps at least as much as each of canary and baseline: a weight of
# 0 would take it out of the split (Traefik skips such children), its pinned users with it.
MAX_WEIGHT_WITH_BASELINE = 33


def split_error(canary_weight: int, baseline_port: int) -> str | None:
    """Why a split cannot have these settings, or None."""
    if baseline_port and canary_weight > MAX_WEIGHT_WITH_BASELINE:
        return (
            f"invalid weight {canary_weight} with a baseline: the baseline takes as much as the canary and"
            f" production keeps the largest share, so the canary gets at most {MAX_WEIGHT_WITH_BASELINE}"
        )
    return None


def side_cookie_value(app: str, role: str) -> str:
    """The sticky cookie's value that sends a client to the canary's (or baseline's) share of the
    split: Traefik v3 writes the first 16 hex digits of the SHA-256 of the weighted child's name
    (seen with v3.7)."""
    return hashlib.sha256(_naming.guard_service(app, role).encode()).hexdigest()[:16]


# Answers Traefik gives itself when the canary cannot answer: its name resolves to no task (none
# runs), a dial is refused (a task died) or times out (its node is gone). The guard replays
# those requests on production.
GUARD_FAILOVER_STATUS = ["502-504"]
GUARD_MAX_BODY_BYTES = 1024 * 1024  # a replay needs the request body kept; larger ones are not replayed


def _origin(app: str, role: str) -> str:
    return f"http://{_naming.service_name(app, role)}:"


def side_url(app: str, role: str, port: int) -> str:
    """Where Traefik reaches the canary (or baseline): its Swarm DNS name, every running task's
    address (endpoint mode dnsrr), resolved at each new connection."""
    return f"{_origin(app, role)}{port}"


def _guarded(app: str, role: str, port: int) -> dict:
    """The services of one side role: its guard (failing over to production) and its load balancer."""
    return {
        _naming.guard_service(app, role): {
            "failover": {
                "service": _naming.traefik_service(app, role),
                "fallback": _naming.traefik_service(app, "prod"),
                "errors": {"status": GUARD_FAILOVER_STATUS, "maxRequestBodyBytes": GUARD_MAX_BODY_BYTES},
            }
        },
        _naming.service_name(app, role): {"loadBalancer": {"servers": [{"url": side_url(app, role, port)}]}},
    }


def desired_document(
    app: str, canary_weight: int, cookie_name: str, secure: bool, port: int, baseline_port: int = 0
) -> dict:
    """The dynamic configuration defining the weighted service ``APP-split``, its guards and the canary.

    The canary's share goes through ``APP-canary-guard``, a failover service: whenever the
    canary cannot answer, production does, so a lost canary never takes traffic down with it.
    The canary's service ``APP-canary`` lives here, not in the Swarm provider, which drops a
    service without tasks (and a weighted service whose child is gone answers 404 for all).
    With a ``baseline_port``, ``APP-baseline`` (production's image) takes as much as the canary,
    through its own guard. ValueError when the weights do not fit (:func:`split_error`).
    """
    error = split_error(canary_weight, baseline_port)
    if error:
        raise ValueError(error)
    shares = weights(canary_weight, baseline_port)
    prod = _naming.traefik_service(app, "prod")
    children = [{"name": prod, "weight": shares["prod"]}]
    services = {}
    for role, role_port in (("canary", port), ("baseline", baseline_port)):
        if role in shares:
            children.append({"name": _naming.guard_service(app, role), "weight": shares[role]})
            services.update(_guarded(app, role, role_port))
    sticky = {"cookie": {"name": cookie_name, "secure": secure, "httpOnly": True, "sameSite": "lax"}}
    split = {_naming.split_service(app): {"weighted": {"services": children, "sticky": sticky}}}
    return {"http": {"services": {**split, **services}}}


def render(app: str, document: dict) -> str:
    """The file's text: a stable header, then the document in block style, keys in our order."""
    body = yaml.safe_dump(document, default_flow_style=False, sort_keys=False)
    return HEADER.format(app=app) + body


def parse(text: str) -> object:
    """The YAML document in ``text`` (comments are dropped by the parser); raises ValueError."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc


def normalise(document: object) -> object:
    """A form where equal meaning compares equal: the children of a weighted service become a
    mapping by name, since their order in the list does not matter to Traefik."""
    if isinstance(document, dict):
        out = {}
        for key, value in document.items():
            if key == "weighted" and isinstance(value, dict) and _children_by_name(value.get("services")) is not None:
                value = dict(value, services=_children_by_name(value["services"]))
            out[key] = normalise(value)
        return out
    if isinstance(document, list):
        return [normalise(item) for item in document]
    return document


def _children_by_name(children: object) -> dict | None:
    if not isinstance(children, list) or not all(isinstance(c, dict) and "name" in c for c in children):
        return None
    by_name = {str(c["name"]): {k: v for k, v in c.items() if k != "name"} for c in children}
    return by_name if len(by_name) == len(children) else None


def differences(current: object, desired: object) -> list[str]:
    """Dotted paths where two normalised documents differ (a whole subtree counts once)."""
    if isinstance(current, dict) and isinstance(desired, dict):
        paths = []
        for key in sorted(set(current) | set(desired), key=str):
            if key not in current or key not in desired:
                paths.append(str(key))
            else:
                paths += [f"{key}.{sub}" if sub else str(key) for sub in differences(current[key], desired[key])]
        return paths
    return [] if current == desired else [""]


def read_split(document: object, app: str) -> dict:
    """Weights and cookie of the app's split in a parsed document; raises ValueError if it has none."""
    try:
        weighted = document["http"]["services"][_naming.split_service(app)]["weighted"]
        children = _children_by_name(weighted["services"])
        prod = children[_naming.traefik_service(app, "prod")]["weight"]
        # Splits written before the guard existed name the canary's Swarm service: read them too,
        # so an upgrade keeps their weights (the next write adds the guard).
        legacy = f"{_naming.service_name(app, 'canary')}@{_naming.TRAEFIK_SWARM_PROVIDER}"
        names = (_naming.guard_service(app, "canary"), legacy)
        canary = children[next(n for n in names if n in children)]["weight"]
        baseline = children.get(_naming.guard_service(app, "baseline"), {}).get("weight")
        cookie = weighted.get("sticky", {}).get("cookie", {})
    except (KeyError, TypeError, AttributeError, StopIteration) as exc:
        raise ValueError(f"no weighted service {_naming.split_service(app)} with prod and canary children") from exc
    shares = {"prod": prod, "canary": canary, **({"baseline": baseline} if baseline is not None else {})}
    return {
        "weights": shares,
        "cookie_name": cookie.get("name"),
        "secure": bool(cookie.get("secure", False)),
        "port": _side_port(document, app, "canary"),
        "baseline_port": (_side_port(document, app, "baseline") or 0) if baseline is not None else 0,
    }


def _side_port(document: dict, app: str, role: str) -> int | None:
    """The port of the role's URL in the document, None when it has none of side_url's form."""
    try:
        url = document["http"]["services"][_naming.service_name(app, role)]["loadBalancer"]["servers"][0]["url"]
    except (KeyError, TypeError, IndexError):
        return None
    origin = _origin(app, role)
    port = url[len(origin) :] if isinstance(url, str) and url.startswith(origin) else ""
    return int(port) if port.isdigit() else None


def split_of(swarm, app):
    """What the app's split says; raises ValueError on a foreign document."""
    kept = _traefik_files.kept(swarm, _naming.split_file(app))
    if not kept:
        return {
            "exists": False,
            "config": None,
            "weights": None,
            "cookie_name": None,
            "secure": None,
            "port": None,
            "baseline_port": None,
        }
    split = read_split(parse(_traefik_files.text_of(kept[0])), app)
    return {"exists": True, "config": kept[0]["Spec"]["Name"], **split}

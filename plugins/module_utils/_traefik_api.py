# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a manager's Traefik serves now, from its own API: ``wget`` (busybox's in the official image)
or ``curl`` inside this host's Traefik task through the engine API (``docker exec``). The API listens
on the container's loopback only (TRAEFIK_API_ADDRESS), so neither apps nor the network reach it.

Pure functions read the API's answer; :class:`TraefikAPI` does the one exec. Private to this collection.
"""

from __future__ import annotations

import json

from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _traefik
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import NoLocalTask

TRAEFIK = _naming.PLATFORM_SERVICES["traefik"]
RAWDATA_URL = f"http://{_naming.TRAEFIK_API_ADDRESS}/api/rawdata"
# What reaches() asks a side service for: a path no app serves, so the answer (a 404 will do) costs the
# app nothing and its real routes see no request from Sentinel.
REACH_PATH = "/.well-known/sentinel-reach"
# A router Traefik serves: "warning" is a router with a non-critical error that still takes traffic.
SERVING = ("enabled", "warning")


class Unanswered(Exception):
    """This host's Traefik cannot be asked now (no task here, starting, API off); worth asking again."""


def fetch_command(url: str = RAWDATA_URL, timeout: int = 5) -> list[str]:
    """argv that GETs ``url`` with whichever client the image has; the URL is an argument, never shell text."""
    script = 'if command -v wget >/dev/null 2>&1; then exec wget -q -T "$1" -O - "$2"; fi; exec curl -fsS -m "$1" "$2"'
    return ["sh", "-c", script, "sh", str(int(timeout)), url]


def reach_command(url: str, timeout: int = 2) -> list[str]:
    """argv that exits 0 once ``url`` gives any HTTP answer (an error status too), not while its name does
    not resolve or nothing answers; with whichever client the image has, the URL an argument."""
    script = (
        'if command -v wget >/dev/null 2>&1; then out=$(wget -S -q -O /dev/null -T "$1" "$2" 2>&1); '
        'case "$out" in *HTTP/*) exit 0;; esac; exit 1; fi; '
        'code=$(curl -s -o /dev/null -m "$1" -w "%{http_code}" "$2"); '
        'case "$code" in [1-5][0-9][0-9]) exit 0;; esac; exit 1'
    )
    return ["sh", "-c", script, "sh", str(int(timeout)), url]


def qualified(name: str, provider: str) -> str:
    """A service name as Traefik resolves it from a router or service of ``provider``: ``x`` is ``x@provider``."""
    return name if "@" in name else f"{name}@{provider}"


def routed_service(rawdata: dict, app: str) -> str | None:
    """The service the app's router sends to (provider-qualified), None when Traefik has no such router."""
    router = (rawdata.get("routers") or {}).get(f"{_naming.router_name(app)}@{_naming.TRAEFIK_SWARM_PROVIDER}")
    if not router or router.get("status") not in SERVING or not router.get("service"):
        return None
    return qualified(router["service"], _naming.TRAEFIK_SWARM_PROVIDER)


def serves_router(rawdata: dict, router: str, provider: str) -> bool:
    """Whether Traefik serves ``provider``'s ``router`` (it may exist with an error, unserved)."""
    found = (rawdata.get("routers") or {}).get(f"{router}@{provider}")
    return bool(found) and found.get("status") in SERVING


def route_target(app: str, service: str) -> str:
    """Traefik's name of what traefik_route's ``service`` (prod, split) means."""
    return qualified(_traefik.service_target(app, service), _naming.TRAEFIK_SWARM_PROVIDER)


def split_children(rawdata: dict, app: str) -> dict | None:
    """{child: weight} of the app's weighted split as Traefik loaded it, None when it has none."""
    service = (rawdata.get("services") or {}).get(f"{_naming.split_service(app)}@{_naming.TRAEFIK_FILE_PROVIDER}")
    weighted = (service or {}).get("weighted")
    if not weighted:
        return None
    return {child["name"]: child.get("weight") for child in weighted.get("services") or []}


def document_children(document: dict | None, app: str) -> dict | None:
    """{child: weight} of the app's split in a file-provider document (None for no document)."""
    if document is None:
        return None
    weighted = document["http"]["services"][_naming.split_service(app)]["weighted"]
    return {child["name"]: child.get("weight") for child in weighted["services"]}


def side_urls(document: dict | None) -> dict:
    """{service: URL} of the load balancers a file-provider document defines (the canary's, the baseline's)."""
    services = ((document or {}).get("http") or {}).get("services") or {}
    return {
        name: service["loadBalancer"]["servers"][0]["url"]
        for name, service in services.items()
        if (service.get("loadBalancer") or {}).get("servers")
    }


class TraefikAPI:
    def __init__(self, swarm, timeout: int = 5):
        self.swarm = swarm
        self.timeout = timeout

    def _run(self, argv: list[str]) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``argv`` inside this host's Traefik task."""
        try:
            return self.swarm.exec_in_local_task(TRAEFIK, argv)
        except NoLocalTask as exc:
            raise Unanswered(str(exc)) from None

    def reaches(self, url: str) -> bool:
        """Whether Traefik's container gets an HTTP answer from ``url`` (at REACH_PATH), its name resolved as
        Traefik resolves it."""
        return self._run(reach_command(url.rstrip("/") + REACH_PATH))[0] == 0

    def rawdata(self) -> dict:
        """Every router, service and middleware this host's Traefik runs with now."""
        code, stdout, stderr = self._run(fetch_command(timeout=self.timeout))
        if code != 0:
            raise Unanswered(
                f"its API does not answer on {_naming.TRAEFIK_API_ADDRESS} inside the container "
                f"({(stderr or stdout).strip()[:200] or f'exit {code}'}); sentinel init turns it on"
            )
        try:
            return json.loads(stdout)
        except ValueError:
            raise Unanswered(f"unreadable answer from its API: {stdout[:200]!r}") from None

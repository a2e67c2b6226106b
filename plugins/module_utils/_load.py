# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rollout's load generator (canary_load): a one-task service on the edge network that sends RPS
requests a second to PATH through Traefik, with the sticky cookie of the canary's share, so every
one of them is the canary's (Flagger's load tester, for apps with too few users for a verdict);
as many again to a baseline's share, so the two are compared under the same load.

Private to this collection. Pure: no engine, so every branch is unit-tested.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

LABEL_LOAD = "sentinel.load"
MAX_RPS = 500  # for small apps: a few hundred requests a second at most
REQUEST_TIMEOUT_SECONDS = 10

# POSIX sh, so that it runs in the platform's Traefik image (Alpine's has busybox wget, others curl).
# Each second starts RPS requests per cookie (the canary's, and a baseline's) in a background batch
# that waits for its own: a slow answer does not slow the rate, and finished jobs do not pile up.
# curl connects to Traefik while the URL keeps the app's domain (its Host and TLS server name);
# busybox wget can only set the Host header, so it sends plain HTTP.
SCRIPT = r"""
end=$(( $(date +%s) + SENTINEL_LOAD_SECONDS ))
if command -v curl >/dev/null 2>&1; then
  get() { curl -sSk -o /dev/null -m "$SENTINEL_LOAD_TIMEOUT" --connect-to "::$SENTINEL_LOAD_EDGE:" \
    -b "$1" "$SENTINEL_LOAD_URL"; }
elif command -v wget >/dev/null 2>&1 && [ "${SENTINEL_LOAD_URL#https:}" = "$SENTINEL_LOAD_URL" ]; then
  get() { wget -q -O /dev/null -T "$SENTINEL_LOAD_TIMEOUT" --header "Host: $SENTINEL_LOAD_HOST" \
    --header "Cookie: $1" "http://$SENTINEL_LOAD_EDGE$SENTINEL_LOAD_PATH"; }
else
  echo "the load image needs curl (or busybox wget, for a plain HTTP route)" >&2; exit 2
fi
echo "sending $SENTINEL_LOAD_RPS requests a second per cookie to $SENTINEL_LOAD_URL for $SENTINEL_LOAD_SECONDS s"
while [ "$(date +%s)" -lt "$end" ]; do
  (
    i=0
    while [ "$i" -lt "$SENTINEL_LOAD_RPS" ]; do
      for cookie in $SENTINEL_LOAD_COOKIES; do get "$cookie" & done
      i=$((i + 1))
    done
    wait
  ) &
  sleep 1
done
wait
"""


def request_errors(params: dict) -> list[str]:
    """Everything wrong with a request, before the engine is contacted."""
    errors = [_naming.app_name_error(params["name"])]
    if params["state"] == "present":
        if not (params["path"] or "").startswith("/") or any(c.isspace() for c in params["path"]):
            errors.append(f"invalid path {params['path']!r}: give a path from /, without spaces")
        if not 1 <= params["rps"] <= MAX_RPS:
            errors.append(f"invalid rps {params['rps']}: give 1 to {MAX_RPS} requests a second")
        if params["seconds"] < 1:
            errors.append(f"invalid seconds {params['seconds']}: give at least 1")
    return [error for error in errors if error]


def settings(domain: str, tls: bool, path: str, rps: int, seconds: int, cookies: list[str]) -> dict:
    """What the generator does, as its environment says it (and the diff shows it). ``cookies``:
    NAME=VALUE of each share it sends RPS requests a second to."""
    scheme = "https" if tls else "http"
    return {
        "SENTINEL_LOAD_URL": f"{scheme}://{domain}{path}",
        "SENTINEL_LOAD_HOST": domain,
        "SENTINEL_LOAD_PATH": path,
        # Traefik's tasks by name (tasks.NAME), not its virtual IP: no IPVS needed, as for its host-mode ports.
        "SENTINEL_LOAD_EDGE": f"tasks.{_naming.PLATFORM_SERVICES['traefik']}",
        "SENTINEL_LOAD_RPS": str(rps),
        "SENTINEL_LOAD_SECONDS": str(seconds),
        "SENTINEL_LOAD_TIMEOUT": str(REQUEST_TIMEOUT_SECONDS),
        "SENTINEL_LOAD_COOKIES": " ".join(cookies),
    }


def service_spec(app: str, image: str, env: dict, network_id: str) -> dict:
    """Keyword arguments for APIClient.create_service: one task, ended after its seconds, never restarted."""
    return {
        "name": _naming.load_service(app),
        "labels": {LABEL_LOAD: app},
        "task_template": {
            "ContainerSpec": {
                "Image": image,
                "Command": ["/bin/sh", "-c", SCRIPT],
                "Env": [f"{key}={value}" for key, value in env.items()],
            },
            "RestartPolicy": {"Condition": "none"},
            "Networks": [{"Target": network_id}],
        },
        "mode": {"Replicated": {"Replicas": 1}},
    }


def running_settings(service: dict | None) -> dict | None:
    """The environment of a generator's service (as :func:`settings`), None without one."""
    if service is None:
        return None
    env = service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or []
    return dict(pair.split("=", 1) for pair in env if "=" in pair)

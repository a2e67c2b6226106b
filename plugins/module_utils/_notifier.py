# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's notifier (``sentinel-notifier``, run by the alertmanager role; its program is
roles/alertmanager/files/notifier.py): the receivers it delivers to, each a Docker secret labelled with its name
and kind (the URL or SMTP password inside, never in a label), and the calls the modules make to it inside its
task (``docker exec``): take an event, test the receivers. Private to this collection.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import NoLocalTask

NOTIFIER = _naming.PLATFORM_SERVICES["notifier"]
KINDS = ("webhook", "slack", "email")
# The longest an operation waits for the notifier to take an event (it delivers later, on its own).
SEND_TIMEOUT = 2
# A test delivers at once, each receiver within SEND_TIMEOUT: the call itself may take a little longer.
TEST_TIMEOUT = 5
RECEIVER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?")
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")

# POSTs argv[2] to the path argv[1] on the notifier's port with the task's own Python (the notifier's image has
# it), the body an argument, never shell text; prints the answer and exits 1 on any failure.
_POST = """import http.client, sys
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[4]), timeout=float(sys.argv[3]))
try:
    connection.request("POST", sys.argv[1], sys.argv[2].encode(), {"Content-Type": "application/json"})
    answer = connection.getresponse()
    print(answer.read().decode())
    sys.exit(0 if answer.status < 300 else 1)
except Exception as exc:
    print(type(exc).__name__)
    sys.exit(1)
"""


class NotifierError(Exception):
    """The notifier did not take the call (not running here, refused it, did not answer in time)."""


def secret_name(name: str) -> str:
    return f"{_naming.RECEIVER_SECRET_PREFIX}{name}"


def url_error(url: object) -> str | None:
    """Why ``url`` cannot be a webhook's, or None. The URL is a secret: the message never repeats it."""
    if not isinstance(url, str) or not url:
        return "the URL is missing"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "the URL has spaces or control characters"
    try:  # its message may quote the URL
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "the URL is not a valid http(s) URL"
    if parts.scheme not in ("http", "https") or not host:
        return "the URL must be http:// or https:// with a host name"
    return None


def name_error(name: object) -> str | None:
    if not isinstance(name, str) or not RECEIVER_NAME.fullmatch(name):
        return f"invalid receiver name {name!r}: use 1-30 lowercase letters, digits and hyphens"
    return None


def receiver_error(params: dict) -> str | None:
    """Why the options cannot make a receiver, or None. Never repeats a URL or a password."""
    name, kind = params["name"], params["kind"]
    error = name_error(name) or (_naming.app_name_error(params["app"]) if params.get("app") else None)
    if error:
        return error
    if kind in ("webhook", "slack"):
        error = url_error(params.get("url"))
        return f"invalid {kind} receiver {name}: {error}" if error else None
    if kind != "email":
        return f"invalid receiver kind {kind!r}: use one of {', '.join(KINDS)}"
    email = params.get("email") or {}
    addresses = [email.get("from"), *(email.get("to") or [])]
    bad = [a for a in addresses if not isinstance(a, str) or not _EMAIL.fullmatch(a)]
    if not email.get("to") or bad:
        return f"invalid email receiver {name}: give from and at least one to, each an address like ops@example.com"
    if not isinstance(email.get("host"), str) or not _HOST.fullmatch(email["host"]):
        return f"invalid email receiver {name}: smtp host must be a host name or address"
    if not isinstance(email.get("port"), int) or not 1 <= email["port"] <= 65535:
        return f"invalid email receiver {name}: smtp port must be 1 to 65535"
    return None


def document(params: dict) -> dict:
    """The receiver as the notifier reads it from its secret."""
    body = {"name": params["name"], "kind": params["kind"], "app": params.get("app") or None}
    if params["kind"] == "email":
        body["email"] = params["email"]
    else:
        body["url"] = params["url"]
    return body


def view(secret: dict | None) -> dict | None:
    """What may be shown of a receiver's secret: its name, kind and app (never the URL or password)."""
    if secret is None:
        return None
    labels = secret["Spec"].get("Labels") or {}
    return {
        "name": labels.get(_naming.LABEL_RECEIVER),
        "kind": labels.get(_naming.LABEL_RECEIVER_KIND),
        "app": labels.get(_naming.LABEL_RECEIVER_APP) or None,
    }


def receivers(swarm) -> list[dict]:
    """Every receiver's secret, by name."""
    found = swarm.secrets({_naming.LABEL_RECEIVER: None})
    return sorted(found, key=lambda s: s["Spec"]["Name"])


# How the notifier mounts a receiver: at /run/secrets/<its name>, where the program looks (the same as the
# alertmanager role's docker_swarm_service writes, so neither undoes the other).
MOUNT_MODE = 0o444


def mount(secret: dict) -> dict:
    """The receiver's secret as an entry of docker_swarm_service's ``secrets`` (the alertmanager role)."""
    return {"secret_name": secret["Spec"]["Name"], "filename": secret["Spec"]["Name"], "mode": MOUNT_MODE}


def references(secrets: list[dict]) -> list[dict]:
    """The engine's secret references of the notifier to ``secrets``, mounted as ``mount`` says."""
    return [
        {
            "SecretID": s["ID"],
            "SecretName": s["Spec"]["Name"],
            "File": {"Name": s["Spec"]["Name"], "UID": "0", "GID": "0", "Mode": MOUNT_MODE},
        }
        for s in secrets
    ]


def attach(swarm, secrets: list[dict]) -> bool:
    """Give the notifier exactly ``secrets`` as its receivers (its other secrets stay); its task rolls. False when
    it does not run on this cluster (init adds it, with the receivers there are then)."""
    if swarm.service(NOTIFIER) is None:
        return False

    def build(current):
        others = [r for r in current if not r["SecretName"].startswith(_naming.RECEIVER_SECRET_PREFIX)]
        return others + references(secrets)

    swarm.set_service_secrets(NOTIFIER, build)
    return True


def attached(swarm) -> list[str] | None:
    """The receiver secrets the notifier mounts now, None when it does not run on this cluster."""
    service = swarm.service(NOTIFIER)
    if service is None:
        return None
    refs = service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []
    return sorted(r["SecretName"] for r in refs if r["SecretName"].startswith(_naming.RECEIVER_SECRET_PREFIX))


class Notifier:
    def __init__(self, swarm):
        self.swarm = swarm

    def post(self, path: str, body: dict, timeout: float = SEND_TIMEOUT) -> dict:
        """The notifier's JSON answer to ``body`` POSTed to ``path``, asked inside its task on this host."""
        argv = ["python3", "-c", _POST, path, json.dumps(body), str(timeout), str(_naming.NOTIFIER_PORT)]
        try:
            code, stdout, stderr = self.swarm.exec_in_local_task(NOTIFIER, argv)
        except NoLocalTask as exc:
            raise NotifierError(str(exc)) from None
        if code != 0:
            raise NotifierError(f"it did not take the call: {(stdout or stderr).strip()[:200]}")
        try:
            return json.loads(stdout)
        except ValueError:
            raise NotifierError(f"unreadable answer: {stdout[:200]!r}") from None


def tell(swarm, payload: dict) -> tuple[list[str] | None, str | None]:
    """Hand ``payload`` (an event) to the notifier: (the receivers it queued it for, None when it was not handed
    over; why not, when that is news). Never raises: an operation goes on whatever becomes of its notifications,
    an engine that does not answer included. Without a notifier on this cluster there is no receiver either, and
    nothing to say."""
    try:
        if swarm.service(NOTIFIER) is None:
            return None, None
        return Notifier(swarm).post("/events", payload).get("queued", []), None
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the operation goes on
        return None, f"the receivers were not told of {payload.get('type')}: {exc}"

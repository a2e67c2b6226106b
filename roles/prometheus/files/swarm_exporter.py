# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Prometheus exporter of the Swarm's app tasks: how many each app's services want, how many run.

Prometheus cannot see whether an app has a healthy task, but the Swarm knows: Docker's healthcheck keeps
a task out of "running" until it passes. The alerts on an app without a healthy task, or its database
down, read these series. The engine's API comes through sentinel-docker-proxy's socket (read calls
only), read again on every scrape. Standard library only: the service runs it in a plain Python image.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import sys
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The labels of an app's services: LABEL_APP, LABEL_ROLE and ALERT_LABEL_PREFIX in plugins/module_utils/_naming.py.
LABEL_APP = "sentinel.app"
LABEL_ROLE = "sentinel.role"
# On production's service (app_alerts): an alert threshold of the app, such as sentinel.alert.p95-seconds=0.5.
ALERT_LABEL_PREFIX = "sentinel.alert."

DEFAULT_SOCKET = "/var/lib/sentinel/docker-proxy/docker.sock"
DEFAULT_PORT = 9324
ENGINE_TIMEOUT = 2  # seconds the engine may stall a call: under the scrape timeout, so a stuck engine reads as 0
# The Swarm keeps stopped and replaced tasks in its list for a while: only the ones it wants running.
TASKS_PATH = "/tasks?" + urllib.parse.urlencode({"filters": json.dumps({"desired-state": ["running"]})})

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DESIRED = "sentinel_app_tasks_desired"
RUNNING = "sentinel_app_tasks_running"
SWARM_UP = "sentinel_swarm_up"
THRESHOLD = "sentinel_app_alert_threshold"
HELP = {
    DESIRED: "Tasks the app's Swarm service wants: its replicas, or for a global service its tasks desired running.",
    RUNNING: "Tasks of the app's Swarm service in state running: started, and healthy when the image has a check.",
    SWARM_UP: "Whether the Swarm's engine answered this scrape (1) or not (0, and no app series).",
    THRESHOLD: "An alert threshold the app sets for itself (the rules fall back to the platform's without one).",
}


def escape_label_value(value: str) -> str:
    """``value`` as a label value of the exposition format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauge(name: str, samples: list[tuple[dict[str, str], int]]) -> list[str]:
    lines = [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        pairs = ",".join(f'{key}="{escape_label_value(text)}"' for key, text in labels.items())
        lines.append(f"{name}{{{pairs}}} {value}" if pairs else f"{name} {value}")
    return lines


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def metrics_text(services: list[dict], tasks: list[dict]) -> str:
    """The exposition of one read of the engine: its services, and its tasks desired running."""
    wanted: Counter[str] = Counter()
    running: Counter[str] = Counter()
    for task in tasks:
        if task.get("DesiredState") == "running":
            wanted[task.get("ServiceID")] += 1
            if (task.get("Status") or {}).get("State") == "running":
                running[task.get("ServiceID")] += 1

    desired_samples, running_samples, thresholds = [], [], []
    for service in sorted(services, key=lambda service: service["Spec"]["Name"]):
        spec = service["Spec"]
        labels = spec.get("Labels") or {}
        if LABEL_APP not in labels:
            continue  # a platform service, or not Sentinel's
        series = {"service": spec["Name"], "app": labels[LABEL_APP], "role": labels.get(LABEL_ROLE, "")}
        replicated = (spec.get("Mode") or {}).get("Replicated")
        desired = replicated.get("Replicas", 0) if replicated is not None else wanted[service["ID"]]
        desired_samples.append((series, desired))
        running_samples.append((series, running[service["ID"]]))
        if series["role"] == "prod":
            thresholds.extend(_thresholds(series["app"], labels))
    gauges = _gauge(SWARM_UP, [({}, 1)]) + _gauge(DESIRED, desired_samples) + _gauge(RUNNING, running_samples)
    return _text(gauges + _gauge(THRESHOLD, thresholds))


def _thresholds(app: str, labels: dict) -> list:
    """The app's own alert thresholds (sentinel.alert.NAME=NUMBER, NAME as the series' threshold label, with _ for
    -); a value that is not a number is left out, so a rule falls back to the platform's."""
    found = []
    for key, value in sorted(labels.items()):
        if key.startswith(ALERT_LABEL_PREFIX):
            try:
                number = float(value)
            except ValueError:
                continue
            if not math.isfinite(number):
                continue
            found.append(({"app": app, "threshold": key[len(ALERT_LABEL_PREFIX) :].replace("-", "_")}, number))
    return found


def unreachable_text() -> str:
    """The exposition of a scrape the engine did not answer."""
    return _text(_gauge(SWARM_UP, [({}, 0)]))


class EngineConnection(http.client.HTTPConnection):
    """HTTP to the engine's API on its unix socket (the host name only fills the Host header)."""

    def __init__(self, socket_path: str) -> None:
        super().__init__("localhost", timeout=ENGINE_TIMEOUT)
        self.socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class EngineError(Exception):
    """The engine, or the proxy in front of it, answered something else than the list asked for."""


def _get_list(connection: EngineConnection, path: str) -> list:
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise EngineError(f"GET {urllib.parse.urlsplit(path).path}: HTTP {response.status}")
    data = json.loads(body)
    if not isinstance(data, list):
        raise EngineError(f"GET {urllib.parse.urlsplit(path).path}: not a list")
    return data


def read_swarm(socket_path: str) -> tuple[list[dict], list[dict]]:
    """The engine's services, and its tasks desired running, on one connection."""
    connection = EngineConnection(socket_path)
    try:
        return _get_list(connection, "/services"), _get_list(connection, TASKS_PATH)
    finally:
        connection.close()


class Handler(BaseHTTPRequestHandler):
    timeout = 30  # a client that stops sending cannot hold a thread for ever

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/metrics":
            status, kind, body = 200, CONTENT_TYPE, self._scrape().encode("utf-8")
        elif path == "/healthz":
            status, kind, body = 200, "text/plain; charset=utf-8", b"ok"
        else:
            status, kind, body = 404, "text/plain; charset=utf-8", b"not found\n"
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gone or stalled: not this server's error, and no traceback on stderr
            self.close_connection = True

    def _scrape(self) -> str:
        socket_path = self.server.socket_path
        try:
            services, tasks = read_swarm(socket_path)
        except (OSError, http.client.HTTPException, ValueError, EngineError) as exc:
            print(f"swarm_exporter: cannot read the Swarm at {socket_path}: {exc!r}", file=sys.stderr, flush=True)
            # Still a 200: sentinel_swarm_up 0 is a series an alert can read, where a failed scrape
            # would only say that the exporter is down.
            return unreachable_text()
        return metrics_text(services, tasks)

    def log_message(self, format, *args) -> None:
        """No line per request: one per scrape would bury the engine's errors."""


class Exporter(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], socket_path: str) -> None:
        super().__init__(address, Handler)
        self.socket_path = socket_path


def serve(port: int, socket_path: str, host: str = "0.0.0.0") -> Exporter:
    """The exporter on ``host``:``port``, already answering in a thread of its own until its shutdown()."""
    server = Exporter((host, port), socket_path)
    threading.Thread(target=server.serve_forever, name="swarm-exporter", daemon=True).start()
    return server


def main() -> None:
    socket_path = os.environ.get("SENTINEL_DOCKER_SOCKET", DEFAULT_SOCKET)
    port = int(os.environ.get("SENTINEL_EXPORTER_PORT", str(DEFAULT_PORT)))

    # Swarm stops a task with SIGTERM; as PID 1 in its container, Python would ignore it without a
    # handler and Swarm would wait out the grace period before killing it.
    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    serve(port, socket_path)
    signal.pause()  # the server answers in its thread; this one waits for SIGTERM


if __name__ == "__main__":
    main()

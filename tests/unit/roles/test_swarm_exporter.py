"""The prometheus role's Swarm exporter, run for real: a fake engine API on a unix socket answers with
the Docker JSON of a few apps' services and tasks, and the exporter is scraped over HTTP as Prometheus
scrapes it."""

from __future__ import annotations

import http.client
import json
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = ROOT / "roles" / "prometheus" / "files" / "swarm_exporter.py"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
IMAGE = "registry.example.com/todo:1.4.2@sha256:" + "4f" * 32
NODES = ("k1n9qz5x0d3m8v2c7b4w6y1ha", "p7r2t5u8w1y4b6d9f3h5j8l0m")


# -- the engine's JSON, as `GET /services` and `GET /tasks` answer it ----------------------------
SERVICE_IDS = {
    "todo-prod": "tdprd0a1b2c3d4e5f6g7h8i9j",
    "todo-db": "tddb00a1b2c3d4e5f6g7h8i9j",
    "todo-canary": "tdcan0a1b2c3d4e5f6g7h8i9j",
    "relay-prod": "rlprd0a1b2c3d4e5f6g7h8i9j",
    "sentinel-traefik": "trfk00a1b2c3d4e5f6g7h8i9j",
    'x"y': "odd000a1b2c3d4e5f6g7h8i9j",
    "x-prod": "norole0b2c3d4e5f6g7h8i9jk",
}


def _service(name: str, labels: dict, mode: dict) -> dict:
    return {
        "ID": SERVICE_IDS[name],
        "Version": {"Index": 2817},
        "CreatedAt": "2025-05-12T09:14:03.118251394Z",
        "UpdatedAt": "2025-05-14T16:02:47.903115602Z",
        "Spec": {
            "Name": name,
            "Labels": labels,
            "TaskTemplate": {
                "ContainerSpec": {"Image": IMAGE, "Init": False, "Isolation": "default"},
                "Resources": {"Limits": {}, "Reservations": {}},
                "RestartPolicy": {"Condition": "any", "Delay": 2000000000, "MaxAttempts": 0},
                "ForceUpdate": 0,
                "Runtime": "container",
            },
            "Mode": mode,
            "EndpointSpec": {"Mode": "vip"},
        },
        "Endpoint": {
            "Spec": {"Mode": "vip"},
            "VirtualIPs": [{"NetworkID": "q8w2e4r6t8y0u2i4o6p8a0s2d", "Addr": "10.0.7.2/24"}],
        },
    }


def _task(task_id: str, service: str, desired: str, state: str, slot: int | None = None, node: int = 0) -> dict:
    status = {"Timestamp": "2025-05-14T16:03:01.52248101Z", "State": state, "Message": state, "PortStatus": {}}
    if state in ("running", "shutdown", "failed"):
        status["ContainerStatus"] = {"ContainerID": task_id * 2 + "0" * 14, "PID": 0, "ExitCode": 0}
    if state == "failed":
        status["Err"] = "task: non-zero exit (1): dockerexec: unhealthy container"
    task = {
        "ID": task_id,
        "Version": {"Index": 2840},
        "CreatedAt": "2025-05-14T16:02:47.911842117Z",
        "UpdatedAt": "2025-05-14T16:03:01.544981602Z",
        "Labels": {},
        "Spec": {"ContainerSpec": {"Image": IMAGE, "Isolation": "default"}, "ForceUpdate": 0},
        "ServiceID": SERVICE_IDS[service],
        "NodeID": NODES[node],
        "Status": status,
        "DesiredState": desired,
    }
    if slot is not None:  # replicated services only
        task["Slot"] = slot
    return task


def _app(app: str, role: str) -> dict:
    return {"sentinel.app": app, "sentinel.role": role}


SERVICES = [
    # Its own alert thresholds (app_alerts); a value that is not a number is left out.
    _service(
        "todo-prod",
        {**_app("todo", "prod"), "sentinel.alert.p95-seconds": "0.5", "sentinel.alert.error-ratio": "lots"},
        {"Replicated": {"Replicas": 3}},
    ),
    _service("todo-db", _app("todo", "db"), {"Replicated": {"Replicas": 1}}),
    _service("todo-canary", _app("todo", "canary"), {"Replicated": {"Replicas": 1}}),
    _service("relay-prod", _app("relay", "prod"), {"Global": {}}),
    _service("sentinel-traefik", {"sentinel.role": "platform"}, {"Global": {}}),
]
TASKS = [
    _task("a1prod1running0000000000a", "todo-prod", "running", "running", slot=1),
    _task("a2prod2running0000000000a", "todo-prod", "running", "running", slot=2, node=1),
    _task("a3prod3starting000000000a", "todo-prod", "running", "starting", slot=3),  # not healthy yet
    _task("a4prod1replaced000000000a", "todo-prod", "shutdown", "shutdown", slot=1),  # by an update
    _task("b1db1failed0000000000000a", "todo-db", "shutdown", "failed", slot=1),
    _task("b2db1restarting000000000a", "todo-db", "running", "starting", slot=1),
    _task("c1canary1running00000000a", "todo-canary", "running", "running", slot=1, node=1),
    _task("d1relay0running000000000a", "relay-prod", "running", "running"),
    _task("d2relay1preparing0000000a", "relay-prod", "running", "preparing", node=1),  # pulling its image
    _task("e1traefik0running0000000a", "sentinel-traefik", "running", "running"),
]
SERIES = [
    "sentinel_swarm_up 1",
    'sentinel_app_tasks_desired{service="relay-prod",app="relay",role="prod"} 2',
    'sentinel_app_tasks_desired{service="todo-canary",app="todo",role="canary"} 1',
    'sentinel_app_tasks_desired{service="todo-db",app="todo",role="db"} 1',
    'sentinel_app_tasks_desired{service="todo-prod",app="todo",role="prod"} 3',
    'sentinel_app_tasks_running{service="relay-prod",app="relay",role="prod"} 1',
    'sentinel_app_tasks_running{service="todo-canary",app="todo",role="canary"} 1',
    'sentinel_app_tasks_running{service="todo-db",app="todo",role="db"} 0',
    'sentinel_app_tasks_running{service="todo-prod",app="todo",role="prod"} 2',
    'sentinel_app_alert_threshold{app="todo",threshold="p95_seconds"} 0.5',
]
# The bodies of the engine's 404 and of the proxy's 403 (HAProxy's own page).
ERRORS = {
    403: (
        "text/html",
        b"<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n",
    ),
    404: ("application/json", b'{"message":"page not found"}\n'),
}
DOWN = (
    "# HELP sentinel_swarm_up Whether the Swarm's engine answered this scrape (1) or not (0, and no app series).\n"
    "# TYPE sentinel_swarm_up gauge\n"
    "sentinel_swarm_up 0\n"
)


@contextmanager
def _engine(socket_path: Path, tasks_status: int = 200) -> Iterator[list[str]]:
    """The engine's API as the exporter reads it, on a unix socket; yields the paths asked for.
    ``tasks_status`` other than 200: the proxy in front of it refuses /tasks."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # as the engine: one connection serves both calls of a scrape

        def do_GET(self):  # noqa: N802 - http.server's naming
            asked.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            status, answer = 200, None
            if url.path == "/services":
                answer = SERVICES
            elif url.path == "/tasks" and tasks_status != 200:
                status = tasks_status
            elif url.path == "/tasks":
                wanted = json.loads(urllib.parse.parse_qs(url.query).get("filters", ["{}"])[0]).get("desired-state")
                answer = [task for task in TASKS if wanted is None or task["DesiredState"] in wanted]
            else:
                status = 404
            kind, body = ("application/json", json.dumps(answer).encode()) if status == 200 else ERRORS[status]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Quiet, and a unix socket's client has no address to log anyway."""

    server = socketserver.ThreadingUnixStreamServer(str(socket_path), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()
        socket_path.unlink(missing_ok=True)


@contextmanager
def _exporter(program, socket_path: Path) -> Iterator[int]:
    server = program.serve(0, str(socket_path), host="127.0.0.1")
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[tuple[Path, list[str]]]:
    socket_path = tmp_path_factory.mktemp("engine") / "docker.sock"  # short: a unix socket's path is 107 bytes at most
    with _engine(socket_path) as asked:
        yield socket_path, asked


@pytest.fixture(scope="module")
def port(program, engine) -> Iterator[int]:
    with _exporter(program, engine[0]) as port:
        yield port


def _get(port: int, path: str) -> tuple[int, dict, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode("utf-8")
    finally:
        connection.close()


def _samples(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


# -- a scrape ---------------------------------------------------------------------------------
def test_a_scrape_counts_each_app_service_tasks(port, capfd):
    status, headers, text = _get(port, "/metrics")
    assert status == 200
    assert headers["content-type"] == CONTENT_TYPE
    assert int(headers["content-length"]) == len(text.encode())
    assert _samples(text) == SERIES
    assert "sentinel-traefik" not in text and 'role="platform"' not in text
    assert text.endswith("\n")
    assert capfd.readouterr() == ("", "")  # no line per request


def test_each_metric_has_help_and_type(port):
    lines = _get(port, "/metrics")[2].splitlines()
    for name in (
        "sentinel_swarm_up",
        "sentinel_app_tasks_desired",
        "sentinel_app_tasks_running",
        "sentinel_app_alert_threshold",
    ):
        first = next(i for i, line in enumerate(lines) if line.startswith((name + " ", name + "{")))
        assert lines[first - 2].startswith(f"# HELP {name} ")
        assert lines[first - 1] == f"# TYPE {name} gauge"


def test_the_exporter_reads_services_and_only_the_tasks_desired_running(port, engine):
    asked = engine[1]
    asked.clear()
    _get(port, "/metrics")
    assert [urllib.parse.urlsplit(path).path for path in asked] == ["/services", "/tasks"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(asked[1]).query)
    assert {key: json.loads(value) for key, (value,) in query.items()} == {"filters": {"desired-state": ["running"]}}


def test_health_and_every_other_path(port, engine):
    asked = engine[1]
    asked.clear()
    status, _headers, text = _get(port, "/healthz")
    assert (status, text) == (200, "ok")
    assert asked == []  # the process's health, not the engine's
    for path in ("/", "/metrics/x", "/healthz/", "/favicon.ico", "/services"):
        assert _get(port, path)[0] == 404, path
    assert _get(port, "/metrics?debug=1")[0] == 200


# -- without an engine ------------------------------------------------------------------------
@pytest.mark.parametrize("engine_state", ["no socket", "stale socket", "proxy refuses"])
def test_without_the_engine_only_swarm_up_0(program, tmp_path_factory, capfd, engine_state):
    """Still a 200 with sentinel_swarm_up 0, and one short line on stderr per failed scrape."""
    socket_path = tmp_path_factory.mktemp("gone") / "docker.sock"
    if engine_state == "stale socket":  # the proxy's task gone, its socket file left behind
        with socket.socket(socket.AF_UNIX) as stale:
            stale.bind(str(socket_path))
    refusing = _engine(socket_path, tasks_status=403) if engine_state == "proxy refuses" else nullcontext()
    with refusing, _exporter(program, socket_path) as port:
        status, headers, text = _get(port, "/metrics")
        assert (status, headers["content-type"], text) == (200, CONTENT_TYPE, DOWN)
        assert _get(port, "/metrics")[2] == DOWN
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 2 and err[0] == err[1]
    assert err[0].startswith(f"swarm_exporter: cannot read the Swarm at {socket_path}: ")
    assert ("HTTP 403" in err[0]) == (engine_state == "proxy refuses")


# -- the text itself ----------------------------------------------------------------------------
def test_label_values_are_escaped(program):
    assert program.escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    odd = _service('x"y', _app("a\\b\nc", 'p"q'), {"Global": {}})
    text = program.metrics_text([odd], [_task("o1odd0running00000000000a", 'x"y', "running", "running")])
    assert 'sentinel_app_tasks_running{service="x\\"y",app="a\\\\b\\nc",role="p\\"q"} 1\n' in text


def test_a_threshold_on_a_canary_or_not_finite_is_not_the_app_s(program):
    canary = _service("todo-canary", {**_app("todo", "canary"), "sentinel.alert.p95-seconds": "9"}, {"Global": {}})
    prod = _service("todo-prod", {**_app("todo", "prod"), "sentinel.alert.p95-seconds": "nan"}, {"Global": {}})
    assert "sentinel_app_alert_threshold{" not in program.metrics_text([canary, prod], [])


def test_counts_hold_for_any_task_list(program):
    """Tasks the Swarm no longer wants are not counted even when given, and a service without a role
    gets an empty one (the same as none, to Prometheus)."""
    service = _service("x-prod", {"sentinel.app": "x"}, {"Global": {}})
    stopping = _task("s1stopping000000000000000", "x-prod", "shutdown", "running")
    assert _samples(program.metrics_text([service], [stopping])) == [
        "sentinel_swarm_up 1",
        'sentinel_app_tasks_desired{service="x-prod",app="x",role=""} 0',
        'sentinel_app_tasks_running{service="x-prod",app="x",role=""} 0',
    ]
    assert _samples(program.metrics_text([SERVICES[-1]], TASKS)) == ["sentinel_swarm_up 1"]


# -- promtool ---------------------------------------------------------------------------------
def test_promtool_accepts_the_scrapes(shell_in_prometheus_image, port, tmp_path):
    tmp_path.chmod(0o755)
    up = _get(port, "/metrics")[2]
    texts = {"up": up, "down": DOWN, "nohelp": "".join(line for line in up.splitlines(True) if "# HELP" not in line)}
    for name, text in texts.items():
        (tmp_path / f"{name}.prom").write_text(text)
        (tmp_path / f"{name}.prom").chmod(0o644)
    # One stream (2>&1): the container's log would interleave stdout and stderr in any order.
    script = 'for f in up down nohelp; do promtool check metrics < $f.prom 2>&1; echo "$f: $?"; done'
    status, output = shell_in_prometheus_image(tmp_path, "-c", script)
    assert status == 0, output
    assert output.startswith("up: 0\ndown: 0\n"), output  # nothing to say about either
    # promtool really read the text: without the HELP lines it finds fault (exit code 3, lint problems).
    assert output.endswith("sentinel_swarm_up no help text\nnohelp: 3\n"), output


# -- the program ------------------------------------------------------------------------------
def test_the_program_stops_on_sigterm(running_program, free_port, engine):
    """Swarm stops a task with SIGTERM: the program exits at once, cleanly, having logged nothing."""
    env = {"SENTINEL_EXPORTER_PORT": str(free_port), "SENTINEL_DOCKER_SOCKET": str(engine[0])}
    with running_program(PROGRAM, env, lambda: _get(free_port, "/healthz")[0] == 200):
        assert _samples(_get(free_port, "/metrics")[2]) == SERIES

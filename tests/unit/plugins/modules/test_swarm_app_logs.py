"""swarm_app_logs: the pure parts (since, line decoding), the wrapper through the real Docker SDK
against a canned engine, and the module run whole against an in-memory stand-in.

What these prove: the accepted since forms and what the engine is sent for them; that the SDK's
own demultiplexing (8-byte frame headers, or a TTY's raw bytes) plus Swarm.log_lines give
"timestamp line" text sorted oldest first; validation before the engine; the failure messages;
changed=false in and out of check mode. What they cannot prove (the real engine's answer: that
without ``details`` no task prefix comes, its timestamp format, since/tail semantics across
tasks on several nodes) is proven by the real-cluster test of ``sentinel inspect logs``
(tests/integration/test_app_lifecycle.py).
"""

from __future__ import annotations

import json
import struct
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.module_utils import basic
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm
from ansible_collections.sentinel.paas.plugins.modules import swarm_app_logs
from http_stub import serving
from module_harness import fail, run

NOW = 1_764_624_629.75  # 2025-12-01T21:30:29.75Z

# -- since ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("10m", str(1_764_624_629 - 600)),  # whole seconds, floor, as the docker CLI sends it
        ("250ms", "1764624629"),
        ("0", "0"),  # the epoch (docker reads "0" as a timestamp, not a zero duration)
        ("1764624629", "1764624629"),
        ("1764624629.5", "1764624629.5"),
        # A line's own timestamp keeps all nine digits (a Python datetime would cut them to six).
        ("2025-12-01T21:30:29.123456789Z", "1764624629.123456789"),
        ("2025-12-01T21:30:29.1Z", "1764624629.100000000"),
        ("2025-12-01T21:30:29Z", "1764624629.000000000"),
        ("2025-12-01t21:30:29z", "1764624629.000000000"),
        ("2025-12-01T22:30:29+01:00", "1764624629.000000000"),
        ("2025-12-01T16:30:29.5-05:00", "1764624629.500000000"),
        ("2025-12-01T21:30Z", "1764624600.000000000"),
        ("2025-12-01T21Z", "1764622800.000000000"),
        ("2025-12-01Z", "1764547200.000000000"),
        ("2025-12-01+00:00", "1764547200.000000000"),
    ],
)
def test_engine_since(value, sent):
    assert swarm_app_logs.engine_since(value, now=NOW) == sent


@pytest.mark.parametrize(
    ("value", "local"),
    [
        ("2026-01-01T00:00:00", datetime(2026, 1, 1)),
        ("2026-01-01T10:15", datetime(2026, 1, 1, 10, 15)),
        ("2026-01-01T10", datetime(2026, 1, 1, 10)),
        ("2026-01-01", datetime(2026, 1, 1)),
        ("2026-07-01T12:00:00.25", datetime(2026, 7, 1, 12)),
    ],
)
def test_engine_since_without_zone_is_local_time(value, local):
    whole, fraction = swarm_app_logs.engine_since(value).split(".")
    assert int(whole) == int(local.timestamp())
    assert len(fraction) == 9


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("yesterday", "give a duration back from now"),
        ("10d", "give a duration"),
        ("-10m", "give a duration"),
        ("2026-13-01T00:00:00Z", "month must be in 1..12"),
        ("2026-02-30", "day is out of range"),
        ("2026-01-01T24:00:00Z", "hour must be in 0..23"),
        ("2026-01-01T00:00:00.1234567891Z", "give a duration"),  # ten fraction digits
        ("2026-01-01 00:00:00", "give a duration"),
        ("1764624629.", "give a duration"),
        ("12:00", "give a duration"),
        ("\u0661\u0660m", "give a duration"),  # Arabic-Indic digits
        ("\u0661\u0660", "give a duration"),
    ],
)
def test_engine_since_refuses(value, why):
    with pytest.raises(ValueError, match="invalid since") as raised:
        swarm_app_logs.engine_since(value, now=NOW)
    assert why in str(raised.value)


# -- lines ------------------------------------------------------------------------------

A = "2025-12-01T21:30:29.000000001Z started"
B = "2025-12-01T21:30:29.500000000Z GET / 200"
C = "2025-12-01T21:30:30.000000000Z GET /version 200"


def chunks(data: bytes, size: int):
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize(
    ("output", "lines"),
    [
        (b"", []),
        (iter([]), []),
        (f"{A}\n{B}\n".encode(), [A, B]),
        # Frames' payloads as the SDK yields them (one per log message), stdout and stderr interleaved
        # and from several tasks, so not in time order.
        (iter([f"{C}\n".encode(), f"{A}\n".encode(), f"{B}\n".encode()]), [A, B, C]),
        # A TTY service's raw stream, one byte at a time (SDK: iter_content(chunk_size=1)), \r\n endings.
        (chunks(f"{B}\r\n{A}\r\n".encode(), 1), [A, B]),
        # A character split between two chunks decodes whole.
        (chunks("2025-12-01T21:30:29.000000000Z café ☕\n".encode(), 1), ["2025-12-01T21:30:29.000000000Z café ☕"]),
        # Undecodable bytes do not fail the read.
        (b"2025-12-01T21:30:29.000000000Z \xff\n", ["2025-12-01T21:30:29.000000000Z \ufffd"]),
        # The last line without its newline, an empty log line (timestamp and space are kept) and a \r inside.
        (f"{B}\n{A[:31]}\n{A}\rprogress".encode(), [A[:31], f"{A}\rprogress", B]),
    ],
)
def test_log_lines(output, lines):
    assert Swarm.log_lines(output) == (lines, [])


def test_log_lines_of_one_instant_keep_the_engine_order():
    same = ["2025-12-01T21:30:29.000000000Z b", "2025-12-01T21:30:29.000000000Z a"]
    assert Swarm.log_lines(iter([(line + "\n").encode() for line in same])) == (same, [])


GRAB = "Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream"


@pytest.mark.parametrize(
    "other",
    [GRAB, "2025-12-01T21:30:29.000000000Z", "2025-12-01 21:30:29 x", "12:00:00 x", "2025-12-01T21:30:29x y"],
)
def test_lines_without_a_leading_timestamp_are_set_apart(other):
    """What the engine writes into the stream instead of a line (its system-error frames carry no
    timestamp) must not become the first line's timestamp the CLI's --follow asks from."""
    lines, others = Swarm.log_lines(iter([f"{B}\n".encode(), f"{other}\n".encode(), f"{A}\n".encode()]))
    assert lines == [A, B] and others == [other]


# -- the wrapper through the real SDK, against a canned engine -----------------------------------


def frame(stream: int, payload: bytes) -> bytes:
    """One frame of Docker's multiplexed stream: stream type, three zero bytes, payload length."""
    return struct.pack(">BxxxL", stream, len(payload)) + payload


JSON = "application/json"


class _Engine:
    """Just enough of the engine API: /version, GET /services/NAME and GET /services/NAME/logs."""

    services: dict[str, dict] = {}  # name -> {"tty": bool, "body": bytes}
    asked: list[tuple[str, dict]] = []

    @staticmethod
    def answer(request) -> tuple[int, bytes, str]:
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")
        _Engine.asked.append((url.path, {k: v[0] for k, v in parse_qs(url.query).items()}))
        if parts == ["version"]:
            return 200, json.dumps({"ApiVersion": "1.43", "Version": "24.0.0"}).encode(), JSON
        if len(parts) >= 3 and parts[1] == "services" and parts[2] in _Engine.services:
            service = _Engine.services[parts[2]]
            if parts[3:] == ["logs"]:
                return 200, service["body"], "application/vnd.docker.multiplexed-stream"
            spec = {"Name": parts[2], "TaskTemplate": {"ContainerSpec": {"Image": "x", "TTY": service["tty"]}}}
            return 200, json.dumps({"ID": "abc", "Spec": spec}).encode(), JSON
        return 404, json.dumps({"message": f"service {parts[-1]} not found"}).encode(), JSON


class _Module:
    def __init__(self, docker_host):
        self.params = {
            "docker_host": docker_host,
            "tls": False,
            "validate_certs": True,
            "ca_path": None,
            "client_cert": None,
            "client_key": None,
            "timeout": 10,
        }

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.fixture
def engine():
    pytest.importorskip("docker")
    _Engine.services, _Engine.asked = {}, []
    with serving(_Engine.answer) as server:
        yield Swarm(_Module(f"tcp://127.0.0.1:{server.server_address[1]}"))


def test_sdk_demultiplexes_a_non_tty_service(engine):
    body = frame(1, f"{B}\n".encode()) + frame(2, f"{A}\n".encode()) + frame(1, b"") + frame(1, f"{C}\n".encode())
    _Engine.services = {"todo-prod": {"tty": False, "body": body}}
    assert engine.service_logs("todo-prod", since="1764624629.123456789", tail=50) == ([A, B, C], [])
    path, query = _Engine.asked[-1]
    assert path.endswith("/services/todo-prod/logs")
    # No details: the engine adds no task attributes, so the lines are what --raw printed.
    assert query == {
        "details": "False",
        "follow": "False",
        "stdout": "True",
        "stderr": "True",
        "since": "1764624629.123456789",
        "timestamps": "True",
        "tail": "50",
    }
    # The service was inspected once (by the wrapper, which tells the SDK whether it has a TTY).
    assert [asked[0] for asked in _Engine.asked if asked[0].endswith("/services/todo-prod")] == [path[: -len("/logs")]]


def test_sdk_passes_a_tty_service_raw(engine):
    _Engine.services = {"todo-prod": {"tty": True, "body": f"{B}\r\n{A}\r\n".encode()}}
    assert engine.service_logs("todo-prod") == ([A, B], [])
    assert _Engine.asked[-1][1]["since"] == "0" and _Engine.asked[-1][1]["tail"] == "all"


def test_sdk_yields_the_engine_error_stream_too(engine):
    body = frame(1, f"{B}\n".encode()) + frame(3, f"{GRAB}\n".encode()) + frame(2, f"{A}\n".encode())
    _Engine.services = {"todo-prod": {"tty": False, "body": body}}
    assert engine.service_logs("todo-prod") == ([A, B], [GRAB])


def test_unknown_service_is_none(engine):
    assert engine.service_logs("todo-canary") is None
    assert not any(asked[0].endswith("/logs") for asked in _Engine.asked)


# -- the module, run whole ----------------------------------------------------------------


class MemorySwarm:
    """Log lines (and engine errors) by service name, as Swarm.service_logs returns them; records each read.

    Proves the module's own logic: validation before the engine, what it asks for, the failure
    messages and changed=false. The engine's real answer is proven on the real Swarm (see the
    module docstring).
    """

    logs: dict[str, tuple[list[str], list[str]]] = {}
    reads: list[tuple[str, str | None, int]] = []
    instances: list[MemorySwarm] = []
    errors: list[APIError] = []  # the first is raised by every read

    def __init__(self, module):
        MemorySwarm.instances.append(self)

    def service_logs(self, name, since=None, tail="all"):
        MemorySwarm.reads.append((name, since, tail))
        if self.errors:
            raise self.errors[0]
        return self.logs.get(name)


@pytest.fixture(autouse=True)
def memory_swarm(monkeypatch):
    monkeypatch.setattr(swarm_app_logs, "Swarm", MemorySwarm)
    MemorySwarm.logs = {"todo-prod": ([A, B], []), "todo-canary": ([C], [])}
    MemorySwarm.reads, MemorySwarm.instances, MemorySwarm.errors = [], [], []


@pytest.mark.parametrize("check", [False, True])
def test_reads_the_prod_service_by_default(check):
    result = run(swarm_app_logs, {"name": "todo"}, check=check)
    assert result["changed"] is False
    assert result["service"] == "todo-prod" and result["lines"] == [A, B]
    assert MemorySwarm.reads == [("todo-prod", None, 200)]


def test_role_since_and_tail_reach_the_engine():
    result = run(swarm_app_logs, {"name": "todo", "role": "canary", "since": C.split(" ", 1)[0], "tail": "5"})
    assert result["service"] == "todo-canary" and result["lines"] == [C]
    assert MemorySwarm.reads == [("todo-canary", "1764624630.000000000", 5)]


def test_blank_since_is_not_given():
    run(swarm_app_logs, {"name": "todo", "since": ""})
    assert MemorySwarm.reads == [("todo-prod", None, 200)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Todo"}, "Error reading logs of app Todo: invalid app name 'Todo'"),
        ({"name": "edge"}, "reserved by the platform"),
        ({"name": "todo", "since": "yesterday"}, "Error reading logs of app todo: invalid since 'yesterday'"),
        ({"name": "todo", "tail": 0}, "Error reading logs of app todo: invalid tail 0: give at least 1 line"),
        ({"name": "todo", "role": "web"}, "value of role must be one of: prod, canary, baseline, db"),
        ({"name": "Todo", "since": "x", "tail": -1}, "invalid app name 'Todo'"),
    ],
)
def test_bad_input_fails_before_the_engine(args, message):
    assert message in fail(swarm_app_logs, args)["msg"]
    assert MemorySwarm.instances == []


def test_every_input_error_at_once():
    msg = fail(swarm_app_logs, {"name": "Todo", "since": "x", "tail": -1})["msg"]
    assert "invalid app name" in msg and "invalid since 'x'" in msg and "invalid tail -1" in msg


def test_unknown_service_fails():
    result = fail(swarm_app_logs, {"name": "todo", "role": "db"})
    assert result["msg"] == "Error reading logs of app todo: service todo-db does not exist"


def test_engine_error_fails():
    MemorySwarm.errors = [APIError("configured logging driver does not support reading")]
    msg = fail(swarm_app_logs, {"name": "todo"})["msg"]
    assert msg == "Error reading logs of app todo: Docker API: configured logging driver does not support reading"


def test_engine_errors_are_warnings_and_the_other_lines_come_back(monkeypatch):
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning, **kw: warned.append(warning))
    MemorySwarm.logs["todo-prod"] = ([A, B], [GRAB, GRAB])
    result = run(swarm_app_logs, {"name": "todo"})
    assert result["lines"] == [A, B] and result["changed"] is False
    assert warned == [f"Some logs of todo-prod are missing: {GRAB}"]

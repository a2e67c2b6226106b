"""The alertmanager role's notifier, run for real on a local port against real receivers: HTTP stubs for the
webhooks and Slack, an SMTP stub for e-mail. Events and alerts go out in order, one receiver at a time never
waits for another, and no URL, address or password reaches the log or the API."""

from __future__ import annotations

import base64
import email
import email.policy
import http.client
import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = ROOT / "roles" / "alertmanager" / "files" / "notifier.py"
TOKEN = "T0KEN-b5e1a9c4d2"  # the secret part of every stub webhook's URL
PASSWORD = "hunter2-smtp-pw"


class Stub:
    """A webhook's endpoint: records every POST (when, path, headers, JSON body) and answers ``status``, after
    ``delay`` seconds, or after 10 s (or the test's end) when it ``hangs``."""

    def __init__(self, status: int = 200, delay: float = 0.0, hangs: bool = False) -> None:
        self.got: list[dict] = []
        self.released = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                try:
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    stub.got.append(
                        {"at": time.monotonic(), "path": self.path, "headers": self.headers, "body": json.loads(body)}
                    )
                    if hangs:
                        stub.released.wait(10)
                    time.sleep(delay)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the notifier gave up on a hung answer
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def bodies(self) -> list[dict]:
        return [request["body"] for request in self.got]

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(request):
    """stub(status=200, delay=0.0, hangs=False): a new Stub, stopped at the test's end."""

    def start(**kwargs) -> Stub:
        made = Stub(**kwargs)
        request.addfinalizer(made.stop)
        return made

    return start


@pytest.fixture
def smtp(request):
    """An SMTP server on a local port that keeps each message it accepts, with who logged in (AUTH PLAIN,
    accepted when ``accept_login``)."""

    class Handler(socketserver.StreamRequestHandler):
        def say(self, *lines: str) -> None:
            self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())

        def handle(self):
            self.say("220 stub ESMTP")
            envelope = {"from": None, "to": [], "login": None}
            while line := self.rfile.readline():
                verb, _space, argument = line.decode().rstrip("\r\n").partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    self.say("250-stub", "250 AUTH PLAIN")
                elif verb == "HELO":
                    self.say("250 stub")
                elif verb == "AUTH":
                    _identity, user, password = base64.b64decode(argument.split()[1]).decode().split("\0")
                    envelope["login"] = (user, password)
                    self.say("235 ok" if server.accept_login else "535 authentication failed")
                elif verb == "MAIL":
                    envelope["from"] = argument
                    self.say("250 ok")
                elif verb == "RCPT":
                    envelope["to"].append(argument)
                    self.say("250 ok")
                elif verb == "DATA":
                    self.say("354 go ahead")
                    data = b""
                    while (line := self.rfile.readline()) not in (b".\r\n", b""):
                        data += line[1:] if line.startswith(b"..") else line
                    server.messages.append(
                        {**envelope, "message": email.message_from_bytes(data, policy=email.policy.default)}
                    )
                    self.say("250 queued")
                elif verb == "QUIT":
                    self.say("221 bye")
                    return
                else:
                    self.say("502 not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.messages = []
    server.accept_login = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()

    request.addfinalizer(stop)
    return server


@pytest.fixture
def notifier(program, tmp_path, request):
    """notifier(*receivers, files={}, timeout=2.0) -> port: the notifier serving on a local port, with a receiver
    file for each of ``receivers`` and ``files`` (name: text) beside them."""

    def start(*receivers: dict, files: dict | None = None, timeout: float = 2.0) -> int:
        directory = tmp_path / "secrets"
        directory.mkdir()
        for receiver in receivers:
            (directory / f"sentinel-receiver-{receiver['name']}").write_text(json.dumps(receiver))
        for name, text in (files or {}).items():
            (directory / name).write_text(text)
        server = program.make_server(0, directory, timeout, host="127.0.0.1")
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

        def stop():
            server.shutdown()
            server.server_close()

        request.addfinalizer(stop)
        return server.server_address[1]

    return start


def _webhook(name: str, url: str, app: str | None = None, kind: str = "webhook") -> dict:
    return {"name": name, "kind": kind, "app": app, "url": url}


def _mail(name: str, port: int, app: str | None = None) -> dict:
    config = {
        "to": ["ops@example.com", "oncall@example.com"],
        "from": "sentinel@example.com",
        "host": "127.0.0.1",
        "port": port,
        "username": "sentinel",
        "password": PASSWORD,
        "starttls": False,
    }
    return {"name": name, "kind": "email", "app": app, "email": config}


def _event(kind: str, app: str | None = None, **details) -> dict:
    return {"schema": "sentinel.event/v1", "type": kind, "app": app, "at": "2025-05-01T12:00:00+00:00", **details}


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, object]:
    """The status and the answer (JSON parsed, else text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        data = response.read()
        if response.getheader("Content-Type") == "application/json":
            return response.status, json.loads(data)
        return response.status, data.decode()
    finally:
        connection.close()


def _post(port: int, path: str, payload) -> tuple[int, object]:
    return _request(port, "POST", path, json.dumps(payload).encode())


def _until(condition, timeout: float = 5.0) -> float:
    """Seconds until ``condition()`` holds; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.01)
    return time.monotonic() - start


def _log(capsys, count: int, timeout: float = 5.0) -> list[str]:
    """The notifier's stderr once it has ``count`` lines (workers write there from their own threads)."""
    log = ""

    def complete() -> bool:
        nonlocal log
        log += capsys.readouterr().err
        return log.count("\n") >= count

    _until(complete, timeout)
    return log.splitlines()


def test_events_reach_a_webhook_in_order_and_the_post_never_waits(notifier, stub):
    hook = stub(delay=0.05)  # 20 events take it a second
    port = notifier(_webhook("hook", hook.url))
    events = [_event("deploy.step", "shop", step=i, note="café ☕") for i in range(20)]
    start = time.monotonic()
    for event in events:
        assert _post(port, "/events", event) == (202, {"queued": ["hook"]})
    assert time.monotonic() - start < 0.5
    assert len(hook.got) < 20
    _until(lambda: len(hook.got) == 20)
    assert hook.bodies() == events
    request = hook.got[0]
    assert request["path"] == f"/hooks/{TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"] == "Sentinel-Notifier"


def test_a_hung_receiver_delays_only_itself(notifier, stub, capsys):
    hung, quick = stub(hangs=True), stub()
    # The timeout asked for is clamped to 2 s.
    port = notifier(_webhook("hung", hung.url), _webhook("quick", quick.url), timeout=30)
    first, second = _event("deploy.started", "shop"), _event("deploy.finished", "shop")
    start = time.monotonic()
    for event in (first, second):
        assert _post(port, "/events", event) == (202, {"queued": ["hung", "quick"]})
    _until(lambda: len(quick.got) == 2, timeout=1)
    assert quick.bodies() == [first, second]
    assert time.monotonic() - start < 1

    # The second event reaches the hung receiver once the first attempt gave up.
    _until(lambda: len(hung.got) == 2, timeout=3)
    assert 1.9 < hung.got[1]["at"] - hung.got[0]["at"] < 2.5
    log = _log(capsys, 2, timeout=3)
    assert time.monotonic() - hung.got[1]["at"] < 2.5
    assert log == [
        "receiver hung: deploy.started not delivered: timeout",
        "receiver hung: deploy.finished not delivered: timeout",
    ]
    assert hung.bodies() == [first, second]


def test_an_apps_receivers_replace_the_cluster_wide_ones(notifier, stub):
    cluster_a, cluster_b, shop = stub(), stub(), stub()
    port = notifier(
        _webhook("cluster-a", cluster_a.url), _webhook("cluster-b", cluster_b.url), _webhook("shop", shop.url, "shop")
    )
    for_shop, for_blog, for_none = (
        _event("deploy.finished", "shop"),
        _event("deploy.finished", "blog"),
        _event("node.drained"),
    )
    assert _post(port, "/events", for_shop) == (202, {"queued": ["shop"]})
    assert _post(port, "/events", for_blog) == (202, {"queued": ["cluster-a", "cluster-b"]})
    assert _post(port, "/events", for_none) == (202, {"queued": ["cluster-a", "cluster-b"]})
    _until(lambda: len(cluster_a.got) == len(cluster_b.got) == 2 and len(shop.got) == 1)
    assert cluster_a.bodies() == cluster_b.bodies() == [for_blog, for_none]
    assert shop.bodies() == [for_shop]


def test_route(program):
    cluster = {"name": "cluster", "app": None}
    shop = {"name": "shop", "app": "shop"}
    assert program.route([cluster, shop], "shop") == [shop]
    assert program.route([cluster, shop], "blog") == [cluster]
    assert program.route([cluster, shop], None) == [cluster]
    assert program.route([shop], "blog") == []


ALERTMANAGER_PAYLOAD = {
    "version": "4",
    "groupKey": '{}:{app="shop"}',
    "status": "firing",
    "receiver": "sentinel-notifier",
    "groupLabels": {"app": "shop"},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "truncatedAlerts": 0,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "CanaryErrorRateAboveProduction", "app": "shop", "severity": "critical"},
            "annotations": {"summary": "The canary fails 4% of requests", "description": "Production: 0.1%."},
            "startsAt": "2025-05-01T12:00:00.123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "NodeDown", "nodename": "node2"},
            "annotations": {},
            "startsAt": "2025-05-01T11:00:00Z",
            "endsAt": "2025-05-01T11:30:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "0f1e2d3c4b5a6978",
        },
    ],
}


def test_an_alertmanager_payload_becomes_one_event_per_alert(notifier, stub):
    hook = stub()
    port = notifier(_webhook("hook", hook.url))
    assert _post(port, "/alertmanager", ALERTMANAGER_PAYLOAD) == (202, {"queued": [["hook"], ["hook"]]})
    _until(lambda: len(hook.got) == 2)
    firing, resolved = ALERTMANAGER_PAYLOAD["alerts"]
    assert hook.bodies() == [
        {
            "schema": "sentinel.event/v1",
            "type": "alert.firing",
            "app": "shop",
            "at": "2025-05-01T12:00:00.123Z",
            "alert": "CanaryErrorRateAboveProduction",
            "severity": "critical",
            "summary": "The canary fails 4% of requests",
            "description": "Production: 0.1%.",
            "labels": firing["labels"],
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "schema": "sentinel.event/v1",
            "type": "alert.resolved",
            "app": None,
            "at": "2025-05-01T11:30:00Z",
            "alert": "NodeDown",
            "severity": None,
            "summary": None,
            "description": None,
            "labels": resolved["labels"],
            "fingerprint": "0f1e2d3c4b5a6978",
        },
    ]
    for bad in ({"alerts": "x"}, {"alerts": [{"status": "pending"}]}, {"alerts": [{"status": "firing", "labels": []}]}):
        assert _post(port, "/alertmanager", bad)[0] == 400


@pytest.mark.parametrize(
    "event, line",
    [
        (
            _event("alert.firing", "shop", alert="HighLatency", summary="p99 over\n 2 s"),
            "shop: HighLatency firing: p99 over 2 s",
        ),
        (_event("alert.resolved", None, alert="NodeDown", summary=None), "cluster: NodeDown resolved"),
        (_event("deploy.finished", "shop", summary="v2 is live"), "shop: deploy.finished: v2 is live"),
        (_event("node.drained", None), "cluster: node.drained"),
        (_event("canary.step", "shop", summary=["not", "a", "string"]), "shop: canary.step"),
    ],
)
def test_summary_line(program, event, line):
    assert program.summary_line(event) == line


def test_slack_gets_the_summary_line(notifier, stub):
    slack = stub()
    port = notifier(_webhook("chat", slack.url, kind="slack"))
    _post(port, "/events", _event("deploy.finished", "shop", summary="v2 is live", version="v2"))
    _until(lambda: len(slack.got) == 1)
    assert slack.bodies() == [{"text": "shop: deploy.finished: v2 is live"}]
    assert slack.got[0]["headers"]["Content-Type"] == "application/json"


def test_email_carries_the_summary_line_and_the_event(notifier, smtp):
    port = notifier(_mail("mail", smtp.server_address[1]))
    event = _event("deploy.finished", "shop", summary="v2 is live — café", version="v2")
    assert _post(port, "/events", event) == (202, {"queued": ["mail"]})
    _until(lambda: len(smtp.messages) == 1)
    got = smtp.messages[0]
    assert got["login"] == ("sentinel", PASSWORD)
    assert got["from"] == "FROM:<sentinel@example.com>"
    assert got["to"] == ["TO:<ops@example.com>", "TO:<oncall@example.com>"]
    message = got["message"]
    assert message["Subject"] == "[Sentinel] shop: deploy.finished: v2 is live — café"
    assert message["From"] == "sentinel@example.com"
    assert message["To"] == "ops@example.com, oncall@example.com"
    line, blank, *rest = message.get_content().splitlines()
    assert (line, blank) == ("shop: deploy.finished: v2 is live — café", "")
    assert json.loads("\n".join(rest)) == event


def _refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hooks/{TOKEN}"


def test_the_test_endpoint_delivers_now_and_says_how_it_went(notifier, stub, capsys):
    good = stub()
    port = notifier(_webhook("good", good.url), _webhook("refused", _refused_url(), "shop"))
    status, answer = _request(port, "POST", "/test")
    assert (status, answer) == (200, {"results": {"good": "ok", "refused": "error: ConnectionRefusedError"}})
    assert len(good.got) == 1  # delivered before the answer
    test_event = good.bodies()[0]
    assert {key: test_event[key] for key in ("schema", "type", "app", "summary")} == {
        "schema": "sentinel.event/v1",
        "type": "notify.test",
        "app": None,
        "summary": "Test notification from Sentinel",
    }
    assert test_event["at"].endswith("+00:00")
    assert _request(port, "POST", "/test?receiver=good") == (200, {"results": {"good": "ok"}})
    assert _request(port, "POST", "/test?receiver=refused") == (
        200,
        {"results": {"refused": "error: ConnectionRefusedError"}},
    )
    assert _request(port, "POST", "/test?receiver=nobody")[0] == 404
    assert _request(port, "POST", "/test?receiver=")[0] == 404
    assert capsys.readouterr().err.splitlines() == [
        "receiver refused: notify.test not delivered: ConnectionRefusedError",
        "receiver refused: notify.test not delivered: ConnectionRefusedError",
    ]


def test_no_url_address_or_password_reaches_the_log_or_the_api(notifier, stub, smtp, capsys):
    failing = stub(status=500)
    smtp.accept_login = False
    files = {
        "sentinel-receiver-broken": f'{{"name": "broken", "url": "https://hooks.example.com/{TOKEN}"',
        "sentinel-receiver-kindless": json.dumps({"name": "kindless", "url": f"https://example.com/{TOKEN}"}),
        "other-secret": "not a receiver: never read",
    }
    port = notifier(_webhook("hook", failing.url), _mail("mail", smtp.server_address[1], "shop"), files=files)
    assert _request(port, "GET", "/receivers") == (
        200,
        {
            "receivers": [
                {"name": "hook", "kind": "webhook", "app": None},
                {"name": "mail", "kind": "email", "app": "shop"},
            ]
        },
    )
    _post(port, "/events", _event("deploy.finished", None))
    _post(port, "/events", _event("deploy.finished", "shop"))
    assert _request(port, "POST", "/test")[0] == 200
    lines = _log(capsys, 6)
    assert lines[:2] == [
        "sentinel-receiver-broken: skipped, not a valid receiver: not JSON",
        "sentinel-receiver-kindless: skipped, not a valid receiver: kind is not webhook, slack or email",
    ]
    assert sorted(lines[2:]) == [
        "receiver hook: deploy.finished not delivered: HTTP 500",
        "receiver hook: notify.test not delivered: HTTP 500",
        "receiver mail: deploy.finished not delivered: SMTPAuthenticationError 535",
        "receiver mail: notify.test not delivered: SMTPAuthenticationError 535",
    ]
    answers = json.dumps([_request(port, "GET", "/receivers"), _request(port, "POST", "/test")])
    log = "\n".join(lines) + capsys.readouterr().err
    for secret in (TOKEN, PASSWORD, "127.0.0.1", "example.com"):
        assert secret not in log
        assert secret not in answers


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[" * 100_000,
        b"[]",
        json.dumps({"type": "deploy.finished"}).encode(),
        json.dumps({"schema": "sentinel.event/v2", "type": "deploy.finished"}).encode(),
        json.dumps({"schema": "sentinel.event/v1"}).encode(),
        json.dumps({"schema": "sentinel.event/v1", "type": ""}).encode(),
        json.dumps({"schema": "sentinel.event/v1", "type": 7}).encode(),
    ],
)
def test_a_bad_event_gets_400(notifier, body):
    port = notifier()
    status, answer = _request(port, "POST", "/events", body)
    assert status == 400 and set(answer) == {"error"}


def test_the_other_endpoints(notifier):
    port = notifier()
    assert _request(port, "GET", "/healthz") == (200, "ok")
    assert _request(port, "POST", "/events", json.dumps(_event("deploy.finished")).encode()) == (202, {"queued": []})
    assert _request(port, "POST", "/test") == (200, {"results": {}})
    for method, path in (("GET", "/events"), ("GET", "/"), ("POST", "/healthz"), ("DELETE", "/receivers")):
        assert _request(port, method, path)[0] == 404
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:  # a body over 1 MiB is refused from its length, unread
        connection.putrequest("POST", "/events")
        connection.putheader("Content-Length", str(1024 * 1024 + 1))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_the_program_reads_its_environment_and_stops_on_sigterm(running_program, free_port, tmp_path):
    """As the service runs it: port and receivers from the environment; SIGTERM ends it at once, cleanly."""
    (tmp_path / "sentinel-receiver-hook").write_text(json.dumps(_webhook("hook", _refused_url(), "shop")))
    env = {"SENTINEL_NOTIFIER_PORT": str(free_port), "SENTINEL_RECEIVERS_DIR": str(tmp_path)}
    with running_program(PROGRAM, env, lambda: _request(free_port, "GET", "/healthz") == (200, "ok")):
        assert _request(free_port, "GET", "/receivers") == (
            200,
            {"receivers": [{"name": "hook", "kind": "webhook", "app": "shop"}]},
        )

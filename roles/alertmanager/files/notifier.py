# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sentinel's notifier: Alertmanager's alerts and the playbooks' operation events, to the operator's receivers.

Both arrive over HTTP and leave as one documented payload, the collection's event (``sentinel.event/v1``,
plugins/module_utils/_events.py), for webhooks, Slack incoming webhooks and e-mail. A sender never waits for a
receiver: an event is queued and answered at once, and each receiver has its own queue and thread, so a slow or
dead receiver delays only its own events. The receivers are Docker secrets that only this service mounts, since a
webhook's URL is its credential: nothing here logs or answers a URL, an address or a password. Standard library
only: the service runs it in a plain Python image (3.9 or later).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import smtplib
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCHEMA = "sentinel.event/v1"
RECEIVER_FILES = "sentinel-receiver-*"
KINDS = ("webhook", "slack", "email")
MAX_TIMEOUT = 2.0  # an attempt's limit, whatever the environment asks: a queue must keep moving
MAX_BODY = 1024 * 1024
QUEUE_SIZE = 1000
TEST_SUMMARY = "Test notification from Sentinel"
TEST_WAIT = 4.0  # the longest /test waits for its answers: within the 5 s the module gives the call
ALERT_TYPES = ("alert.firing", "alert.resolved")


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parse_receiver(text: bytes) -> dict:
    """The receiver that a receiver file holds, every field present (a missing e-mail username or password is
    null, a missing starttls true). ValueError unless it is one; its message names a field, never a value."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    name, kind, app = value.get("name"), value.get("kind"), value.get("app")
    if not isinstance(name, str) or not name:
        raise ValueError("name is not a non-empty string")
    if kind not in KINDS:
        raise ValueError("kind is not webhook, slack or email")
    if app is not None and (not isinstance(app, str) or not app):
        raise ValueError("app is neither null nor a non-empty string")
    if kind == "email":
        return {"name": name, "kind": kind, "app": app, "email": _email(value.get("email"))}
    url = value.get("url")
    try:
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # its message may quote the URL
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("url is not an http or https URL")
    return {"name": name, "kind": kind, "app": app, "url": url}


def _email(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("email is not an object")
    config = {"username": None, "password": None, "starttls": True, **value}
    to = config.get("to")
    if not isinstance(to, list) or not to or not all(isinstance(address, str) and address for address in to):
        raise ValueError("email.to is not a non-empty list of addresses")
    for field in ("from", "host"):
        if not isinstance(config.get(field), str) or not config[field]:
            raise ValueError(f"email.{field} is not a non-empty string")
    port = config.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError("email.port is not a port number")
    for field in ("username", "password"):
        if config[field] is not None and not isinstance(config[field], str):
            raise ValueError(f"email.{field} is neither null nor a string")
    if not isinstance(config["starttls"], bool):
        raise ValueError("email.starttls is not a boolean")
    return {field: config[field] for field in ("to", "from", "host", "port", "username", "password", "starttls")}


def load_receivers(directory: Path) -> list[dict]:
    """The receivers of the ``sentinel-receiver-*`` files in ``directory``, sorted by name. A file that holds no
    valid receiver, or one whose name another file took, is skipped with a line that names the file."""
    receivers: dict[str, dict] = {}
    for path in sorted(directory.glob(RECEIVER_FILES)):
        try:
            receiver = parse_receiver(path.read_bytes())
        except OSError as exc:
            log(f"{path.name}: skipped, unreadable ({type(exc).__name__})")
            continue
        except ValueError as exc:
            log(f"{path.name}: skipped, not a valid receiver: {exc}")
            continue
        if receiver["name"] in receivers:
            log(f"{path.name}: skipped, another file already defines receiver {receiver['name']}")
            continue
        receivers[receiver["name"]] = receiver
    return [receivers[name] for name in sorted(receivers)]


def route(receivers: list[dict], app) -> list[dict]:
    """The receivers of an event of ``app``: those of that app if it has any, otherwise the cluster-wide ones
    (app null). An event with no app goes to the cluster-wide ones."""
    own = [receiver for receiver in receivers if app is not None and receiver["app"] == app]
    return own or [receiver for receiver in receivers if receiver["app"] is None]


def load_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("the body is not JSON") from None


def check_event(value) -> dict:
    """``value`` if it is an event that POST /events accepts; ValueError otherwise."""
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} event")
    if not isinstance(value.get("type"), str) or not value["type"]:
        raise ValueError("the event's type is not a non-empty string")
    return value


def alert_events(payload) -> list[dict]:
    """One event for each alert of an Alertmanager webhook payload (version 4), in its order: type
    ``alert.firing`` at its start or ``alert.resolved`` at its end, with its app, name, severity, summary and
    description taken from its labels and annotations. ValueError unless the payload is one."""
    alerts = payload.get("alerts") if isinstance(payload, dict) else None
    if not isinstance(alerts, list):
        raise ValueError("not an Alertmanager webhook payload")
    events = []
    for alert in alerts:
        if not isinstance(alert, dict) or alert.get("status") not in ("firing", "resolved"):
            raise ValueError("an alert is not an object whose status is firing or resolved")
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        if not isinstance(labels, dict) or not isinstance(annotations, dict):
            raise ValueError("an alert's labels or annotations are not an object")
        firing = alert["status"] == "firing"
        events.append(
            {
                "schema": SCHEMA,
                "type": f"alert.{alert['status']}",
                "app": labels.get("app"),
                "at": alert.get("startsAt" if firing else "endsAt"),
                "alert": labels.get("alertname"),
                "severity": labels.get("severity"),
                "summary": annotations.get("summary"),
                "description": annotations.get("description"),
                "labels": labels,
                "fingerprint": alert.get("fingerprint"),
            }
        )
    return events


def summary_line(event: dict) -> str:
    """The event in one line, for a chat message or a mail's subject.

    An alert: ``APP: ALERTNAME firing|resolved: SUMMARY`` (``: SUMMARY`` only when it has one, ``alert`` for a
    missing name). Any other event: ``APP: TYPE``, then ``: SUMMARY`` when it has a ``summary`` string. APP is
    ``cluster`` for an event with no app. Every run of white space becomes one space: an annotation may span
    lines, a mail's subject cannot.
    """
    where = event.get("app") or "cluster"
    if event["type"] in ALERT_TYPES:
        line = f"{where}: {event.get('alert') or 'alert'} {event['type'][len('alert.') :]}"
    else:
        line = f"{where}: {event['type']}"
    summary = event.get("summary")
    if isinstance(summary, str) and summary.strip():
        line = f"{line}: {summary}"
    return " ".join(line.split())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not a delivery: urllib would follow it with a GET that carries no event."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, payload: dict, timeout: float) -> None:
    """POST ``payload`` to ``url``; any 2xx answer is a delivery, anything else raises."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "Sentinel-Notifier"},
        method="POST",
    )
    with _OPENER.open(request, timeout=timeout):
        pass


def send_email(config: dict, event: dict, timeout: float) -> None:
    line = summary_line(event)
    message = EmailMessage()
    message["Subject"] = f"[Sentinel] {line}"
    message["From"] = config["from"]
    message["To"] = ", ".join(config["to"])
    message.set_content(f"{line}\n\n{json.dumps(event, indent=2, ensure_ascii=False)}\n")
    with smtplib.SMTP(config["host"], config["port"], timeout=timeout) as smtp:
        if config["starttls"]:
            smtp.starttls(context=ssl.create_default_context())  # smtplib's own context checks no certificate
        if config["username"]:
            smtp.login(config["username"], config["password"] or "")  # no password: the server says no
        smtp.send_message(message)


def deliver(receiver: dict, event: dict, timeout: float) -> None:
    """One attempt to deliver ``event`` to ``receiver``: returns once it is delivered, raises otherwise."""
    if receiver["kind"] == "email":
        send_email(receiver["email"], event, timeout)
    elif receiver["kind"] == "slack":
        post_json(receiver["url"], {"text": summary_line(event)}, timeout)
    else:
        post_json(receiver["url"], event, timeout)


def reason(exc: BaseException) -> str:
    """What went wrong, short, and without what the exception's message may quote: a URL, an address, a body."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return reason(exc.reason)
    if isinstance(exc, (TimeoutError, socket.timeout)):  # one class only from 3.10 on
        return "timeout"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    return type(exc).__name__


def attempt(receiver: dict, event: dict, timeout: float) -> str:
    """``ok``, or ``error: REASON`` after logging the failure."""
    try:
        deliver(receiver, event, timeout)
    except Exception as exc:
        log(f"receiver {receiver['name']}: {event['type']} not delivered: {reason(exc)}")
        return f"error: {reason(exc)}"
    return "ok"


class Outbox:
    """One receiver's events, delivered in the order they came by a thread of its own. Bounded: when full, the
    oldest event goes, so that a receiver down for long holds neither memory nor a backlog of stale news."""

    def __init__(self, receiver: dict, timeout: float) -> None:
        self.receiver = receiver
        self.timeout = timeout
        self._events: collections.deque = collections.deque()
        self._ready = threading.Condition()
        threading.Thread(target=self._deliver, name=f"receiver {receiver['name']}", daemon=True).start()

    def put(self, event: dict) -> None:
        with self._ready:
            if len(self._events) >= QUEUE_SIZE:
                dropped = self._events.popleft()
                log(f"receiver {self.receiver['name']}: queue full, {dropped['type']} dropped")
            self._events.append(event)
            self._ready.notify()

    def _deliver(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._events)
                event = self._events.popleft()
            attempt(self.receiver, event, self.timeout)


class Notifier(ThreadingHTTPServer):
    """The HTTP API over the receivers, each with its Outbox."""

    def __init__(self, address: tuple[str, int], receivers: list[dict], timeout: float) -> None:
        super().__init__(address, Handler)
        self.receivers = receivers
        self.delivery_timeout = timeout
        self.outboxes = {receiver["name"]: Outbox(receiver, timeout) for receiver in receivers}

    def enqueue(self, event: dict) -> list[str]:
        """Queue ``event`` for its receivers; their names."""
        names = [receiver["name"] for receiver in route(self.receivers, event.get("app"))]
        for name in names:
            self.outboxes[name].put(event)
        return names

    def test(self, receivers: list[dict]) -> dict[str, str]:
        """A notify.test event to each of ``receivers`` now, all at once, bypassing their queues."""
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 - datetime.UTC is 3.11
        event = {"schema": SCHEMA, "type": "notify.test", "app": None, "at": at, "summary": TEST_SUMMARY}
        results: dict[str, str] = {}

        def one(receiver: dict) -> None:
            results[receiver["name"]] = attempt(receiver, event, self.delivery_timeout)

        threads = [threading.Thread(target=one, args=(receiver,), daemon=True) for receiver in receivers]
        for thread in threads:
            thread.start()
        # The timeout bounds each socket operation, not a whole delivery (an SMTP exchange has many): the answer
        # does not wait past TEST_WAIT for a receiver still talking.
        deadline = time.monotonic() + TEST_WAIT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        answered = dict(results)
        return {
            r["name"]: answered.get(r["name"], "error: timeout") for r in sorted(receivers, key=lambda r: r["name"])
        }


class Handler(BaseHTTPRequestHandler):
    timeout = 10  # a client that stops sending cannot hold a thread for ever
    server: Notifier

    def _answer(self) -> None:
        try:
            status, answer = self._reply()
            body = answer.encode("utf-8") if isinstance(answer, str) else json.dumps(answer).encode("utf-8")
            self.send_response(status)
            kind = "text/plain; charset=utf-8" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:  # the client gone or stalled: not this server's error, and no traceback on stderr
            self.close_connection = True

    def _reply(self) -> tuple[int, object]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return 400, {"error": "bad Content-Length"}
        if length > MAX_BODY:
            self.close_connection = True  # its body stays unread
            return 413, {"error": "the body is over 1 MiB"}
        body = self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        call = (self.command, url.path)
        try:
            if call == ("POST", "/events"):
                return 202, {"queued": self.server.enqueue(check_event(load_json(body)))}
            if call == ("POST", "/alertmanager"):
                events = alert_events(load_json(body))
                return 202, {"queued": [self.server.enqueue(event) for event in events]}
        except ValueError as exc:
            return 400, {"error": str(exc)}
        if call == ("POST", "/test"):
            wanted = urllib.parse.parse_qs(url.query, keep_blank_values=True).get("receiver")
            receivers = [r for r in self.server.receivers if wanted is None or r["name"] == wanted[0]]
            if wanted is not None and not receivers:
                return 404, {"error": "no such receiver"}
            return 200, {"results": self.server.test(receivers)}
        if call == ("GET", "/receivers"):
            fields = ("name", "kind", "app")
            return 200, {"receivers": [{field: r[field] for field in fields} for r in self.server.receivers]}
        if call == ("GET", "/healthz"):
            return 200, "ok"
        return 404, {"error": "not found"}

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def log_message(self, format, *args) -> None:
        """No line per request: under load it would flood the service's log."""


def make_server(port: int, receivers_dir: Path, timeout: float, host: str = "0.0.0.0") -> Notifier:
    """The notifier on ``host``:``port``, not serving yet, with the receivers of ``receivers_dir`` and an attempt's
    ``timeout`` in seconds (at most MAX_TIMEOUT). Their threads are already waiting for events."""
    timeout = min(timeout, MAX_TIMEOUT)
    if not timeout > 0:
        raise ValueError("the timeout is not a positive number of seconds")
    return Notifier((host, port), load_receivers(Path(receivers_dir)), timeout)


def main() -> None:
    port = int(os.environ.get("SENTINEL_NOTIFIER_PORT", "9095"))
    receivers_dir = Path(os.environ.get("SENTINEL_RECEIVERS_DIR", "/run/secrets"))
    timeout = float(os.environ.get("SENTINEL_NOTIFIER_TIMEOUT", str(MAX_TIMEOUT)))
    server = make_server(port, receivers_dir, timeout)

    # Swarm stops a task with SIGTERM; as PID 1 in its container, Python would ignore it without a
    # handler and Swarm would wait out the grace period before killing it. Queued events are lost.
    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()

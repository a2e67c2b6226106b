"""notify_event against the real notifier program (roles/alertmanager/files/notifier.py) on this machine: the
module's POST runs as it would inside the notifier's task, with this machine's Python.

The event reaches a real stub receiver; a notifier that is gone costs a warning, never a failure; a test
reports each receiver's answer and fails when one did not take it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import NoLocalTask
from ansible_collections.sentinel.paas.plugins.modules import notify_event
from module_harness import fail, run

PROGRAM = Path(__file__).resolve().parents[4] / "roles" / "alertmanager" / "files" / "notifier.py"


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200 if "/ok" in self.path else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    yield server, got
    server.shutdown()


@pytest.fixture(scope="module")
def notifier_port(receiver, tmp_path_factory):
    spec = importlib.util.spec_from_file_location("notifier", PROGRAM)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    port = receiver[0].server_address[1]
    secrets = tmp_path_factory.mktemp("secrets")
    for name, path in (("ok", "/ok"), ("broken", "/broken")):
        receiver_file = {"name": name, "kind": "webhook", "app": None, "url": f"http://127.0.0.1:{port}{path}"}
        (secrets / f"sentinel-receiver-{name}").write_text(json.dumps(receiver_file))
    server = _serve(program.make_server(0, secrets, 2, host="127.0.0.1"))
    yield server.server_address[1]
    server.shutdown()


class LocalNotifier:
    """The module's Swarm, with the notifier's task being this machine (None: no task here)."""

    port: int | None = None
    exists = True

    def __init__(self, module):
        pass

    def service(self, name):
        assert name == "sentinel-notifier"
        return {"Spec": {"Name": name}} if self.exists else None

    def exec_in_local_task(self, service, argv):
        if self.port is None:
            raise NoLocalTask("sentinel-notifier runs on node2, not on this host")
        # The last argument is the notifier's port: this test's.
        argv = [sys.executable if a == "python3" else a for a in argv[:-1]] + [str(self.port)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        return done.returncode, done.stdout, done.stderr


@pytest.fixture(autouse=True)
def local(monkeypatch, notifier_port):
    monkeypatch.setattr(notify_event, "Swarm", LocalNotifier)
    LocalNotifier.port, LocalNotifier.exists = notifier_port, True


def test_an_event_is_handed_over_and_reaches_the_receivers(receiver):
    result = run(notify_event, {"type": "deploy", "app": "todo", "summary": "v2 is live", "details": {"release": 2}})
    assert result["sent"] and sorted(result["queued"]) == ["broken", "ok"] and not result["changed"]
    event = result["event"]
    assert event["schema"] == "sentinel.event/v1" and (event["type"], event["app"], event["release"]) == (
        "deploy",
        "todo",
        2,
    )
    got, deadline = receiver[1], time.monotonic() + 5
    while event not in got and time.monotonic() < deadline:
        time.sleep(0.05)
    assert event in got


def test_check_mode_sends_nothing():
    result = run(notify_event, {"type": "deploy", "app": "todo"}, check=True)
    assert not result["sent"] and result["queued"] == [] and result["event"]["type"] == "deploy"


def test_a_notifier_that_is_gone_costs_a_warning_not_the_operation(monkeypatch):
    warned = []
    monkeypatch.setattr(notify_event.AnsibleModule, "warn", lambda self, text: warned.append(text))
    LocalNotifier.port = None
    assert not run(notify_event, {"type": "deploy", "app": "todo"})["sent"]
    assert warned == ["the receivers were not told of deploy: sentinel-notifier runs on node2, not on this host"]
    LocalNotifier.exists = False
    assert not run(notify_event, {"type": "deploy", "app": "todo"})["sent"] and len(warned) == 1


def test_a_test_reports_each_receiver_and_fails_when_one_did_not_take_it():
    assert run(notify_event, {"test": True, "receiver": "ok"})["answers"] == {"ok": "ok"}
    failed = fail(notify_event, {"test": True})
    assert failed["answers"] == {"broken": "error: HTTP 500", "ok": "ok"}
    assert failed["msg"] == "Error testing the receivers: broken: error: HTTP 500"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"type": "Deploy!"}, "invalid event type"),
        ({"type": "deploy", "details": {"app": "x"}}, "details must not name app"),
    ],
)
def test_bad_input_is_refused(args, message):
    assert message in fail(notify_event, args)["msg"]

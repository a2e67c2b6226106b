"""traefik_wait's request for a domain, against a real HTTP server standing in for Traefik's port.

That a deploy waits with it until Traefik routes a new app is proven on the real Swarm by every deploy in
tests/integration (the app answers through Traefik as soon as the deploy returns).
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.modules import traefik_wait
from http_stub import serving

BY_HOST = {
    "app.test": (200, b"hello from the app"),
    "unrouted.test": (404, b"404 page not found\n"),
    "app-404.test": (404, b"no such to-do"),
    "starting.test": (504, b"Gateway Timeout"),
    "tls.test": (308, b"Permanent Redirect"),
}


@pytest.fixture
def traefik_port(monkeypatch):
    """Stands in for Traefik's HTTP port: answers by the request's Host header."""
    with serving(lambda request: BY_HOST[request.headers["Host"]]) as server:
        monkeypatch.setattr(_naming, "TRAEFIK_HTTP_PORT", server.server_address[1])
        yield server


@pytest.mark.parametrize("domain", ["app.test", "app-404.test", "tls.test"])
def test_the_apps_answer_or_its_redirect_ends_the_wait(traefik_port, domain):
    assert traefik_wait.answer(domain) is None


@pytest.mark.parametrize(
    ("domain", "status"), [("unrouted.test", 404), ("starting.test", 504)], ids=["traefik-404", "no-task-yet"]
)
def test_traefiks_own_answers_keep_it_waiting(traefik_port, domain, status):
    assert traefik_wait.answer(domain) == f"a request for {domain} gets Traefik's own {status}, not the app"


def test_a_closed_port_keeps_it_waiting(traefik_port):
    traefik_port.shutdown()
    traefik_port.server_close()
    assert traefik_wait.answer("app.test").startswith("a request for app.test got no answer (ConnectionRefusedError")


def test_a_broken_answer_keeps_it_waiting(traefik_port, monkeypatch):
    monkeypatch.setitem(BY_HOST, "broken.test", (200, b""))
    handler = traefik_port.RequestHandlerClass
    monkeypatch.setattr(handler, "send_response", lambda self, code: self.wfile.write(b"NOT HTTP\r\n"))
    assert traefik_wait.answer("broken.test").startswith("a request for broken.test got no answer (BadStatusLine")

"""The control_plane role's maintenance page server, run for real on a local port: a 503 with the
operator's message (percent-encoded in a header by the app's middleware), and a health path."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = ROOT / "roles" / "control_plane" / "files" / "maintenance_page.py"


@pytest.fixture(scope="module")
def port(program, request) -> int:
    server = program.ThreadingHTTPServer(("127.0.0.1", 0), program.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()

    request.addfinalizer(stop)
    return server.server_address[1]


def _request(port: int, method: str, path: str = "/", headers=None, body=None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_message_is_unquoted_and_escaped(port, capfd):
    message = "Back at 18:00 <script>alert('x')</script> — café, 漢字 & co"
    quoted = {"X-Sentinel-Maintenance": urllib.parse.quote(message)}
    status, headers, body = _request(port, "GET", "/any/path?x=1", quoted)
    assert status == 503
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body)
    text = body.decode("utf-8")
    assert "<title>Down for maintenance</title>" in text
    assert "<p>Back at 18:00 &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; — café, 漢字 &amp; co</p>" in text
    assert "<script>" not in text
    assert "retry-after" not in headers  # Traefik's headers middleware adds it
    assert capfd.readouterr() == ("", "")


def test_without_the_header_the_default_message(port, program):
    for headers in ({}, {"X-Sentinel-Maintenance": ""}):
        status, _headers, body = _request(port, "GET", "/", headers)
        assert status == 503
        assert f"<p>{program.DEFAULT_MESSAGE}</p>".encode() in body


def test_the_page_is_self_contained(program):
    text = program.page("hello").decode("utf-8")
    assert "<p>hello</p>" in text
    assert "http" not in text and "src=" not in text and "href=" not in text


def test_head_gets_the_headers_only(port):
    status, headers, body = _request(port, "HEAD", "/")
    assert status == 503 and body == b""
    assert int(headers["content-length"]) > 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_gets_the_page(port, method):
    status, _headers, body = _request(port, method, "/api/items", body=b"x" * 300_000)
    assert status == 503 and b"Down for maintenance" in body


def test_the_health_path(port, capfd):
    status, headers, body = _request(port, "GET", "/.well-known/sentinel-maintenance-health")
    assert (status, body) == (200, b"ok")
    assert headers["cache-control"] == "no-store"
    assert _request(port, "GET", "/.well-known/sentinel-maintenance-health/x")[0] == 503
    assert _request(port, "GET", "/.well-known/other")[0] == 503
    assert capfd.readouterr() == ("", "")


def test_the_program_stops_on_sigterm(running_program, free_port):
    """Swarm stops a task with SIGTERM: the program exits at once, cleanly, having logged nothing."""
    env = {"SENTINEL_MAINTENANCE_PORT": str(free_port)}
    health = "/.well-known/sentinel-maintenance-health"
    with running_program(PROGRAM, env, lambda: _request(free_port, "GET", health)[0] == 200):
        assert _request(free_port, "GET", "/")[0] == 503


def test_the_program_speaks_the_names_the_collection_uses(program):
    from ansible_collections.sentinel.paas.plugins.module_utils import _naming

    assert program.MESSAGE_HEADER == _naming.MAINTENANCE_HEADER
    assert program.HEALTH_PATH == _naming.MAINTENANCE_HEALTH_PATH

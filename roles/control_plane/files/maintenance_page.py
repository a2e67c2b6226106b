# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The page Traefik shows for an app in maintenance: a 503 with the operator's message.

Traefik has no middleware that answers with a static response, so the page needs a server. The
message comes in a header that the app's own middleware adds, so one server serves every app and
keeps no state per app. Standard library only: the service runs it in a plain Python image.
"""

from __future__ import annotations

import html
import os
import signal
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Percent-encoded by the app's middleware: a header carries no newline and no reliable non-ASCII. This and the
# health path are _naming.py's MAINTENANCE_HEADER and MAINTENANCE_HEALTH_PATH (the program runs alone).
MESSAGE_HEADER = "X-Sentinel-Maintenance"
DEFAULT_MESSAGE = "This app is down for maintenance. Please try again shortly."
HEALTH_PATH = "/.well-known/sentinel-maintenance-health"
MAX_BODY = 1024 * 1024

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Down for maintenance</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; }}</style>
</head>
<body>
<h1>Down for maintenance</h1>
<p>{message}</p>
</body>
</html>
"""


def page(message: str | None) -> bytes:
    """The HTML body for ``message`` (the header's value, already unquoted), or the default one."""
    return PAGE.format(message=html.escape(message or DEFAULT_MESSAGE, quote=True)).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    timeout = 30  # a client that stops sending cannot hold a thread for ever

    def _answer(self) -> None:
        try:
            self._discard_body()
            self._reply()
        except OSError:  # the client gone or stalled: not this server's error, and no traceback on stderr
            self.close_connection = True

    def _reply(self) -> None:
        if urllib.parse.urlsplit(self.path).path == HEALTH_PATH:
            status, kind, body = 200, "text/plain; charset=utf-8", b"ok"
        else:
            message = urllib.parse.unquote(self.headers.get(MESSAGE_HEADER, "")).strip()
            status, kind, body = 503, "text/html; charset=utf-8", page(message)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _discard_body(self) -> None:
        """Read the request's body: closing a socket with unread data resets the connection, and the
        client would see an error instead of the page. A body past MAX_BODY is not read to its end."""
        try:
            remaining = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        except ValueError:
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                return
            remaining -= len(chunk)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def log_message(self, format, *args) -> None:
        """No line per request: under load it would flood the service's log."""


def main() -> None:
    port = int(os.environ.get("SENTINEL_MAINTENANCE_PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)

    # Swarm stops a task with SIGTERM; as PID 1 in its container, Python would ignore it without a
    # handler and Swarm would wait out the grace period before killing it.
    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()

"""A real HTTP server on a free local port, answering what a test chooses (Traefik, Prometheus or the
Docker engine), for unit tests that drive real HTTP clients (http.client, wget, curl) against it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, body) or (status, body, content type) for one GET request; the request gives its path and headers.
Answer = Callable[[BaseHTTPRequestHandler], tuple]


@contextmanager
def serving(answer: Answer, content_type: str | None = None) -> Iterator[ThreadingHTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            status, body, *kind = answer(self)
            self.send_response(status)
            if kind or content_type:
                self.send_header("Content-Type", kind[0] if kind else content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

"""Todo: a small PostgreSQL-backed to-do web app used to demonstrate canary deployments.

Standard library HTTP server plus psycopg2. Configuration comes from the environment;
see README.md next to this file.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import signal
import socket
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:
    import psycopg2

    DB_ERRORS: tuple[type[Exception], ...] = (psycopg2.Error,)
except ImportError:  # only needed when a database is configured
    psycopg2 = None
    DB_ERRORS = ()

VERSION = os.environ.get("APP_VERSION", "1")
HOSTNAME = socket.gethostname()
PORT = int(os.environ.get("PORT", "8000"))
DRAIN_SECONDS = float(os.environ.get("TODO_DRAIN_SECONDS", "3"))
FAIL_EVERY = int(os.environ.get("TODO_FAIL_EVERY", "0"))  # test hook
FAIL_FIRST = int(os.environ.get("TODO_FAIL_FIRST", "0"))  # test hook
DELAY_SECONDS = int(os.environ.get("TODO_DELAY_MS", "0")) / 1000  # test hook
FORCE_UNHEALTHY = os.environ.get("TODO_UNHEALTHY") == "1"  # test hook
ACCENTS = {"1": "#2563eb", "2": "#db2777"}  # v2 must look different at a glance
MAX_BODY = 64 * 1024
MAX_TITLE = 500

SCHEMA = """CREATE TABLE IF NOT EXISTS todos (
    id serial PRIMARY KEY,
    title text NOT NULL,
    created_at timestamptz DEFAULT now())"""


def log(message: str) -> None:
    print(f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {message}", flush=True)


class MemoryStore:
    """Keeps to-dos in a list so the app also runs without a database."""

    description = "in-memory store (no PGHOST set): data is lost on restart"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._todos: list[dict[str, Any]] = []

    def todos(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._todos)

    def add(self, title: str) -> dict[str, Any]:
        with self._lock:
            todo = {
                "id": len(self._todos) + 1,
                "title": title,
                "created_at": datetime.now(UTC).isoformat(),
            }
            self._todos.append(todo)
            return todo

    def healthy(self) -> bool:
        return True


class PgStore:
    """One short connection per operation: simple, and survives database restarts."""

    def __init__(self) -> None:
        if psycopg2 is None:
            sys.exit("PGHOST is set but psycopg2 is not installed")
        # libpq reads PGHOST/PGPORT/PGUSER/PGDATABASE and PGPASSFILE itself; a raw password
        # file (the Docker-secret style) has to be read here.
        self._params: dict[str, Any] = {
            "connect_timeout": 5,
            "application_name": "todo",
        }
        password_file = os.environ.get("PGPASSWORD_FILE")
        if password_file:
            with open(password_file, encoding="utf-8") as f:
                self._params["password"] = f.read().rstrip("\r\n")
        target = f"{os.environ['PGHOST']}:{os.environ.get('PGPORT', '5432')}"
        self.description = f"PostgreSQL at {target}"

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        # pylint: disable-next=confusing-with-statement  # a parenthesised group, not a tuple
        with (
            closing(psycopg2.connect(**self._params)) as conn,
            conn,
            conn.cursor() as cur,
        ):
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def wait_and_migrate(self, timeout: float = 60.0) -> None:
        # The database may come up after us (Swarm starts services in any order).
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run(SCHEMA)
                log(f"connected to {self.description}; table todos ready")
                return
            except psycopg2.Error as exc:
                if time.monotonic() > deadline:
                    sys.exit(f"database not reachable after {timeout:.0f}s: {first_line(exc)}")
                log(f"waiting for database: {first_line(exc)}")
                time.sleep(2)

    def todos(self) -> list[dict[str, Any]]:
        rows = self._run("SELECT id, title, created_at FROM todos ORDER BY id")
        return [{"id": i, "title": t, "created_at": c.isoformat()} for i, t, c in rows]

    def add(self, title: str) -> dict[str, Any]:
        sql = "INSERT INTO todos (title) VALUES (%s) RETURNING id, title, created_at"
        ((i, t, c),) = self._run(sql, (title,))
        return {"id": i, "title": t, "created_at": c.isoformat()}

    def healthy(self) -> bool:
        try:
            self._run("SELECT 1")
            return True
        except psycopg2.Error:
            return False


class ClientError(Exception):
    """A bad request, answered with its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


STORE: MemoryStore | PgStore = PgStore() if os.environ.get("PGHOST") else MemoryStore()
DRAINING = threading.Event()
_request_counter = itertools.count(1)
_counter_lock = threading.Lock()


def valid_title(title: Any) -> str:
    if not isinstance(title, str) or not 0 < len(title.strip()) <= MAX_TITLE:
        raise ClientError(400, f"title must be a string of 1-{MAX_TITLE} characters")
    return title.strip()


def injected_failure() -> bool:
    """TODO_FAIL_EVERY=N: every Nth request to the to-do pages fails, deterministically;
    TODO_FAIL_FIRST=N: the first N fail."""
    if FAIL_EVERY <= 0 and FAIL_FIRST <= 0:
        return False
    with _counter_lock:
        number = next(_request_counter)
    return number <= FAIL_FIRST or (FAIL_EVERY > 0 and number % FAIL_EVERY == 0)


def render_page(todos: list[dict[str, Any]]) -> str:
    accent = ACCENTS.get(VERSION, "#16a34a")
    items = "\n".join(f"<li>{html.escape(t['title'])}</li>" for t in todos) or "<li><em>nothing yet</em></li>"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Todo v{html.escape(VERSION)}</title>
<style>
body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; }}
h1 {{ color: {accent}; border-bottom: 4px solid {accent}; }}
button {{ background: {accent}; color: white; border: 0; padding: .4em 1em; }}
footer {{ color: #666; font-size: small; margin-top: 2em; }}
</style></head>
<body><h1>Todo v{html.escape(VERSION)}</h1>
<form method="post" action="/todos">
<input name="title" maxlength="{MAX_TITLE}" required autofocus> <button>Add</button>
</form>
<ul>
{items}
</ul>
<footer>Served by {html.escape(HOSTNAME)} &middot; {html.escape(STORE.description)}</footer>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "todo"
    _status = 0  # last status sent, for the request log line
    timeout = 10  # drop idle clients so shutdown never waits on them

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        started = time.monotonic()
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except ClientError as exc:
            if path.startswith("/api/"):
                self._json(exc.status, {"error": str(exc)})
            else:
                self._send(exc.status, "text/plain", f"{exc}\n")
        except DB_ERRORS as exc:
            log(f"database error: {first_line(exc)}")
            self._send(503, "text/plain", "database unavailable\n")
        duration_ms = (time.monotonic() - started) * 1000
        log(f"{self.command} {path} {self._status} {duration_ms:.1f}ms")

    def _route(self, path: str) -> None:
        route = (self.command, path)
        if DELAY_SECONDS and path in ("/", "/api/todos"):
            time.sleep(DELAY_SECONDS)
        if path in ("/", "/api/todos") and injected_failure():
            self._send(500, "text/plain", "injected failure (TODO_FAIL_EVERY, TODO_FAIL_FIRST)\n")
        elif route == ("GET", "/"):
            self._send(200, "text/html; charset=utf-8", render_page(STORE.todos()))
        elif route == ("POST", "/todos"):
            form = parse_qs(self._body().decode("utf-8", errors="replace"))
            STORE.add(valid_title(form.get("title", [""])[0]))
            self._send(303, "text/plain", "added\n", {"Location": "/"})
        elif route == ("GET", "/api/todos"):
            self._json(200, STORE.todos())
        elif route == ("POST", "/api/todos"):
            try:
                payload = json.loads(self._body())
            except ValueError:
                raise ClientError(400, "body must be JSON") from None
            title = payload.get("title") if isinstance(payload, dict) else None
            self._json(201, STORE.add(valid_title(title)))
        elif route == ("GET", "/healthz"):
            # Failing health while draining tells the orchestrator to stop sending traffic.
            ok = not FORCE_UNHEALTHY and not DRAINING.is_set() and STORE.healthy()
            status, text = (200, "ok\n") if ok else (503, "unhealthy\n")
            self._send(status, "text/plain", text)
        elif route == ("GET", "/version"):
            self._json(200, {"version": VERSION, "hostname": HOSTNAME})
        elif path in ("/", "/todos", "/api/todos", "/healthz", "/version"):
            self._send(405, "text/plain", "method not allowed\n")
        else:
            self._send(404, "text/plain", "not found\n")

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ClientError(400, "bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise ClientError(413, f"body larger than {MAX_BODY} bytes")
        return self.rfile.read(length)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, "application/json", json.dumps(payload) + "\n")

    def _send(self, status: int, ctype: str, body: str, extra: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def end_headers(self) -> None:
        # Every response, errors included, says which version and which task answered.
        self.send_header("X-App-Version", VERSION)
        self.send_header("X-Served-By", HOSTNAME)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _dispatch logs one line per request; the default would go to stderr


def main() -> None:
    if isinstance(STORE, PgStore):
        STORE.wait_and_migrate()
    server = ThreadingHTTPServer(("", PORT), Handler)
    server.daemon_threads = False  # let in-flight requests finish at shutdown

    def on_term(signum: int, _frame: Any) -> None:
        if DRAINING.is_set():
            return
        # Keep serving a little: a proxy may still route here until it notices we are gone.
        log(f"got signal {signum}; serving {DRAIN_SECONDS:g}s more before exit")
        DRAINING.set()
        threading.Timer(DRAIN_SECONDS, server.shutdown).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    log(f"todo v{VERSION} on {HOSTNAME}:{PORT} using {STORE.description}")
    server.serve_forever()
    server.server_close()
    log("stopped")


if __name__ == "__main__":
    main()

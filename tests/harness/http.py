"""Real HTTP through Traefik on a test node: who answered, and a bounded load generator."""

from __future__ import annotations

import collections
import math
import threading
import time

import requests

# Seconds a test request may wait for each answer: longer is a failure (status 0). Also the most a load may go
# without a request in flight: a client that is still sending is silent only for its pause (Load.longest_silence).
TIMEOUT = 5


class Edge:
    """Requests to Traefik's :80 on one node, routed by Host header."""

    def __init__(self, ip: str, host: str):
        self.url = f"http://{ip}"
        self.host = host

    def get(
        self, path: str = "/", session: requests.Session | None = None, headers: dict | None = None, **kw
    ) -> requests.Response:
        headers = {"Host": self.host, **(headers or {})}
        return (session or requests).get(self.url + path, headers=headers, timeout=TIMEOUT, **kw)

    def post_json(self, path: str, body: dict) -> requests.Response:
        return requests.post(self.url + path, headers={"Host": self.host}, json=body, timeout=TIMEOUT)

    def version(self, session: requests.Session | None = None, headers: dict | None = None) -> str | None:
        """X-App-Version of one answer (a fresh connection without cookies unless ``session``)."""
        response = self.get(session=session, headers=headers)
        return response.headers.get("X-App-Version") if response.status_code == 200 else f"HTTP {response.status_code}"

    def versions(
        self, n: int, session: requests.Session | None = None, headers: dict | None = None
    ) -> collections.Counter:
        return collections.Counter(self.version(session, headers) for _ in range(n))

    def wait_until(self, what: str, condition, timeout: float = 60, interval: float = 0.3):
        """Poll ``condition(edge)`` until truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                value = condition(self)
                if value:
                    return value
            except requests.RequestException as exc:
                last = exc
            time.sleep(interval)
        raise AssertionError(f"{what}: not within {timeout:.0f} s (last error: {last})")


class Load:
    """Background clients hitting the app until stopped, bounded in time and count.

    Each client sends at most ``rate`` requests a second (None: as fast as answers come). Paced
    clients still send enough requests to see a failure, and leave the 2-core machine's CPU to the
    cluster under test: unpaced, two clients and the answers they got took most of it. Each answer
    is recorded as (status, version); connection errors count as status 0.
    ``timings`` holds (sent, seconds) for each, in the same order: when it was sent
    (time.monotonic) and how long it took.
    """

    def __init__(
        self,
        edge: Edge,
        clients: int = 2,
        max_seconds: float = 300,
        max_requests: int = 60000,
        rate: float | None = 50,
    ):
        self.edge = edge
        self.clients = clients
        self.pause = 1 / rate if rate else 0.0
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.results: list[tuple[int, str | None]] = []
        self.timings: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        self.started = self.stopped = math.nan

    def _run(self) -> None:
        session = requests.Session()  # keep-alive, no cookies kept: each request is a new "user"
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            session.cookies.clear()
            sent = time.monotonic()
            try:
                response = self.edge.get(session=session)
                outcome = (response.status_code, response.headers.get("X-App-Version"))
            except requests.RequestException:
                outcome = (0, None)
            with self._lock:
                self.results.append(outcome)
                self.timings.append((sent, time.monotonic() - sent))
                if len(self.results) >= self.max_requests:
                    self._stop.set()
            self._stop.wait(max(0.0, sent + self.pause - time.monotonic()))

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped = time.monotonic()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def since(self, moment: float, until: float = math.inf) -> list[tuple[int, str | None]]:
        """The answers to requests sent at ``moment`` (time.monotonic) or later, and before ``until``."""
        with self._lock:
            return [r for r, (sent, _) in zip(self.results, self.timings, strict=True) if moment <= sent < until]

    def longest_silence(self, start: float | None = None, end: float | None = None) -> float:
        """Seconds of the longest stretch between ``start`` and ``end`` (default: the whole load) in which no
        request was in flight. Clients that keep sending are silent only for their pause between requests, however
        slow the answers; a longer silence means the load stopped (its deadline, its request cap, its threads gone).
        The proof that the load was real, where a count would measure how busy the machine was."""
        start = self.started if start is None else start
        end = self.stopped if end is None else end
        if not start <= end:  # also NaN: a load not entered, or not left yet
            raise ValueError("longest_silence: the load has not run over that window")
        with self._lock:
            in_flight = sorted((sent, sent + took) for sent, took in self.timings if sent <= end)
        longest, covered = 0.0, start
        for sent, answered in in_flight:
            longest = max(longest, min(sent, end) - covered)
            covered = max(covered, answered)
        return max(longest, end - covered)

    def assert_went_on(self, start: float | None = None, end: float | None = None) -> None:
        """The load kept sending from ``start`` to ``end`` (default: throughout): no silence of a request's timeout."""
        silence = self.longest_silence(start, end)
        assert silence < TIMEOUT, f"the load stopped for {silence:.1f} s"

    @property
    def slowest(self) -> float:
        with self._lock:
            return max((seconds for _, seconds in self.timings), default=0.0)

    def summary(self, what: str) -> str:
        """One row of a fault table: what | requests | failed | slowest request."""
        return f"{what} | {len(self.results)} | {sum(self.failures.values())} | {self.slowest:.2f} s"

    @property
    def failures(self) -> collections.Counter:
        return collections.Counter(status for status, _ in self.results if not 200 <= status < 300)

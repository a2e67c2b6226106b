"""Poll until something is true, or removed: the wait loops of the tests and the harness."""

from __future__ import annotations

import time

import docker.errors


def eventually(what: str, probe, timeout: float = 60, interval: float = 0.5):
    """Call ``probe`` until it returns something truthy and return that; an exception means "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except Exception as exc:  # the thing is still coming up
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last error: {last_error!r})")


def remove_when_free(remove, timeout=60):
    """Call ``remove`` until the engine no longer says the object is in use (a network with endpoints,
    a config a stopping task still holds); gone already counts as removed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            remove()
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)

"""Poll until something is true: the one wait loop of the tests and the harness."""

from __future__ import annotations

import time


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

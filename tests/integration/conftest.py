"""Fixtures several integration files share on the session's test Swarm."""

from __future__ import annotations

import pytest

from tests.harness import monitoring as stack


@pytest.fixture(scope="session")
def monitoring(platform, ansible):
    """The monitoring stack (monitoring.yml), applied once for every file that asks Prometheus and
    removed at the end of the session: {"run": the first run, "prometheus": a client of its API}."""
    started = stack.start(platform, ansible)
    # The inventory says so while the stack runs, as on a real cluster: operations tell its notifier.
    ansible.set_vars(sentinel_monitoring_enabled=True)
    try:
        run = started["run"]
        assert run.ok, f"{run.failures}\n{run.stderr[-3000:]}"
        yield started
    finally:
        ansible.set_vars(sentinel_monitoring_enabled=False)
        stack.stop(platform, started)

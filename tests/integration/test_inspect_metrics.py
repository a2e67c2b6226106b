"""`sentinel inspect app` with metrics, end to end on the real 3-node test Swarm.

The monitoring stack (test_monitoring's fixture), an app deployed with the CLI, a canary from
the CLI failing every 4th request, real traffic through Traefik; then the numbers that
`sentinel inspect app -o json` reports (read by metrics_info inside the Prometheus task) are
compared with what the client saw, and the text output is checked for its tables. How long the
command takes is measured in scripts/benchmark.py, not here.
"""

from __future__ import annotations

import collections
import sys
import time

import pytest

from tests.harness.http import Edge
from tests.harness.monitoring import SCRAPE_SECONDS
from tests.harness.monitoring import wait as _wait

pytestmark = pytest.mark.cluster

APP = "pulse"
DOMAIN = "pulse.sentinel.test"
REQUESTS = 240  # about 120 per version at 50/50
VERSIONS = {"1": "prod", "2": "canary"}  # X-App-Version of the todo images


@pytest.fixture(scope="module")
def pulse(platform, sentinel, monitoring):
    """Production todo:1 and a canary todo:2 (TODO_FAIL_EVERY=4) at 50%, through the CLI; then
    REQUESTS requests without cookies through Traefik. Yields what the client saw."""
    prometheus = monitoring["prometheus"]
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    try:
        run = sentinel(
            "canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "50",
            "--env", "TODO_FAIL_EVERY=4",
        )  # fmt: skip
        assert run.returncode == 0, run.error
        edge = Edge(platform.manager.ip, DOMAIN)
        # Traefik creates a service's counters on its first request, and increase() needs a
        # sample before the traffic: warm both versions up and let Prometheus see them first.
        edge.wait_until("both versions answering", lambda e: {e.version(), e.version()} == {"1", "2"}, timeout=90)
        _wait(
            "both versions' counters in Prometheus",
            lambda: (
                len(prometheus.query(f'sum by (service) (traefik_service_requests_total{{service=~"{APP}-.+"}})')) == 2
            ),
            timeout=60,
        )
        sent = {v: collections.Counter() for v in VERSIONS.values()}
        started = time.time()
        for burst in range(4):  # spread over several scrapes, as real traffic is
            for _ in range(REQUESTS // 4):
                response = edge.get("/")
                sent[VERSIONS[response.headers["X-App-Version"]]][response.status_code] += 1
            if burst < 3:
                time.sleep(SCRAPE_SECONDS)
        time.sleep(2 * SCRAPE_SECONDS)  # two more scrapes see the last requests
        yield {"sent": sent, "started": started}
    finally:
        sentinel("destroy", APP, "--yes")


# Prometheus ends the window when the command queries it, which on a busy machine is half a
# minute after it started (29 s seen in CI): the window reaches that much further back.
COMMAND_SECONDS = 60


def _window(pulse) -> str:
    """The measured traffic, however long the command takes to query it; it may also take in the
    warm-up and the deploys' own checks, a few requests next to the hundred and twenty sent."""
    return f"{int(time.time() - pulse['started']) + SCRAPE_SECONDS + COMMAND_SECONDS}s"


def _timed(sentinel, *args, json_output=True):
    started = time.monotonic()
    run = sentinel(*args, json_output=json_output)
    seconds = time.monotonic() - started
    print(f"\n`sentinel {' '.join(args)}` took {seconds:.2f} s", file=sys.stderr)
    assert run.returncode == 0, run.error
    return run, seconds


def test_inspect_app_json_matches_the_traffic_sent(sentinel, pulse):
    sent = pulse["sent"]
    assert sent["prod"][200] + sent["canary"][200] + sent["canary"][500] == REQUESTS
    assert sent["canary"][500] and not sent["prod"][500]
    window = _window(pulse)
    run, _ = _timed(sentinel, "inspect", "app", APP, "--window", window)
    metrics = run.data["metrics"]
    assert metrics["available"] is True and metrics["reason"] is None and metrics["window"] == window
    for version in ("prod", "canary"):
        numbers, total = metrics["app"][version], sum(sent[version].values())
        # increase() extrapolates to the window's edges, and Traefik also counted the few requests
        # made while deploying (deploy's route check, the health waits): close, not exact. The
        # exact raw counters are asserted in test_monitoring.py.
        assert numbers["requests"] == pytest.approx(total, rel=0.25), (version, numbers, sent)
        assert numbers["requests_per_second"] == pytest.approx(numbers["requests"] / int(window[:-1]), rel=1e-3)
        assert numbers["error_ratio_4xx"] == 0
        assert 0 < numbers["p95_seconds"] <= 5, numbers
    assert metrics["app"]["prod"]["error_ratio_5xx"] == 0
    assert metrics["app"]["canary"]["error_ratio_5xx"] == pytest.approx(0.25, abs=0.05)
    assert sent["canary"][500] / sum(sent["canary"].values()) == pytest.approx(0.25, abs=0.02)
    assert sorted(metrics["nodes"]) == ["node1", "node2", "node3"]
    for node in metrics["nodes"].values():
        assert all(0 <= node[m] <= 1 for m in ("cpu", "memory", "disk")), node


def test_inspect_app_text_shows_the_traffic_and_nodes_tables(sentinel, pulse):
    run, _ = _timed(sentinel, "inspect", "app", APP, "--window", _window(pulse), json_output=False)
    lines = run.stdout.splitlines()
    assert "Traffic (last " in run.stdout
    header = lines.index(next(line for line in lines if line.startswith("VERSION ")))
    assert lines[header].split() == ["VERSION", "REQUESTS", "REQ/S", "5XX", "%", "4XX", "%", "P95", "MS"]
    rows = {line.split()[0]: line.split() for line in lines[header + 1 : header + 3]}
    assert set(rows) == {"prod", "canary"}
    assert rows["prod"][3] == "0.0" and 20 <= float(rows["canary"][3]) <= 30
    nodes_header = lines.index(next(line for line in lines if line.startswith("NODE ")))
    assert lines[nodes_header].split() == ["NODE", "CPU", "%", "MEMORY", "%", "DISK", "%"]
    task_nodes = {
        row.split()[2] for row in lines if row.startswith((f"{APP}-prod ", f"{APP}-canary ")) and "running" in row
    }
    shown = {line.split()[0] for line in lines[nodes_header + 1 :] if line.strip()}
    assert shown == task_nodes, run.stdout  # the nodes where the app runs, no others


def test_canary_status_counts_requests_per_version(sentinel, pulse):
    run, _ = _timed(sentinel, "canary", "status", APP, json_output=False)
    for version in ("prod", "canary"):
        line = next(line for line in run.stdout.splitlines() if line.strip().startswith(version))
        assert " requests" in line and "in 5m" in line, run.stdout
    data = sentinel("canary", "status", APP).data
    assert data["traffic"]["canary"]["requests"] > 0

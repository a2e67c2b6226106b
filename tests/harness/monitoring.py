"""The monitoring stack on a test cluster (playbooks/monitoring.yml), and a window onto its Prometheus.

Prometheus publishes no port: a tiny forwarder container on the monitoring network, published on node1,
lets the tests ask it. Scrapes every SCRAPE_SECONDS, so the canary judge's windows hold samples.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from functools import partial

from .wait import eventually, remove_when_free

MONITORING = "sentinel-monitoring"
SCRAPE_SECONDS = 5
PROXY_PORT = 19090  # test-only window onto Prometheus, published on node1 by the forwarder

# A tiny TCP forwarder: the host cannot reach the overlay network, Prometheus publishes nothing.
_FORWARDER = """
import asyncio
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data); await w.drain()
    finally:
        w.close()
async def handle(r, w):
    ur, uw = await asyncio.open_connection("sentinel-prometheus", 9090)
    await asyncio.gather(pipe(r, uw), pipe(ur, w))
async def main():
    server = await asyncio.start_server(handle, "0.0.0.0", 9090)
    await server.serve_forever()
asyncio.run(main())
"""

wait = partial(eventually, timeout=120, interval=1.0)


def role_vars(cluster) -> dict:
    """Extra vars of monitoring.yml on a test cluster: the registry's images, fast scrapes, no Grafana."""
    return {
        "sentinel_grafana_enabled": False,
        "node_exporter_image": cluster.image("sentinel-test/node-exporter:latest"),
        "prometheus_image": cluster.image("sentinel-test/prometheus:latest"),
        "alertmanager_image": cluster.image("sentinel-test/alertmanager:latest"),
        "alertmanager_notifier_image": cluster.image("sentinel-test/base:latest"),
        "prometheus_swarm_exporter_image": cluster.image("sentinel-test/base:latest"),
        "prometheus_scrape_interval": f"{SCRAPE_SECONDS}s",
        "prometheus_evaluation_interval": f"{SCRAPE_SECONDS}s",
        "prometheus_dns_sd_refresh_interval": f"{SCRAPE_SECONDS}s",
        # Alerts reach the test's receiver in seconds, not the minutes a real cluster waits.
        "prometheus_app_down_for": "10s",
        "alertmanager_group_wait": "2s",
        "alertmanager_group_interval": "10s",
    }


class Prometheus:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def query(self, promql: str) -> list[dict]:
        """An instant query; the result vector."""
        answer = self.api("query", query=promql)
        return answer["result"]

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def scraped_after(self, promql: str, moment: float) -> None:
        """Wait until every series of ``promql`` has a sample scraped after ``moment`` (time.time()): a window that
        starts then counts nothing sent before ``moment`` (a window's first sample is the last scrape before it)."""
        eventually(
            f"a scrape of {promql} after the moment",
            lambda: all(float(s["value"][1]) > moment for s in self.query(f"timestamp({promql})")),
        )

    def api(self, path: str, **params) -> dict:
        url = f"{self.base_url}/api/v1/{path}?{urllib.parse.urlencode(params, doseq=True)}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - test container
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]


def start(cluster, ansible) -> dict:
    """Apply monitoring.yml and open the window onto Prometheus: {run, prometheus, forwarder}."""
    run = ansible.playbook("monitoring.yml", role_vars(cluster))
    stack = {"run": run, "prometheus": None, "forwarder": None}
    if not run.ok:
        return stack
    stack["forwarder"] = cluster.manager.client.containers.run(
        cluster.image("sentinel-test/base:latest"),
        ["python3", "-c", _FORWARDER],
        network=MONITORING,
        ports={"9090/tcp": PROXY_PORT},
        detach=True,
        labels={"sentinel.test": "monitoring"},
    )
    prometheus = Prometheus(f"http://{cluster.manager.ip}:{PROXY_PORT}")
    wait("Prometheus API through the forwarder", lambda: prometheus.query("up"))
    stack["prometheus"] = prometheus
    return stack


def stop(cluster, stack: dict) -> None:
    """Remove everything start() and the playbook created."""
    client = cluster.manager.client
    if stack.get("forwarder") is not None:
        stack["forwarder"].remove(force=True)
    names = ("prometheus", "alertmanager", "node-exporter", "notifier", "swarm-exporter")
    for name in names:
        for service in client.services.list(filters={"name": f"sentinel-{name}"}):
            service.remove()
    for config in client.configs.list(filters={"label": "sentinel.role=platform"}):
        if config.name.startswith(tuple(f"sentinel-{name}" for name in names)):
            remove_when_free(config.remove)
    for secret in client.secrets.list(filters={"label": "sentinel.receiver"}):
        remove_when_free(secret.remove)
    for volume in ("sentinel-prometheus-data", "sentinel-alertmanager-data"):
        remove_when_free(lambda volume=volume: client.volumes.get(volume).remove(force=True))

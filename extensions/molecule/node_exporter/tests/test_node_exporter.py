"""The node_exporter scenario's verifier, on every node: an exporter task runs there and serves metrics."""

from sentinel_testinfra import service_get


def test_an_exporter_runs_on_this_node_and_serves_its_metrics(host):
    assert "node_cpu_seconds_total" in service_get(host, "sentinel-node-exporter", 9100, "/metrics")

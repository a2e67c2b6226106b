"""The grafana scenario's verifier, on the manager: Grafana runs and reports its database healthy."""

import json

from sentinel_testinfra import managers, service_get

testinfra_hosts = managers()


def test_grafana_is_healthy(host):
    assert json.loads(service_get(host, "sentinel-grafana", 3000, "/api/health"))["database"] == "ok"

"""The prometheus scenario's verifier, on the manager: Prometheus ready, with Sentinel's alert rules."""

import json

from sentinel_testinfra import managers, service_get

testinfra_hosts = managers()


def test_prometheus_is_ready(host):
    assert "Ready" in service_get(host, "sentinel-prometheus", 9090, "/-/ready")


def test_sentinels_alert_rules_are_loaded(host):
    groups = json.loads(service_get(host, "sentinel-prometheus", 9090, "/api/v1/rules"))["data"]["groups"]
    assert any(rule["type"] == "alerting" for group in groups for rule in group["rules"]), groups

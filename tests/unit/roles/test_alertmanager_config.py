"""The alertmanager role's configuration, rendered as the role renders it and read by a real amtool.

`amtool check-config` is what the role's `validate:` runs; `amtool config routes test` says which
receiver an alert reaches. amtool runs inside the Alertmanager test image (fixture amtool in
conftest.py) on the file the fixture alertmanager_config renders. That Prometheus sends its alerts
there is proven on the real Swarm (tests/integration/test_monitoring.py).
"""

from __future__ import annotations

import pytest
import yaml

DEFAULT_RECEIVER = "sentinel-alertmanager-default"


def test_amtool_accepts_the_configuration(alertmanager_config, amtool):
    status, output = amtool(alertmanager_config.parent, "check-config", "alertmanager.yml")
    assert status == 0 and "SUCCESS" in output, output


@pytest.mark.parametrize(
    "labels",
    [
        ["alertname=TargetDown", "severity=critical"],
        ["alertname=CanaryErrorRateAboveProduction", "app=todo", "version=canary"],
        ["alertname=NodeDiskAlmostFull", "nodename=node2"],
    ],
)
def test_every_alert_reaches_the_default_receiver(alertmanager_config, amtool, labels):
    args = ["config", "routes", "test", "--config.file=alertmanager.yml", *labels]
    status, output = amtool(alertmanager_config.parent, *args)
    # One line is the receiver; amtool's warning that the file overrides --alertmanager.url goes to stderr,
    # which the container's log interleaves with stdout in either order.
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("Warning:")]
    assert status == 0 and lines == [DEFAULT_RECEIVER], output


def test_alerts_are_grouped_by_app_and_node(alertmanager_config):
    route = yaml.safe_load(alertmanager_config.read_text())["route"]
    assert route["group_by"] == ["alertname", "app", "nodename"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")

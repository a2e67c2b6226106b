"""The alertmanager scenario's verifier, on the manager: Alertmanager ready, alone, with Sentinel's route."""

import json

from sentinel_testinfra import managers, service_get

testinfra_hosts = managers()


def test_alertmanager_is_ready(host):
    assert "OK" in service_get(host, "sentinel-alertmanager", 9093, "/-/ready")


def test_it_runs_sentinels_route_as_one_instance(host):
    status = json.loads(service_get(host, "sentinel-alertmanager", 9093, "/api/v2/status"))
    assert "receiver: sentinel-alertmanager-default" in status["config"]["original"]
    assert status["cluster"]["status"] == "disabled", "no gossip with peers that do not exist"


def test_it_publishes_no_port_and_keeps_its_data_in_a_volume(host):
    spec = json.loads(host.check_output("docker service inspect sentinel-alertmanager"))[0]["Spec"]
    assert not spec.get("EndpointSpec", {}).get("Ports")
    mounts = spec["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert [(m["Source"], m["Target"]) for m in mounts] == [("sentinel-alertmanager-data", "/alertmanager")]


def test_it_sends_every_alert_to_the_notifier_beside_it(host):
    status = json.loads(service_get(host, "sentinel-alertmanager", 9093, "/api/v2/status"))
    assert "url: http://sentinel-notifier:9095/alertmanager" in status["config"]["original"]
    assert service_get(host, "sentinel-notifier", 9095, "/healthz").strip() == "ok"
    assert json.loads(service_get(host, "sentinel-notifier", 9095, "/receivers")) == {"receivers": []}

"""The monitoring roles on the real 3-node test Swarm: playbooks/monitoring.yml.

node_exporter on every node, Prometheus scraping them and Traefik and sending its alerts to
Alertmanager (each role's idempotence is its
Molecule scenario's, extensions/molecule), then real traffic through a real Traefik to two stand-in
services (todo-prod, todo-canary failing every 4th request), every query of the generated Grafana
dashboard run against the real Prometheus, and the metrics_info module reading the same numbers
from inside the Prometheus task.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import docker.errors
import docker.types
import pytest

from tests.harness.monitoring import MONITORING, SCRAPE_SECONDS, role_vars
from tests.harness.monitoring import wait as _wait
from tests.harness.wait import remove_when_free

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "roles" / "grafana" / "files" / "dashboards" / "sentinel.json"
APP_SERVICES = "todo-(prod|canary)@(?:file|swarm)"  # traefik_service_regex(app="todo")
TRAEFIK_SERVICES = {"prod": "todo-prod@swarm", "canary": "todo-canary@file"}
REQUESTS_PER_VERSION = 200
GRAFANA_IMAGE = "grafana/grafana-oss:11.3.0"
EDGE = "sentinel-edge"  # where every app is


def _running_tasks(service) -> list[dict]:
    return [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]


def test_services_are_platform_services_without_published_ports(cluster, monitoring):
    client = cluster.manager.client
    exporter = client.services.get("sentinel-node-exporter")
    prometheus = client.services.get("sentinel-prometheus")
    alertmanager = client.services.get("sentinel-alertmanager")
    for service in (exporter, prometheus, alertmanager):
        spec = service.attrs["Spec"]
        assert spec["Labels"]["sentinel.role"] == "platform"
        assert not spec.get("EndpointSpec", {}).get("Ports"), f"{service.name} must not publish ports"
        assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert "Global" in exporter.attrs["Spec"]["Mode"]
    container = prometheus.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert "--storage.tsdb.retention.time=15d" in container["Args"]
    assert any(m["Type"] == "volume" and m["Source"] == "sentinel-prometheus-data" for m in container["Mounts"])
    # Pinned to the node its volume lives on: the first manager.
    node_id = client.info()["Swarm"]["NodeID"]
    assert prometheus.attrs["Spec"]["TaskTemplate"]["Placement"]["Constraints"] == [f"node.id == {node_id}"]
    assert alertmanager.attrs["Spec"]["TaskTemplate"]["Placement"]["Constraints"] == [f"node.id == {node_id}"]


def test_node_exporter_runs_and_answers_on_every_node(cluster, monitoring):
    client = cluster.manager.client
    service = client.services.get("sentinel-node-exporter")
    tasks = _running_tasks(service)
    nodes = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
    assert sorted(nodes[t["NodeID"]] for t in tasks) == ["node1", "node2", "node3"]

    prometheus = monitoring["prometheus"]

    def all_up():
        up = prometheus.query('up{job="node"}')
        return len(up) == 3 and all(s["value"][1] == "1" for s in up) and up

    up = _wait("3 healthy node_exporter targets", all_up, timeout=90)
    # Each exporter reports its own node: three instances, three node names.
    uname = prometheus.query("node_uname_info")
    assert {s["metric"]["instance"] for s in uname} == {s["metric"]["instance"] for s in up}
    assert sorted(s["metric"]["nodename"] for s in uname) == ["node1", "node2", "node3"]


def test_prometheus_scrapes_itself_and_traefik(monitoring):
    prometheus = monitoring["prometheus"]
    _wait("Traefik target up", lambda: prometheus.value('sum(up{job="traefik"})') == 1, timeout=90)
    # Right after the stack starts, its own first scrape may not have happened yet.
    _wait("Prometheus' own target up", lambda: prometheus.value('up{job="prometheus"}') == 1, timeout=90)
    rules = prometheus.api("rules")["groups"]
    alerts = {r["name"] for g in rules for r in g["rules"] if r["type"] == "alerting"}
    assert alerts == {
        "CanaryErrorRateAboveProduction",
        "HighP95Latency",
        "TargetDown",
        "NodeDown",
        "CertificateExpiresSoon",
        "NodeDiskAlmostFull",
        "AppErrorRateHigh",
        "AppWithoutHealthyTask",
        "PostgresDown",
        "SwarmUnreadable",
    }


def test_prometheus_sends_its_alerts_to_alertmanager(cluster, monitoring):
    """Found by Swarm DNS (tasks.sentinel-alertmanager), as the scrape targets are: the task's address."""
    prometheus = monitoring["prometheus"]
    found = _wait(
        "Prometheus finds Alertmanager",
        lambda: prometheus.api("alertmanagers")["activeAlertmanagers"],
        timeout=90,
    )
    task = _running_tasks(cluster.manager.client.services.get("sentinel-alertmanager"))[0]
    attachments = {a["Network"]["Spec"]["Name"]: a["Addresses"][0] for a in task["NetworksAttachments"]}
    address = attachments[MONITORING].split("/")[0]
    assert [a["url"] for a in found] == [f"http://{address}:9093/api/v2/alerts"]


def test_apps_cannot_reach_the_monitoring_plane(cluster, monitoring):
    """From the edge network, where every app is, the monitoring plane has no name, and Traefik's metrics
    port answers 404. The probe asks by name only: an overlay address outside its network may belong to
    some other host, where test traffic must not go."""
    client = cluster.manager.client
    networks = {n.id: n.name for n in client.networks.list()}
    for name in ("sentinel-prometheus", "sentinel-alertmanager", "sentinel-node-exporter"):
        spec = client.services.get(name).attrs["Spec"]["TaskTemplate"]
        assert [networks[n["Target"]] for n in spec["Networks"]] == [MONITORING], name
    urls = (
        "http://sentinel-prometheus:9090/api/v1/query?query=up",
        "http://sentinel-alertmanager:9093/-/ready",
        "http://tasks.sentinel-node-exporter:9100/metrics",
    )
    probe = "; ".join(
        [
            f"getent hosts {name} >/dev/null; echo dns=$?"
            for name in ("sentinel-prometheus", "sentinel-alertmanager", "tasks.sentinel-node-exporter")
        ]
        + [f"curl -s -o /dev/null --max-time 3 -w 'http=%{{http_code}}\\n' {url}" for url in urls]
        + ["curl -s -o /dev/null --max-time 3 -w 'traefik=%{http_code}\\n' http://tasks.sentinel-traefik:8082/metrics"]
    )

    def from_network(network: str) -> list[str]:
        return (
            client.containers.run(
                cluster.image("sentinel-test/base:latest"), ["sh", "-c", probe], network=network, remove=True
            )
            .decode()
            .split()
        )

    # dns=2: no such name, so curl reaches nothing (000).
    assert from_network(EDGE) == ["dns=2"] * 3 + ["http=000"] * 3 + ["traefik=404"]
    # The same probe from the monitoring network reaches all of them: the probe itself is sound.
    assert from_network(MONITORING) == ["dns=0"] * 3 + ["http=200"] * 3 + ["traefik=200"]


# -- real traffic through Traefik ---------------------------------------------------------


@pytest.fixture(scope="module")
def traffic(cluster, monitoring, ansible):
    """todo-prod and todo-canary behind Traefik, 200 requests each; what the client saw.

    Each has a router of its own, to count what each version answered. The canary's router goes,
    as in a real split, to the canary's file-provider service (canary_weights writes it), whose
    counters are NAME-canary@file."""
    client = cluster.manager.client
    prometheus = monitoring["prometheus"]
    apps = {
        "prod": ("todo-p.test", cluster.image("sentinel-test/todo:1"), {}),
        "canary": ("todo-c.test", cluster.image("sentinel-test/todo:2"), {"TODO_FAIL_EVERY": "4"}),
    }
    for version in apps:
        if client.services.list(filters={"name": f"todo-{version}"}):
            pytest.fail(f"todo-{version} already exists on the test cluster; another test left it behind")
    services = []
    split = {"name": "todo", "weight": 0}
    try:
        assert not ansible.module("sentinel.paas.canary_weights", split).failed
        for version, (host, image, env) in apps.items():
            name, router = f"todo-{version}", f"todo-{version[0]}"
            services.append(
                client.services.create(
                    image,
                    name=name,
                    env=[f"{k}={v}" for k, v in env.items()],
                    networks=[EDGE],
                    endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
                    labels={
                        "traefik.enable": "true",
                        "traefik.swarm.network": EDGE,
                        f"traefik.http.services.{name}.loadbalancer.server.port": "8000",
                        f"traefik.http.routers.{router}.rule": f"Host(`{host}`)",
                        f"traefik.http.routers.{router}.entrypoints": "web",
                        f"traefik.http.routers.{router}.service": f"{name}@swarm"
                        if version == "prod"
                        else f"{name}@file",
                    },
                )
            )
        sent = {v: {"total": 0, "500": 0} for v in apps}

        def get(version):
            request = urllib.request.Request(
                f"http://{cluster.manager.ip}/", headers={"Host": apps[version][0], "Connection": "close"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test node
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            if status != 404:  # Traefik's own 404 (no router yet) is not the service's
                sent[version]["total"] += 1
                sent[version]["500"] += status == 500
            return status

        for version in apps:
            _wait(f"todo-{version} routed by Traefik", lambda v=version: get(v) in (200, 500), timeout=150)
        # Let Prometheus see both counters before the measured traffic, so increase() has a start.
        _wait(
            "both services' counters in Prometheus",
            lambda: len(prometheus.query(f'traefik_service_requests_total{{service=~"{APP_SERVICES}"}}')) >= 2,
            timeout=60,
        )
        baseline = {v: dict(c) for v, c in sent.items()}
        started = time.time()
        for _burst in range(4):  # spread over several scrapes, as real traffic is
            for _ in range(REQUESTS_PER_VERSION // 4):
                for version in apps:
                    get(version)
            time.sleep(SCRAPE_SECONDS)
        time.sleep(2 * SCRAPE_SECONDS)  # two more scrapes see the last requests
        yield {"sent": sent, "baseline": baseline, "started": started}
    finally:
        for service in services:
            service.remove()
        ansible.module("sentinel.paas.canary_weights", {**split, "state": "absent"})


def _counter(prometheus, selector: str) -> float:
    return prometheus.value(f"sum(traefik_service_requests_total{{{selector}}})") or 0.0


def test_prometheus_counts_exactly_what_was_sent(monitoring, traffic):
    prometheus, sent = monitoring["prometheus"], traffic["sent"]
    measured = {v: traffic["sent"][v]["total"] - traffic["baseline"][v]["total"] for v in sent}
    assert measured == {"prod": REQUESTS_PER_VERSION, "canary": REQUESTS_PER_VERSION}

    def counters_match():
        return all(_counter(prometheus, f'service="{TRAEFIK_SERVICES[v]}"') == sent[v]["total"] for v in sent)

    _wait("Prometheus counters equal to the requests sent", counters_match, timeout=30)
    assert _counter(prometheus, 'service="todo-canary@file",code="500"') == sent["canary"]["500"]
    assert _counter(prometheus, 'service="todo-prod@swarm",code=~"5.."') == 0
    canary_ratio = (sent["canary"]["500"] - traffic["baseline"]["canary"]["500"]) / REQUESTS_PER_VERSION
    assert canary_ratio == pytest.approx(0.25, abs=0.01)  # every 4th request of one task fails


def _dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]


def _substitute(expr: str) -> str:
    return expr.replace("$__rate_interval", "1m").replace("$app", "todo").replace("$node", ".+")


@pytest.mark.parametrize(("panel", "expr"), _dashboard_queries(), ids=lambda v: re.sub(r"\W+", "_", v)[:40])
def test_every_dashboard_query_returns_data(monitoring, traffic, panel, expr):
    result = monitoring["prometheus"].query(_substitute(expr))
    assert result, f"{panel}: no data for {_substitute(expr)}"
    values = [float(s["value"][1]) for s in result]
    assert any(math.isfinite(v) for v in values), f"{panel}: only NaN for {_substitute(expr)}"
    if "node_uname_info" in expr:
        assert sorted(s["metric"]["nodename"] for s in result) == ["node1", "node2", "node3"]
    if "(canary)" in panel and "Error rate" in panel and '"5.."' in expr:
        assert values[0] == pytest.approx(0.25, abs=0.06)
    if "(production)" in panel and "Error rate" in panel:
        assert values[0] == 0


def test_dashboard_variables_find_the_app_and_the_nodes(monitoring, traffic):
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    prometheus = monitoring["prometheus"]
    # label_values(METRIC, LABEL) is Grafana's wrapper around the series API.
    services = {s["service"] for s in prometheus.api("series", **{"match[]": "traefik_service_requests_total"})}
    app_regex = re.compile(variables["app"]["regex"].strip("/"))
    assert "todo" in {m.group(1) for s in services if (m := app_regex.match(s))}
    nodes = {s["nodename"] for s in prometheus.api("series", **{"match[]": "node_uname_info"})}
    assert nodes == {"node1", "node2", "node3"}


def test_metrics_info_reads_the_same_numbers_inside_the_prometheus_task(ansible, monitoring, traffic):
    window = f"{int(time.time() - traffic['started']) + 30}s"  # the measured traffic and a little before
    result = ansible.module("sentinel.paas.metrics_info", {"name": "todo", "window": window})
    assert not result.failed, result.msg
    assert result["available"] is True and result["changed"] is False and result["window"] == window
    for version in ("prod", "canary"):
        numbers = result["app"][version]
        # increase() sees the traffic between the first and last scrape of the window.
        assert numbers["requests"] == pytest.approx(REQUESTS_PER_VERSION, rel=0.15), numbers
        assert numbers["requests_per_second"] == pytest.approx(numbers["requests"] / int(window[:-1]), rel=1e-3)
        assert 0 < numbers["p95_seconds"] <= 5, numbers  # Traefik's largest default bucket is 5 s
        assert numbers["error_ratio_4xx"] == 0
    assert result["app"]["prod"]["error_ratio_5xx"] == 0
    assert result["app"]["canary"]["error_ratio_5xx"] == pytest.approx(0.25, abs=0.05)
    assert sorted(result["nodes"]) == ["node1", "node2", "node3"]
    for node in result["nodes"].values():
        assert set(node) == {"cpu", "memory", "disk"}
        assert all(0 <= v <= 1 for v in node.values()), node
    # Without an app: just the nodes, for `sentinel cluster inspect`.
    nodes_only = ansible.module("sentinel.paas.metrics_info", {"window": "1m"})
    assert nodes_only["available"] is True and nodes_only["app"] is None
    assert sorted(nodes_only["nodes"]) == ["node1", "node2", "node3"]


# -- Grafana: only where its image exists ---------------------------------------------------


def test_grafana_serves_the_provisioned_dashboard(cluster, cluster_factory, ansible, monitoring):
    try:
        cluster_factory.host.images.get(GRAFANA_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(
            f"grafana/grafana-oss image not available on this machine: {GRAFANA_IMAGE} is not in the host "
            "engine and no reachable registry serves it; its provisioning is unit-tested and every dashboard "
            "query runs against the real Prometheus above"
        )
    client = cluster.manager.client
    cluster_factory.push(cluster, GRAFANA_IMAGE, GRAFANA_IMAGE)
    password = os.urandom(9).hex()
    extra = {
        **role_vars(cluster),
        "sentinel_grafana_enabled": True,
        "grafana_image": cluster.image(GRAFANA_IMAGE),
        "grafana_domain": "grafana.sentinel.test",
        "grafana_admin_password": password,
    }
    try:
        run = ansible.playbook("monitoring.yml", extra)
        assert run.ok, f"{run.failures}\n{run.stderr[-3000:]}"
        import ssl

        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # the test Traefik serves its default certificate

        def grafana(path, auth=True):
            request = urllib.request.Request(
                f"https://{cluster.manager.ip}{path}", headers={"Host": "grafana.sentinel.test"}
            )
            if auth:
                import base64

                token = base64.b64encode(f"admin:{password}".encode()).decode()
                request.add_header("Authorization", f"Basic {token}")
            try:
                with urllib.request.urlopen(request, timeout=10, context=insecure) as response:  # noqa: S310
                    return response.status, json.load(response)
            except urllib.error.HTTPError as exc:
                return exc.code, None

        _wait("Grafana healthy through Traefik", lambda: grafana("/api/health", auth=False)[0] == 200, timeout=180)
        assert grafana("/api/dashboards/uid/sentinel", auth=False)[0] == 401  # no anonymous access
        status, datasource = grafana("/api/datasources/uid/sentinel-prometheus")
        assert status == 200 and datasource["url"] == "http://sentinel-prometheus:9090"
        status, dashboard = grafana("/api/dashboards/uid/sentinel")
        assert status == 200 and dashboard["dashboard"]["title"] == "Sentinel"
        status, health = grafana("/api/datasources/uid/sentinel-prometheus/health")
        assert status == 200 and health["status"] == "OK"
    finally:
        for service in client.services.list(filters={"name": "sentinel-grafana"}):
            service.remove()
        for item in client.configs.list(filters={"label": "sentinel.role=platform"}):
            if item.name.startswith("sentinel-grafana-"):
                remove_when_free(item.remove)
        for item in client.secrets.list(filters={"label": "sentinel.role=platform"}):
            if item.name.startswith("sentinel-grafana-"):
                remove_when_free(item.remove)


def _amtool(cluster, *args) -> str:
    """amtool inside the Alertmanager task (on node1, where it is pinned), as alertmanager_silence runs it."""
    client = cluster.manager.client
    [container] = client.containers.list(filters={"label": "com.docker.swarm.service.name=sentinel-alertmanager"})
    code, output = container.exec_run(["amtool", "--alertmanager.url=http://127.0.0.1:9093", *args], demux=True)
    assert code == 0, output
    return (output[0] or b"").decode()


def _probe_state(cluster) -> tuple[str, list[str]]:
    """(state, silencedBy) of the probe alert of node3, from Alertmanager's API."""
    # amtool's alert query hides silenced alerts' details; the API gives state and silencedBy.
    client = cluster.manager.client
    [container] = client.containers.list(filters={"label": "com.docker.swarm.service.name=sentinel-alertmanager"})
    url = "http://127.0.0.1:9093/api/v2/alerts?silenced=true&" + urllib.parse.urlencode({"filter": 'nodename="node3"'})
    code, output = container.exec_run(["wget", "-q", "-O", "-", url])
    assert code == 0, output
    [probe] = [a for a in json.loads(output) if a["labels"]["alertname"] == "SentinelDrainProbe"]
    return probe["status"]["state"], probe["status"]["silencedBy"]


def test_a_drained_node_s_alerts_are_silenced_until_it_is_active(cluster, ansible, monitoring):
    """Drain silences every alert of the node in Alertmanager (a probe alert with its nodename, sent
    straight to Alertmanager, goes quiet), a second drain adds no second silence, activate ends it."""
    _amtool(cluster, "alert", "add", "alertname=SentinelDrainProbe", "nodename=node3", "--annotation=summary=probe")
    _wait("the probe alert active", lambda: _probe_state(cluster)[0] == "active", timeout=30)
    drain = {"node": "node3", "availability": "drain"}
    try:
        for _ in range(2):
            run = ansible.playbook("cluster_availability.yml", drain)
            assert run.ok, f"{run.failures}\n{run.stderr[-3000:]}"
        [silence] = json.loads(_amtool(cluster, "silence", "query", "-o", "json"))
        assert silence["createdBy"] == "sentinel" and "sentinel cluster activate" in silence["comment"]
        assert silence["matchers"] == [{"isEqual": True, "isRegex": False, "name": "nodename", "value": "node3"}]
        _wait("the probe alert silenced", lambda: _probe_state(cluster) == ("suppressed", [silence["id"]]), timeout=30)
    finally:
        run = ansible.playbook("cluster_availability.yml", {"node": "node3", "availability": "active"})
    assert run.ok, f"{run.failures}\n{run.stderr[-3000:]}"
    assert json.loads(_amtool(cluster, "silence", "query", "-o", "json")) == []
    _wait("the probe alert heard again", lambda: _probe_state(cluster) == ("active", []), timeout=30)

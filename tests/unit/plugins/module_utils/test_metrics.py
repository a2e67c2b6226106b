"""sentinel_cli.metrics: the PromQL of `sentinel inspect app` and of the dashboard."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from sentinel_cli import metrics


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (
            lambda: metrics.request_rate("todo", "prod", "5m"),
            'sum(rate(traefik_service_requests_total{service="todo-prod@swarm"}[5m]))',
        ),
        (
            lambda: metrics.request_increase("todo", "canary", "1h"),
            'sum(increase(traefik_service_requests_total{service="todo-canary@swarm"}[1h]))',
        ),
        (
            lambda: metrics.error_ratio("todo", "canary", "5m"),
            '(sum(rate(traefik_service_requests_total{service="todo-canary@swarm",code=~"5.."}[5m])) or vector(0))'
            ' / sum(rate(traefik_service_requests_total{service="todo-canary@swarm"}[5m]))',
        ),
        (
            lambda: metrics.error_ratio("$app", "prod", "$__rate_interval", "4"),
            '(sum(rate(traefik_service_requests_total{service="$app-prod@swarm",code=~"4.."}[$__rate_interval]))'
            ' or vector(0)) / sum(rate(traefik_service_requests_total{service="$app-prod@swarm"}[$__rate_interval]))',
        ),
        (
            lambda: metrics.latency_quantile("todo", "prod", 0.95, "5m"),
            "histogram_quantile(0.95, sum by (le) "
            '(rate(traefik_service_request_duration_seconds_bucket{service="todo-prod@swarm"}[5m])))',
        ),
        (
            lambda: metrics.status_codes("todo", "prod", "5m"),
            'sum by (code) (rate(traefik_service_requests_total{service="todo-prod@swarm"}[5m]))',
        ),
        (
            lambda: metrics.node_memory_usage(),
            "max by (nodename) ((1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)"
            ' * on (instance) group_left (nodename) node_uname_info{nodename=~".+"})',
        ),
    ],
)
def test_builders(builder, expected):
    assert builder() == expected


def test_node_queries_join_on_the_exporter_instance_and_filter_nodes():
    for promql in (metrics.node_cpu_usage("1m", "$node"), metrics.node_disk_usage("$node")):
        assert promql.startswith("max by (nodename) (")
        assert 'on (instance) group_left (nodename) node_uname_info{nodename=~"$node"}' in promql
    assert 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"' in metrics.node_disk_usage()
    assert 'rate(node_cpu_seconds_total{mode="idle"}[1m])' in metrics.node_cpu_usage("1m")


def test_app_queries_cover_both_versions_with_the_same_measures():
    queries = metrics.app_queries("todo", "5m")
    assert set(queries) == {"prod", "canary"}
    assert (
        set(queries["prod"])
        == set(queries["canary"])
        == {
            "requests_per_second",
            "requests",
            "error_ratio_5xx",
            "error_ratio_4xx",
            "latency_p50_seconds",
            "latency_p95_seconds",
            "latency_p99_seconds",
        }
    )
    assert all("todo-canary@swarm" in q for q in queries["canary"].values())


@pytest.mark.parametrize(
    ("app", "window"),
    [('todo"} or vector(1) #', "5m"), ("Todo", "5m"), ("", "5m"), ("todo", "5m] or up[5m"), ("todo", "5")],
)
def test_inspect_app_refuses_what_would_break_out_of_the_query(app, window):
    with pytest.raises(ValueError):
        metrics.inspect_app("http://127.0.0.1:9", app, window)


class _Prometheus(BaseHTTPRequestHandler):
    """Answers the API's JSON shape from canned samples, to test the parsing (not PromQL)."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        promql = parse_qs(urlsplit(self.path).query)["query"][0]
        if "node_uname_info" in promql:
            result = [{"metric": {"nodename": "node1"}, "value": [0, "0.5"]}]
        elif "histogram_quantile" in promql:
            result = [{"metric": {}, "value": [0, "NaN"]}]  # no requests in the window
        elif "canary" in promql:
            result = []
        else:
            result = [{"metric": {}, "value": [0, "2"]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def prometheus_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_inspect_app_shapes_the_answer(prometheus_url):
    result = metrics.inspect_app(prometheus_url, "todo", "5m")
    assert set(result) == {"prod", "canary", "nodes"}
    assert result["prod"]["requests_per_second"] == 2.0
    assert result["prod"]["latency_p95_seconds"] is None  # NaN: nothing to measure
    assert all(v is None for v in result["canary"].values())  # no canary
    assert result["nodes"] == {"node1": {"cpu": 0.5, "memory": 0.5, "disk": 0.5}}


def test_unreachable_prometheus_is_a_clear_error():
    with pytest.raises(metrics.PrometheusError, match="cannot query Prometheus at http://127.0.0.1:9"):
        metrics.query("http://127.0.0.1:9", "up", timeout=2)

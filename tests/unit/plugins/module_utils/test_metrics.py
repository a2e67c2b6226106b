"""_metrics: the PromQL of metrics_info and of the dashboard, the one-exec transport, the parsing."""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _metrics as metrics
from http_stub import serving


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (
            lambda: metrics.request_rate("todo", "prod", "5m"),
            'sum(rate(traefik_service_requests_total{service="todo-prod@swarm"}[5m]))',
        ),
        (
            lambda: metrics.error_ratio("todo", "canary", "5m"),
            '(sum(rate(traefik_service_requests_total{service="todo-canary@file",code=~"5.."}[5m])) or vector(0))'
            ' / sum(rate(traefik_service_requests_total{service="todo-canary@file"}[5m]))',
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
            lambda: metrics.requests_by_code("todo", "10m"),
            "sum by (service, code) (("
            '(traefik_service_requests_total{service=~"todo-(prod|canary)@(?:file|swarm)"}'
            ' - traefik_service_requests_total{service=~"todo-(prod|canary)@(?:file|swarm)"} offset 10m) >= 0)'
            ' or (traefik_service_requests_total{service=~"todo-(prod|canary)@(?:file|swarm)"}'
            ' unless traefik_service_requests_total{service=~"todo-(prod|canary)@(?:file|swarm)"} offset 10m)'
            ' or increase(traefik_service_requests_total{service=~"todo-(prod|canary)@(?:file|swarm)"}[10m]))',
        ),
        (
            lambda: metrics.latency_quantile_by_version("todo", 0.95, "5m"),
            "histogram_quantile(0.95, sum by (service, le) "
            '(rate(traefik_service_request_duration_seconds_bucket{service=~"todo-(prod|canary)@(?:file|swarm)"}[5m])))',
        ),
        (
            metrics.node_memory_usage,
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
    assert list(metrics.node_queries("5m")) == list(metrics.NODE_MEASURES)


def test_app_queries_ask_both_versions_at_once():
    queries = metrics.app_queries("todo", "5m")
    assert set(queries) == {"requests", "p95"}
    assert all('service=~"todo-(prod|canary)@(?:file|swarm)"' in q and "[5m]" in q for q in queries.values())


# -- window -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172800), ("500ms", 0.5)]
)
def test_window_seconds(window, seconds):
    assert metrics.window_error(window) is None
    assert metrics.window_seconds(window) == seconds


@pytest.mark.parametrize("window", ["5", "0m", "5m] or up[5m", "1h30m", "-5m", "5M", "", None, 5, "1234567s"])
def test_window_refuses_what_is_not_one_duration(window):
    assert "invalid window" in metrics.window_error(window)


# -- the transport: real sh and wget against a canned Prometheus API ---------------------------


ASKED: list[str] = []  # the queries the canned Prometheus was asked, in order


def _prometheus(request) -> tuple[int, bytes]:
    """Answers the API's JSON shape; a query containing "bad" gets Prometheus' 400."""
    promql = parse_qs(urlsplit(request.path).query)["query"][0]
    ASKED.append(promql)
    if "bad" in promql:
        body = {"status": "error", "errorType": "bad_data", "error": "parse error"}
        return 400, json.dumps(body).encode()
    result = [{"metric": {}, "value": [0, promql]}]
    return 200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


@pytest.fixture
def api():
    if not shutil.which("wget"):
        pytest.skip("wget is not installed on this machine: the transport runs it for real")
    ASKED.clear()
    with serving(_prometheus, content_type="application/json") as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/query"


def _fetch(promqls, api):
    out = subprocess.run(metrics.fetch_command(promqls, timeout=2, api=api), capture_output=True, text=True, check=True)
    return metrics.split_answers(out.stdout, promqls)


def test_one_command_asks_every_query_in_order_and_passes_shell_text_untouched(api):
    promqls = ['sum(x{a="$(touch /tmp/pwned)"})', "up `id` ; echo '\"", "rate(y[5m]) * 2 & 1"]
    answers = _fetch(promqls, api)
    assert [a[0]["value"][1] for a in answers] == promqls
    assert promqls == ASKED


def test_a_refused_query_among_answered_ones_is_an_error(api):
    with pytest.raises(metrics.PrometheusError, match=r"Prometheus refused 'bad\(\)'") as raised:
        _fetch(["up", "bad()"], api)
    assert not isinstance(raised.value, metrics.PrometheusUnreachable)


def test_nothing_listening_is_unreachable(api):
    closed = api.replace(api.rsplit(":", 1)[1].split("/")[0], "9")  # port 9 (discard): nothing listens
    with pytest.raises(metrics.PrometheusUnreachable, match="no answer from Prometheus"):
        _fetch(["up", "up"], closed)


@pytest.mark.parametrize(
    "output",
    [
        "",
        '{"status":"success","data":{"result":[]}}\n',  # no end marker: the exec was cut short
        f'{{"status":"success","data":{{"result":[]}}}}\n{metrics.ANSWER_END}\n',  # one answer for two queries
        f"<html>\n{metrics.ANSWER_END}\n{{}}\n{metrics.ANSWER_END}\n",
    ],
)
def test_split_answers_refuses_incomplete_or_unreadable_output(output):
    with pytest.raises(metrics.PrometheusError):
        metrics.split_answers(output, ["up", "up"])


# -- answers ----------------------------------------------------------------------------------


def _sample(value, **labels):
    return {"metric": labels, "value": [1700000000, str(value)]}


REQUESTS = [
    _sample(270, service="todo-prod@swarm", code="200"),
    _sample(30, service="todo-prod@swarm", code="404"),
    _sample(45, service="todo-canary@file", code="200"),
    _sample(15, service="todo-canary@file", code="500"),
    _sample(999, service="todo2-prod@swarm", code="500"),  # another app whose name starts alike
]
P95 = [_sample(0.012, service="todo-prod@swarm"), _sample("NaN", service="todo-canary@file")]


def test_parse_app_derives_rate_and_ratios_from_the_counts():
    result = metrics.parse_app("todo", "5m", REQUESTS, P95)
    assert result["prod"] == {
        "requests": 300,
        "requests_per_second": 1.0,
        "error_ratio_5xx": 0,
        "error_ratio_4xx": 0.1,
        "p95_seconds": 0.012,
    }
    assert result["canary"] == {
        "requests": 60,
        "requests_per_second": 0.2,
        "error_ratio_5xx": 0.25,
        "error_ratio_4xx": 0,
        "p95_seconds": None,  # NaN: no bucket moved
    }


def test_parse_app_without_traffic_and_without_a_canary():
    result = metrics.parse_app("todo", "1m", [], [], versions=("prod",))
    assert result == {
        "prod": {
            "requests": 0,
            "requests_per_second": 0,
            "error_ratio_5xx": None,
            "error_ratio_4xx": None,
            "p95_seconds": None,
        },
        "canary": None,
    }


def test_parse_nodes_by_hostname():
    answers = {
        "cpu": [_sample(0.25, nodename="node1"), _sample(0.5, nodename="node2")],
        "memory": [_sample(0.4, nodename="node1"), _sample(0.6, nodename="node2")],
        "disk": [_sample(0.7, nodename="node1")],
    }
    assert metrics.parse_nodes(answers) == {
        "node1": {"cpu": 0.25, "memory": 0.4, "disk": 0.7},
        "node2": {"cpu": 0.5, "memory": 0.6, "disk": None},
    }

"""The PromQL behind `sentinel inspect app` and the Sentinel Grafana dashboard, in one place.

Traefik labels each backend service ``NAME-prod@swarm`` / ``NAME-canary@swarm``, which is
what separates production from the canary. node_exporter's ``node_uname_info{nodename}``
carries the node's hostname (the node_exporter role sets the task hostname to it), so node
queries join on ``instance`` to report per node.

The builders are pure and accept Grafana variables (``$app``, ``$__rate_interval``, ``$node``)
as well as real values; only :func:`inspect_app` talks to Prometheus.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
import urllib.request

VERSIONS = ("prod", "canary")
REQUESTS = "traefik_service_requests_total"
DURATION_BUCKETS = "traefik_service_request_duration_seconds_bucket"
QUANTILES = (0.5, 0.95, 0.99)
# Memory and container plumbing, not disks (the NodeDiskAlmostFull alert skips the same).
VIRTUAL_FILESYSTEMS = "tmpfs|ramfs|squashfs|overlay|nsfs"

# What may reach a query from the outside: no quotes, braces or operators, so no injection.
_SAFE_APP = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


def service_selector(app: str, version: str) -> str:
    return f'service="{app}-{version}@swarm"'


def request_rate(app: str, version: str, window: str) -> str:
    """Requests per second."""
    return f"sum(rate({REQUESTS}{{{service_selector(app, version)}}}[{window}]))"


def request_increase(app: str, version: str, window: str) -> str:
    """Requests counted over the window."""
    return f"sum(increase({REQUESTS}{{{service_selector(app, version)}}}[{window}]))"


def error_ratio(app: str, version: str, window: str, code_class: str = "5") -> str:
    """Share of answers with status ``<code_class>xx``; 0 (not nothing) when none failed."""
    selector = service_selector(app, version)
    errors = f'sum(rate({REQUESTS}{{{selector},code=~"{code_class}.."}}[{window}]))'
    return f"({errors} or vector(0)) / sum(rate({REQUESTS}{{{selector}}}[{window}]))"


def latency_quantile(app: str, version: str, quantile: float, window: str) -> str:
    """Latency in seconds below which ``quantile`` of the requests finished."""
    buckets = f"sum by (le) (rate({DURATION_BUCKETS}{{{service_selector(app, version)}}}[{window}]))"
    return f"histogram_quantile({quantile}, {buckets})"


def status_codes(app: str, version: str, window: str) -> str:
    """Requests per second by status code."""
    return f"sum by (code) (rate({REQUESTS}{{{service_selector(app, version)}}}[{window}]))"


def _per_node(expr: str, node: str) -> str:
    return f'max by (nodename) (({expr}) * on (instance) group_left (nodename) node_uname_info{{nodename=~"{node}"}})'


def node_cpu_usage(window: str, node: str = ".+") -> str:
    """Busy share of all CPUs of each node (0-1)."""
    idle = f'avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[{window}]))'
    return _per_node(f"1 - {idle}", node)


def node_memory_usage(node: str = ".+") -> str:
    """Used share of each node's memory (0-1), what the kernel could not give to a new program."""
    return _per_node("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", node)


def node_disk_usage(node: str = ".+") -> str:
    """Used share of each node's fullest real file system (0-1): the one that fills up first."""
    selector = f'{{fstype!~"{VIRTUAL_FILESYSTEMS}"}}'
    return _per_node(f"1 - node_filesystem_avail_bytes{selector} / node_filesystem_size_bytes{selector}", node)


def app_queries(app: str, window: str) -> dict[str, dict[str, str]]:
    """The numbers of both versions of an app: {version: {name: PromQL}}."""
    queries = {}
    for version in VERSIONS:
        queries[version] = {
            "requests_per_second": request_rate(app, version, window),
            "requests": request_increase(app, version, window),
            "error_ratio_5xx": error_ratio(app, version, window, "5"),
            "error_ratio_4xx": error_ratio(app, version, window, "4"),
            **{f"latency_p{round(q * 100)}_seconds": latency_quantile(app, version, q, window) for q in QUANTILES},
        }
    return queries


def node_queries(window: str) -> dict[str, str]:
    return {"cpu": node_cpu_usage(window), "memory": node_memory_usage(), "disk": node_disk_usage()}


class PrometheusError(Exception):
    pass


def query(base_url: str, promql: str, timeout: float = 10) -> list[dict]:
    """An instant query against Prometheus' HTTP API; the result vector."""
    url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the user's Prometheus
            answer = json.load(response)
    except (OSError, ValueError) as exc:
        raise PrometheusError(f"cannot query Prometheus at {base_url}: {exc}") from exc
    if answer.get("status") != "success":
        raise PrometheusError(f"Prometheus refused {promql!r}: {answer.get('error', answer)}")
    return answer["data"]["result"]


def _number(sample: dict) -> float | None:
    value = float(sample["value"][1])
    return None if math.isnan(value) else value  # NaN: no requests to divide by


def inspect_app(base_url: str, app: str, window: str = "5m", timeout: float = 10) -> dict:
    """{prod: {...}, canary: {...}, nodes: {nodename: {cpu, memory, disk}}}; None where there is no data."""
    if not _SAFE_APP.match(app):
        raise ValueError(f"invalid app name {app!r}")
    if not _DURATION.match(window):
        raise ValueError(f"invalid window {window!r}: use a Prometheus duration such as 5m")
    result: dict = {}
    for version, queries in app_queries(app, window).items():
        result[version] = {}
        for name, promql in queries.items():
            samples = query(base_url, promql, timeout)
            result[version][name] = _number(samples[0]) if samples else None
    nodes: dict[str, dict] = {}
    for name, promql in node_queries(window).items():
        for sample in query(base_url, promql, timeout):
            nodes.setdefault(sample["metric"]["nodename"], {})[name] = _number(sample)
    result["nodes"] = nodes
    return result

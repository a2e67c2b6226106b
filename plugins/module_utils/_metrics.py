# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PromQL behind metrics_info (`sentinel inspect app`) and the Sentinel Grafana dashboard.

Traefik labels each backend service ``NAME-prod@swarm`` / ``NAME-canary@file``, which is
what separates production from the canary. node_exporter's ``node_uname_info{nodename}``
carries the node's hostname (the node_exporter role sets the task hostname to it), so node
queries join on ``instance`` to report per node.

The builders are pure and accept Grafana variables (``$app``, ``$__rate_interval``, ``$node``)
as well as real values. The rest is pure too: the shell command that asks Prometheus several
queries in one ``docker exec``, and the parsing of its answers. Private to this collection.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlencode

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

VERSIONS = ("prod", "canary")
# A rollout with a baseline measures it too (the canary is judged against it).
WITH_BASELINE = (*VERSIONS, "baseline")
REQUESTS = "traefik_service_requests_total"
DURATION_BUCKETS = "traefik_service_request_duration_seconds_bucket"
QUANTILES = (0.5, 0.95, 0.99)
NODE_MEASURES = ("cpu", "memory", "disk")
# Memory and container plumbing, not disks (the NodeDiskAlmostFull alert skips the same).
VIRTUAL_FILESYSTEMS = "tmpfs|ramfs|squashfs|overlay|nsfs"

# A Prometheus duration of one unit: what may reach a query from the outside (no brackets,
# no operators, so no injection). Compound durations (1h30m) are not needed here.
_WINDOW = re.compile(r"([1-9][0-9]{0,5})(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}

# Inside the Prometheus task: the API on its own listen address (the role's --web.listen-address).
LOCAL_API = f"http://127.0.0.1:{_naming.PROMETHEUS_PORT}/api/v1/query"
# Printed after each answer, so that one exec can carry several (a JSON answer has no newline).
ANSWER_END = "--sentinel-metrics-answer-end--"
# What stands in for an answer when wget fails (%s: its exit status). Neither wget prints the
# body of an HTTP error, so a refused query and a stopped Prometheus both end up here.
_NO_ANSWER = '{"status":"error","errorType":"no_answer","error":"no answer from Prometheus (wget exit status %s)"}'


# -- PromQL ---------------------------------------------------------------------------------
def service_selector(app: str, version: str) -> str:
    return f'service="{_naming.traefik_service(app, version)}"'


def versions_selector(app: str, versions: tuple[str, ...] = VERSIONS) -> str:
    """Both versions of an app (or ``versions``), in one selector (one series per version and label set)."""
    return f'service=~"{_naming.traefik_service_regex(versions, app=app)}"'


def request_rate(app: str, version: str, window: str) -> str:
    """Requests per second."""
    return f"sum(rate({REQUESTS}{{{service_selector(app, version)}}}[{window}]))"


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


def requests_by_code(app: str, window: str) -> str:
    """Requests counted over the window, per version and status code: one query gives the
    request count, the rate (count / window) and both error ratios.

    Not increase() alone: Traefik creates a series at its first request, and increase() counts
    from the series' second sample, so a new version's first requests (its first failures too)
    would be missed. The raw counter now minus its value a window ago, per series; a series born
    inside the window counts in full; a series that went down (Traefik restarted) falls back
    to increase().
    """
    counter = f"{REQUESTS}{{{versions_selector(app)}}}"
    before = f"{counter} offset {window}"
    grown = f"(({counter} - {before}) >= 0) or ({counter} unless {before}) or increase({counter}[{window}])"
    return f"sum by (service, code) ({grown})"


def latency_quantile_by_version(app: str, quantile: float, window: str) -> str:
    """:func:`latency_quantile` of both versions at once, one series per version."""
    buckets = f"sum by (service, le) (rate({DURATION_BUCKETS}{{{versions_selector(app)}}}[{window}]))"
    return f"histogram_quantile({quantile}, {buckets})"


def raw_requests(app: str, versions: tuple[str, ...] = VERSIONS) -> str:
    """The versions' request counters as they are (no rate), per Traefik instance and status code."""
    return f"sum by (service, code, instance) ({REQUESTS}{{{versions_selector(app, versions)}}})"


def raw_buckets(app: str, versions: tuple[str, ...] = VERSIONS) -> str:
    """The versions' latency buckets as they are, per Traefik instance and upper bound."""
    return f"sum by (service, le, instance) ({DURATION_BUCKETS}{{{versions_selector(app, versions)}}})"


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


def node_queries(window: str) -> dict[str, str]:
    """{measure: PromQL} of every node, in NODE_MEASURES order."""
    return {"cpu": node_cpu_usage(window), "memory": node_memory_usage(), "disk": node_disk_usage()}


def app_queries(app: str, window: str) -> dict[str, str]:
    """{name: PromQL} of both versions of an app; :func:`parse_app` reads the answers."""
    return {"requests": requests_by_code(app, window), "p95": latency_quantile_by_version(app, 0.95, window)}


# -- input ----------------------------------------------------------------------------------
def window_error(window: object) -> str | None:
    """Why ``window`` is not a usable range for rate(), or None when it is."""
    if not isinstance(window, str) or not _WINDOW.fullmatch(window):
        return f"invalid window {window!r}: use a Prometheus duration of one unit, such as 30s, 5m or 1h"
    return None


def window_seconds(window: str) -> float:
    number, unit = _WINDOW.fullmatch(window).groups()
    return int(number) * _UNIT_SECONDS[unit]


# -- transport: several queries, one exec -----------------------------------------------------
def query_url(promql: str, api: str = LOCAL_API, span: tuple[float, float, float] | None = None) -> str:
    """An instant query, or with ``span`` (start, end, step in seconds) a range query: the
    values at start, start + step, ... up to end."""
    if span is None:
        return f"{api}?{urlencode({'query': promql})}"
    start, end, step = span
    times = {"start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{round(step * 1000)}ms"}
    return f"{api}_range?{urlencode({'query': promql, **times})}"


def fetch_command(promqls: list[str], timeout: int = 10, api: str = LOCAL_API, span=None) -> list[str]:
    """argv that GETs every query (see :func:`query_url` for ``span``) with ``wget`` (busybox's in
    prom/prometheus, GNU's elsewhere), printing each answer followed by a line ANSWER_END. URLs are
    arguments, never shell text."""
    script = (
        f'for url do wget -q -T {int(timeout)} -O - "$url" || printf \'{_NO_ANSWER}\' "$?"; '
        f"printf '\\n%s\\n' '{ANSWER_END}'; done"
    )
    return ["sh", "-c", script, "sh"] + [query_url(q, api, span) for q in promqls]


class PrometheusError(Exception):
    pass


class PrometheusUnreachable(PrometheusError):
    """Nothing answered on the API address (Prometheus starting, restarting or stopped)."""


def split_answers(output: str, promqls: list[str]) -> list[list[dict]]:
    """The result vector of each query, from what :func:`fetch_command` printed.

    Raises PrometheusUnreachable when no query got an answer (Prometheus is not listening),
    PrometheusError when some did and another did not (a query it refused) or for unreadable text.
    """
    parts = output.split(f"\n{ANSWER_END}\n")
    answers = [p.strip() for p in parts[: len(promqls)]]
    if len(parts) != len(promqls) + 1 or parts[-1].strip():
        raise PrometheusError(f"expected {len(promqls)} answers from Prometheus, got: {output[:300]!r}")
    decoded = []
    for promql, text in zip(promqls, answers):  # noqa: B905 (Python 3.9 on managers; lengths checked above)
        try:
            decoded.append(json.loads(text))
        except ValueError:
            raise PrometheusError(f"unreadable answer to {promql!r}: {text[:300]!r}") from None
    if all(a.get("errorType") == "no_answer" for a in decoded):
        raise PrometheusUnreachable(decoded[0].get("error"))
    for promql, answer in zip(promqls, decoded):  # noqa: B905 (Python 3.9 on managers)
        if answer.get("status") != "success":
            raise PrometheusError(f"Prometheus refused {promql!r}: {answer.get('error', answer)}")
    return [answer["data"]["result"] for answer in decoded]


# -- answers ----------------------------------------------------------------------------------
def _number(sample: dict) -> float | None:
    value = float(sample["value"][1])
    return None if math.isnan(value) or math.isinf(value) else value  # NaN: nothing to divide by


def version_of(app: str, labels: dict, versions: tuple[str, ...] = VERSIONS) -> str | None:
    """V(prod) or V(canary) (one of ``versions``) for a series of ``app`` with these labels, else None."""
    service = labels.get("service", "")
    for version in versions:
        if service == _naming.traefik_service(app, version):
            return version
    return None


def parse_app(app: str, window: str, requests: list[dict], p95: list[dict], versions=VERSIONS) -> dict:
    """{version: {requests, requests_per_second, error_ratio_5xx, error_ratio_4xx, p95_seconds}}
    for each of ``versions`` (the ones that run); the others are None.

    A version without series has had no request since Traefik started: 0 requests, and no
    ratio or latency (None), since there is nothing to divide.
    """
    counted = {v: {"total": 0.0, "5": 0.0, "4": 0.0} for v in VERSIONS}
    for sample in requests:
        version, value = version_of(app, sample["metric"]), _number(sample)
        if version is None or value is None:
            continue
        counted[version]["total"] += value
        code_class = sample["metric"].get("code", "")[:1]
        if code_class in ("4", "5"):
            counted[version][code_class] += value
    latency = {version_of(app, s["metric"]): _number(s) for s in p95}
    seconds = window_seconds(window)
    result = {}
    for version in VERSIONS:
        if version not in versions:
            result[version] = None
            continue
        count = counted[version]
        total = count["total"]
        result[version] = {
            "requests": round(total, 3),
            "requests_per_second": round(total / seconds, 6),
            "error_ratio_5xx": round(count["5"] / total, 6) if total else None,
            "error_ratio_4xx": round(count["4"] / total, 6) if total else None,
            "p95_seconds": latency.get(version) if total else None,
        }
    return result


def parse_nodes(answers: dict[str, list[dict]]) -> dict[str, dict]:
    """{nodename: {cpu, memory, disk}} (shares 0-1, None when unknown) from {measure: samples}."""
    nodes: dict[str, dict] = {}
    for measure in NODE_MEASURES:
        for sample in answers.get(measure, []):
            node = sample["metric"].get("nodename")
            if node:
                nodes.setdefault(node, dict.fromkeys(NODE_MEASURES))[measure] = _number(sample)
    return nodes

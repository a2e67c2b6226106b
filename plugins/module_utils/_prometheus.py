# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Asking the platform's Prometheus from the manager its task runs on: ``wget`` inside that task's
container through the engine API (``docker exec``), every query in one exec. Prometheus publishes
no port, so nothing is opened to the network. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils import _metrics
from ansible_collections.sentinel.paas.plugins.module_utils._naming import PLATFORM_SERVICES, service_name

PROMETHEUS = PLATFORM_SERVICES["prometheus"]


def query_timeout_error(seconds: int) -> str | None:
    """Why ``seconds`` cannot be how long wget waits for each answer, or None."""
    return "query_timeout must be at least 1 second" if seconds < 1 else None


class Unavailable(Exception):
    """Prometheus cannot be asked from here; not an error of the caller."""


class Prometheus:
    def __init__(self, swarm, query_timeout: int):
        self.swarm = swarm
        self.query_timeout = query_timeout

    def container(self):
        if self.swarm.service(PROMETHEUS) is None:
            raise Unavailable(f"no {PROMETHEUS} service on this Swarm (playbooks/monitoring.yml installs it)")
        containers = self.swarm.local_task_containers(PROMETHEUS)
        if not containers:
            running = [t["node"] for t in self.swarm.service_tasks(PROMETHEUS) if t["state"] == "running"]
            where = f"runs on {', '.join(running)}" if running else "has no running task"
            raise Unavailable(f"{PROMETHEUS} {where}, not on this node: ask the manager it runs on")
        return containers[0]

    def query(self, promqls: list[str], span=None) -> list[list[dict]]:
        """The result of each query (instant, or range with ``span``), asked in one exec."""
        container = self.container()
        command = _metrics.fetch_command(promqls, self.query_timeout, span=span)
        code, stdout, stderr = self.swarm.exec_in(container, command)
        if code != 0:  # the loop itself ends with printf: a failure here means no shell or no wget
            raise _metrics.PrometheusError(f"cannot run wget in the {PROMETHEUS} container: {stderr or stdout}")
        try:
            return _metrics.split_answers(stdout, promqls)
        except _metrics.PrometheusUnreachable as exc:
            raise Unavailable(f"{PROMETHEUS} is not answering: {exc}") from None

    def metrics(self, app, window):
        """metrics_info's numbers: the nodes' load and, with ``app``, its traffic by version, in one exec; raises
        Unavailable when Prometheus cannot be asked from here."""
        nodes = _metrics.node_queries(window)
        queries = dict(nodes)
        if app:
            queries.update(_metrics.app_queries(app, window))
        answers = dict(zip(queries, self.query(list(queries.values()))))  # noqa: B905
        result = {"nodes": _metrics.parse_nodes({m: answers[m] for m in nodes}), "app": None}
        if app:
            running = [v for v in _metrics.VERSIONS if self.swarm.service(service_name(app, v)) is not None]
            result["app"] = _metrics.parse_app(app, window, answers["requests"], answers["p95"], running)
        return result

    def report(self, app, window):
        """metrics() with ``available`` true, or false and the ``reason`` Prometheus cannot be asked from here."""
        try:
            return {"available": True, "reason": None, **self.metrics(app, window)}
        except Unavailable as exc:
            return {"available": False, "reason": str(exc), "app": None, "nodes": {}}

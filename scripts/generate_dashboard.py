#!/usr/bin/env python3
"""Generate the Sentinel Grafana dashboard (roles/grafana/files/dashboards/sentinel.json) with
grafana-foundation-sdk, the builders Grafana generates from its own dashboard schema.

    .venv/bin/python scripts/generate_dashboard.py          # rewrite the committed JSON
    .venv/bin/python scripts/generate_dashboard.py --check  # exit 1 when it is out of date

The PromQL comes from the collection's plugins/module_utils/_metrics.py, which the metrics_info
module (`sentinel inspect app`) uses too, so the dashboard and the CLI show the same numbers.
Production and canary sit side by side: one row per measure, production on the left, canary on
the right, same units.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableOption, VariableRefresh

ROOT = Path(__file__).resolve().parents[1]
# The collection, importable through the committed symlink playbooks/collections/ansible_collections/sentinel/paas.
sys.path.insert(0, str(ROOT / "playbooks" / "collections"))

from ansible_collections.sentinel.paas.plugins.module_utils import _metrics as metrics  # noqa: E402
from ansible_collections.sentinel.paas.plugins.module_utils import _naming  # noqa: E402

OUTPUT = ROOT / "roles" / "grafana" / "files" / "dashboards" / "sentinel.json"
# The data source the grafana role provisions; panels refer to it by uid, not by name.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="sentinel-prometheus")
APP, WINDOW, NODE = "$app", "$__rate_interval", "$node"
VERSION_TITLES = {"prod": "production", "canary": "canary"}
HALF, THIRD, HEIGHT = 12, 8, 8


def _panel(title: str, unit: str, targets: list[tuple[str, str]], width: int) -> timeseries.Panel:
    """A time series of one or more PromQL queries; the dashboard lays panels out left to right."""
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).span(width).height(HEIGHT)
    for i, (expr, legend) in enumerate(targets):
        query = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + i))
        panel = panel.with_target(query.datasource(DATASOURCE))
    return panel


def _app_measures(version: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, unit, [(PromQL, legend)]) of each measure of one version."""
    return [
        ("Requests/s", "reqps", [(metrics.request_rate(APP, version, WINDOW), "requests/s")]),
        (
            "Error rate",
            "percentunit",
            [
                (metrics.error_ratio(APP, version, WINDOW, "5"), "5xx"),
                (metrics.error_ratio(APP, version, WINDOW, "4"), "4xx"),
            ],
        ),
        (
            "Latency",
            "s",
            [(metrics.latency_quantile(APP, version, q, WINDOW), f"p{round(q * 100)}") for q in metrics.QUANTILES],
        ),
        ("Status codes", "reqps", [(metrics.status_codes(APP, version, WINDOW), "{{code}}")]),
    ]


def build() -> dashboard.Dashboard:
    board = (
        dashboard.Dashboard("Sentinel")
        .uid("sentinel")
        .description("Production vs canary of one app (Traefik metrics) and the nodes (node_exporter).")
        .tags(["sentinel"])
        .timezone("browser")
        .refresh("30s")
        .time("now-1h", "now")
        .with_variable(
            dashboard.QueryVariable("app")
            .label("App")
            .query("label_values(traefik_service_requests_total, service)")
            # todo-prod@swarm, todo-canary@file -> todo (traefik_service_regex, anchored for Grafana)
            .regex(f"/^{_naming.traefik_service_regex()}$/")
            .datasource(DATASOURCE)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)  # a newly deployed app shows up without a reload
        )
        .with_variable(
            dashboard.QueryVariable("node")
            .label("Node")
            .query("label_values(node_uname_info, nodename)")
            .datasource(DATASOURCE)
            .include_all(True)
            .multi(True)
            .all_value(".+")
            .current(VariableOption(selected=True, text="All", value="$__all"))
        )
        .with_row(dashboard.Row("$app: production | canary"))
    )
    measures = {version: _app_measures(version) for version in metrics.VERSIONS}
    for row, (title, unit, _) in enumerate(measures["prod"]):
        for version in metrics.VERSIONS:
            board = board.with_panel(
                _panel(f"{title} ({VERSION_TITLES[version]})", unit, measures[version][row][2], HALF)
            )
    board = board.with_row(dashboard.Row("Nodes"))
    nodes = [
        ("CPU busy", metrics.node_cpu_usage(WINDOW, NODE)),
        ("Memory used", metrics.node_memory_usage(NODE)),
        ("Fullest disk used", metrics.node_disk_usage(NODE)),
    ]
    for title, expr in nodes:
        board = board.with_panel(_panel(title, "percentunit", [(expr, "{{nodename}}")], THIRD))
    built = board.build()
    for number, panel in enumerate(built.panels, start=1):  # stable ids, in reading order
        panel.id_val = number
    return built


def render() -> str:
    return json.dumps(build(), cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

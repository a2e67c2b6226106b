"""Read-only commands: inspect app, inspect logs."""

from __future__ import annotations

import time

import click

from ..context import Context, pass_context
from ..output import replicas_text, table
from .completion import app_argument


@click.group()
def inspect() -> None:
    """Look at apps and their logs (changes nothing)."""


@inspect.command(name="app")
@app_argument
@click.option(
    "--window", default="5m", show_default=True, metavar="DURATION", help="Range of the traffic numbers (30s, 5m, 1h)."
)
@pass_context
def inspect_app(ctx: Context, name, window) -> None:
    """Services, tasks and nodes, route, traffic split, and traffic and node load of NAME."""
    result = ctx.run("inspect.yml", {"app": name, "window": window}, f"Inspecting {name}")
    ctx.out.emit(result, render_app(result))


def render_app(result: dict) -> str:
    app, split = result.get("app", {}), result.get("split", {})
    lines = [f"App {app.get('name')}"]
    route = app.get("route")  # in traefik_route's shape, from swarm_app_info
    if route:
        scheme = "https" if route.get("tls") else "http"
        lines.append("  URL:      " + " ".join(f"{scheme}://{d}" for d in route.get("domains") or []))
    if split.get("exists"):
        weights = split.get("weights", {})
        baseline = f"  baseline {weights['baseline']}%" if "baseline" in weights else ""
        lines.append(f"  Traffic:  production {weights.get('prod')}%  canary {weights.get('canary')}%{baseline}")
    services = app.get("services", {})
    rows = [
        {
            "service": svc.get("name"),
            "image": svc.get("image"),
            "replicas": replicas_text(svc),
            "release": svc.get("release") or "-",
        }
        for svc in services.values()
    ]
    lines += ["", table(rows, ["service", "image", "replicas", "release"])]
    tasks = [
        {
            "service": svc.get("name"),
            "task": t.get("id", "")[:12],
            "node": t.get("node"),
            "state": t.get("state"),
            "error": t.get("error") or "",
        }
        for svc in services.values()
        for t in svc.get("tasks", [])
    ]
    if tasks:
        lines += ["", table(tasks, ["service", "task", "node", "state", "error"])]
    running_on = {t["node"] for t in tasks if t["state"] == "running"}
    lines += render_metrics(result.get("metrics") or {}, running_on)
    return "\n".join(lines)


def _percent(share) -> str:
    return "-" if share is None else f"{share * 100:.1f}"


def render_metrics(metrics: dict, nodes: set[str]) -> list[str]:
    """metrics_info's answer: traffic per version, and the load of ``nodes`` (where the app runs)."""
    if not metrics.get("available"):
        return ["", f"Metrics: unavailable ({metrics.get('reason') or 'not read'})"]
    versions = metrics.get("app") or {}
    rows = [
        {
            "version": version,
            "requests": f"{numbers['requests']:.0f}",
            "req/s": f"{numbers['requests_per_second']:.2f}",
            "5xx %": _percent(numbers["error_ratio_5xx"]),
            "4xx %": _percent(numbers["error_ratio_4xx"]),
            "p95 ms": "-" if numbers["p95_seconds"] is None else f"{numbers['p95_seconds'] * 1000:.0f}",
        }
        for version, numbers in versions.items()
        if numbers
    ]
    lines = [
        "",
        f"Traffic (last {metrics.get('window')}):",
        table(rows, ["version", "requests", "req/s", "5xx %", "4xx %", "p95 ms"]),
    ]
    load = [
        {
            "node": node,
            "cpu %": _percent(m.get("cpu")),
            "memory %": _percent(m.get("memory")),
            "disk %": _percent(m.get("disk")),
        }
        for node, m in sorted((metrics.get("nodes") or {}).items())
        if node in nodes
    ]
    if load:
        lines += ["", table(load, ["node", "cpu %", "memory %", "disk %"])]
    return lines


@inspect.command(name="logs")
@app_argument
@click.option("--canary", is_flag=True, help="The canary's logs instead of production's.")
@click.option("--since", default="", metavar="WHEN", help="Only lines since WHEN (10m, 2h, or a timestamp).")
@click.option("--tail", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (polls every 2 s; Ctrl-C stops).")
@pass_context
def inspect_logs(ctx: Context, name, canary, since, tail, follow) -> None:
    """Log lines of NAME's tasks, oldest first."""
    role = "canary" if canary else "prod"
    seen: set[str] = set()
    while True:
        result = ctx.run("logs.yml", {"app": name, "role": role, "since": since, "tail": tail}, f"Reading {name}")
        fresh = [line for line in result.get("lines", []) if line not in seen]
        seen.update(fresh)
        if fresh:
            ctx.out.emit({"service": result.get("service"), "lines": fresh}, "\n".join(fresh))
        if not follow:
            return
        # Ask again from the newest timestamp seen; --timestamps puts it first on each line.
        since = fresh[-1].split(" ", 1)[0] if fresh else since
        time.sleep(2)


def register(cli: click.Group) -> None:
    cli.add_command(inspect)

"""The cluster group: grow the Swarm, look at its nodes, maintenance mode, removal, rebalance."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import table
from .completion import node_argument

NODE_COLUMNS = ["hostname", "role", "availability", "state", "engine", "tasks", "labels"]


def node_rows(nodes: list[dict]) -> list[dict]:
    rows = []
    for node in nodes:
        role = node["role"] + (" (leader)" if node.get("leader") else "")
        if node.get("reachability") not in (None, "reachable"):
            role += f" ({node['reachability']})"
        labels = ",".join(f"{k}={v}" for k, v in sorted((node.get("labels") or {}).items()))
        rows.append(
            {
                "hostname": node["hostname"],
                "role": role,
                "availability": node["availability"],
                "state": node["state"],
                "engine": node.get("engine_version") or "-",
                "tasks": node.get("tasks", 0),
                "labels": labels or "-",
            }
        )
    return rows


@click.group()
def cluster() -> None:
    """The Swarm's nodes: add, inspect, maintenance, remove, rebalance."""


@cluster.command()
@pass_context
def scale(ctx: Context) -> None:
    """Join the hosts added to the inventory (engine installed where missing).

    Managers must stay an odd number. Nodes already in the Swarm are left alone, so running it
    again changes nothing. Running tasks do not move: `sentinel cluster rebalance` spreads them.
    """
    result = ctx.run("cluster_scale.yml", {}, "Joining the inventory's hosts")
    joined = result.get("joined", [])
    summary = f"Joined {', '.join(joined)}." if joined else "No new hosts: nothing changed."
    ctx.out.emit(result, summary + "\n" + table(node_rows(result.get("nodes", [])), NODE_COLUMNS))


@cluster.command()
@pass_context
def inspect(ctx: Context) -> None:
    """Nodes with role, availability, state, engine version, labels and Sentinel tasks."""
    result = ctx.run("cluster_inspect.yml", {}, "Reading the nodes")
    rows, columns = node_rows(result.get("nodes", [])), NODE_COLUMNS
    metrics = result.get("metrics") or {}
    if metrics.get("available"):
        columns = [*NODE_COLUMNS[:-1], "cpu", "memory", "disk", "labels"]
        for row in rows:
            load = (metrics.get("nodes") or {}).get(row["hostname"]) or {}
            row.update({k: f"{load[k]:.0%}" if isinstance(load.get(k), (int, float)) else "-" for k in columns[6:9]})
    tasks = result.get("tasks", {})
    footer = f"\nSentinel replicas running: {tasks.get('running', '?')}/{tasks.get('desired', '?')}"
    if not metrics.get("available"):
        footer += f"\nNo CPU/memory/disk numbers: {metrics.get('reason') or 'Prometheus did not answer'}"
    ctx.out.emit(result, table(rows, columns) + footer)


def _set_availability(ctx: Context, node: str, availability: str, title: str) -> dict:
    return ctx.run("cluster_availability.yml", {"node": node, "availability": availability}, title)


@cluster.command()
@node_argument
@pass_context
def drain(ctx: Context, node: str) -> None:
    """Maintenance mode: move NODE's tasks to other nodes, schedule nothing there, and silence its alerts."""
    result = _set_availability(ctx, node, "drain", f"Draining {node}")
    ctx.out.emit(
        result,
        f"{node} drained: its tasks run elsewhere and its alerts are silenced. "
        f"`sentinel cluster activate {node}` brings it back.",
    )


@cluster.command()
@node_argument
@pass_context
def activate(ctx: Context, node: str) -> None:
    """End maintenance: NODE takes tasks again (`sentinel cluster rebalance` moves some there), its alerts are heard."""
    result = _set_availability(ctx, node, "active", f"Activating {node}")
    ctx.out.emit(result, f"{node} is active. `sentinel cluster rebalance` spreads the apps' tasks onto it.")


@cluster.command()
@node_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Remove it even though the data pinned to it (a database) is lost.")
@pass_context
def remove(ctx: Context, node: str, yes: bool, force: bool) -> None:
    """Take NODE out of the Swarm for good: drain, demote, leave, forget.

    Refused for the last manager, when the managers left would lose their majority, and, unless
    --force, for a node that holds a database's data (down or not). Remove the host from the
    inventory afterwards, or `cluster scale` joins it again.
    """
    confirm_or_abort(ctx, yes, f"Remove node {node} from the Swarm?")
    result = ctx.run("cluster_remove.yml", {"node": node, **({"force": True} if force else {})}, f"Removing {node}")
    ctx.out.emit(result, f"{node} removed from the Swarm. Take it out of the inventory too.")


@cluster.command()
@pass_context
def rebalance(ctx: Context) -> None:
    """Spread every app's production tasks over the nodes (rolling, start-first: no downtime)."""
    result = ctx.run("cluster_rebalance.yml", {}, "Rebalancing the apps")
    apps = result.get("rebalanced", [])
    ctx.out.emit(result, f"Rebalanced {', '.join(apps)}." if apps else "No apps to rebalance.")


@cluster.command(name="prune-images")
@pass_context
def prune_images(ctx: Context) -> None:
    """Remove the cluster registry's images that no kept release and no service uses, and free their layers.

    Images built from source (deploy --build) stay while a release names them, so `sentinel rollback` can go back
    to them. Run it when no deploy from source runs; --check lists what would go.
    """
    result = ctx.run("registry_gc.yml", {}, "Pruning the cluster registry")
    removed = result.get("removed", [])
    lines = [f"  {image['app']}: {', '.join(image['tags'])} ({image['digest'][:19]})" for image in removed]
    verb = "Would remove" if ctx.options.check else "Removed"
    summary = f"{verb} {len(removed)} image(s); {result.get('kept', 0)} in use stay."
    ctx.out.emit(result, "\n".join([summary, *lines]))


def register(cli: click.Group) -> None:
    cli.add_command(cluster)

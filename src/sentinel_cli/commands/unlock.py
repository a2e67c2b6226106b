"""unlock and cluster unlock: break a lease whose run is gone (plugins/modules/swarm_lease.py)."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from .completion import app_argument


def unlock_message(result: dict, what: str) -> str:
    """What `unlock` and `cluster unlock` print: whose lease was broken, or that there was none."""
    previous = result.get("previous")
    if not previous:
        return f"{what} had no lease: nothing to unlock."
    again = (
        f"Go on with it: sentinel canary resume {what.removeprefix('app ')}."
        if previous.get("operation") == "canary rollout"
        else "Run that command again to finish what it started."
    )
    holder = f"{previous.get('operation')} by {previous.get('owner')} since {previous.get('started')}"
    return f"Lease of {what} broken: it was {holder}. {again}"


@click.command()
@app_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def unlock(ctx: Context, name, yes) -> None:
    """Break NAME's lease when the run holding it is gone (killed, its machine lost).

    Every changing command holds the app's lease while it runs, so that two never interleave; a
    lease whose holder died also ends by itself (after 15 minutes).
    """
    confirm_or_abort(ctx, yes, f"Break the lease of app {name}? Only do this if no command is running on it.")
    result = ctx.run("unlock.yml", {"app": name}, f"Unlocking {name}")
    ctx.out.emit(result, unlock_message(result, f"app {name}"))


@click.command(name="unlock")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def cluster_unlock(ctx: Context, yes: bool) -> None:
    """Break the cluster's lease (held by scale, drain, activate, rebalance, remove) when its run is gone."""
    confirm_or_abort(ctx, yes, "Break the cluster's lease? Only do this if no cluster command is running.")
    result = ctx.run("unlock.yml", {"lease_scope": "cluster"}, "Unlocking the cluster")
    ctx.out.emit(result, unlock_message(result, "the cluster"))


def register(cli: click.Group) -> None:
    cli.add_command(unlock)
    cli.commands["cluster"].add_command(cluster_unlock)

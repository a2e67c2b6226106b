"""maintenance on|off: hold an app's traffic on a 503 page through Traefik, its tasks untouched."""

from __future__ import annotations

import click

from ..context import Context, pass_context
from .completion import app_argument


@click.group()
def maintenance() -> None:
    """Maintenance mode of an app: a 503 page with Retry-After for every request; its tasks keep running."""


@maintenance.command(name="on")
@app_argument
@click.option("--message", "-m", help="What the page says (at most 500 characters; kept when omitted).")
@click.option(
    "--retry-after",
    type=click.IntRange(1, 86400),
    metavar="SECONDS",
    help="The page's Retry-After header, 1 to 86400 (300 when maintenance starts; kept when omitted).",
)
@pass_context
def maintenance_on(ctx: Context, name, message, retry_after) -> None:
    """Send every request for NAME's domains to the maintenance page (503), without stopping NAME.

    Deploys, config changes and canaries still work behind the page; `sentinel maintenance off NAME`
    brings the traffic back.
    """
    extravars = {"app": name, "maintenance": "on", "message": message, "retry_after": retry_after}
    result = ctx.run("maintenance.yml", extravars, f"Putting {name} in maintenance")
    domains = ", ".join(result.get("domains") or [])
    ctx.out.emit(
        result,
        f"{name} is in maintenance: {domains} answer 503 (Retry-After {result.get('retry_after')} s). "
        f"`sentinel maintenance off {name}` brings the traffic back.",
    )


@maintenance.command(name="off")
@app_argument
@pass_context
def maintenance_off(ctx: Context, name) -> None:
    """Bring NAME's traffic back from the maintenance page."""
    result = ctx.run("maintenance.yml", {"app": name, "maintenance": "off"}, f"Ending {name}'s maintenance")
    ctx.out.emit(
        result, f"{name} serves its traffic again." if result.get("changed") else f"{name} was not in maintenance."
    )


def register(cli: click.Group) -> None:
    cli.add_command(maintenance)

"""alerts NAME: an app's own alert thresholds (plugins/modules/app_alerts.py), in place of the platform's."""

from __future__ import annotations

import click

from ..context import Context, pass_context
from .completion import app_argument


def _threshold(_ctx, param, value: str | None) -> float | str | None:
    """A positive number, or "default" (back to the platform's); checked again, with its bounds, by the module."""
    if value is None or value == "default":
        return value
    try:
        number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a number, or default") from None
    if number <= 0:
        raise click.BadParameter(f"{value!r}: give a number above 0, or default")
    return number


@click.command()
@app_argument
@click.option(
    "--p95", callback=_threshold, metavar="SECONDS|default", help="HighP95Latency above this p95 (0.3 is 300 ms)."
)
@click.option(
    "--error-ratio",
    callback=_threshold,
    metavar="RATIO|default",
    help="AppErrorRateHigh above this share of 5xx (0.01 or 1%).",
)
@pass_context
def alerts(ctx: Context, name, p95, error_ratio) -> None:
    """NAME's own alert thresholds; without options, shows them.

    Production's p95 latency and its share of 5xx answers alert (to `sentinel notify` receivers) above
    the platform's thresholds, or above NAME's own where it sets them; `default` gives one back to the
    platform. Only labels change: NAME's tasks keep running.
    """
    extravars = {"app": name, "p95_seconds": p95, "error_ratio": error_ratio}
    result = ctx.run("alerts.yml", extravars, f"Setting {name}'s alert thresholds")
    own = result.get("thresholds") or {}
    lines = [f"{name}: " + ("its own thresholds" if own else "the platform's thresholds")]
    lines += [f"  {key} = {value:g}" for key, value in sorted(own.items())]
    ctx.out.emit(result, "\n".join(lines))


def register(cli: click.Group) -> None:
    cli.add_command(alerts)

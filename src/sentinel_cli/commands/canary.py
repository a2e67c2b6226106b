"""Canary commands: deploy, traffic, promote, rollback, status."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import replicas_text
from ..params import env_option, only_given

WEIGHT = click.IntRange(0, 100)


@click.group()
def canary() -> None:
    """Run a new version beside production on a share of the traffic."""


@canary.command(name="deploy")
@click.argument("name")
@click.option("--image", required=True, help="The new version's image.")
@click.option("--weight", type=WEIGHT, help="Canary's share of traffic, 0-100 % (a new canary: 10).")
@env_option
@click.option("--replicas", type=click.IntRange(min=1), help="Tasks of the canary (a new canary: 1).")
@pass_context
def canary_deploy(ctx: Context, name, image, weight, env, replicas) -> None:
    """Start NAME's canary from IMAGE and send it WEIGHT % of new users.

    A new canary runs with production's settings (env, port, database) and the new image;
    --env replaces its environment.
    """
    given = {"image": image, "weight": weight, "env": env or None, "replicas": replicas}
    extravars = {"app": name, **only_given(given)}
    result = ctx.run("canary.yml", extravars, f"Starting canary {image} for {name}")
    ctx.out.emit(result, _weights_line(name, result))


@canary.command(name="traffic")
@click.argument("name")
@click.option("--weight", type=WEIGHT, required=True, help="Canary's share of traffic, 0-100 %.")
@pass_context
def canary_traffic(ctx: Context, name, weight) -> None:
    """Change the canary's share of traffic, live (users keep their version)."""
    result = ctx.run("canary.yml", {"app": name, "weight": weight}, f"Setting {name}'s canary to {weight}%")
    ctx.out.emit(result, _weights_line(name, result))


@canary.command(name="promote")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def canary_promote(ctx: Context, name, yes) -> None:
    """Roll production to the canary's version, then remove the canary."""
    confirm_or_abort(ctx, yes, f"Promote {name}'s canary to production?")
    result = ctx.run("promote.yml", {"app": name}, f"Promoting {name}")
    ctx.out.emit(result, f"{name}: production now runs {result.get('production_image')}; canary removed")


@canary.command(name="rollback")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def canary_rollback(ctx: Context, name, yes) -> None:
    """Send all traffic back to production and remove the canary."""
    confirm_or_abort(ctx, yes, f"Roll back {name}'s canary?")
    result = ctx.run("rollback.yml", {"app": name}, f"Rolling back {name}")
    ctx.out.emit(result, f"{name}: 100% production ({result.get('production_image')}); canary removed")


@canary.command(name="status")
@click.argument("name")
@pass_context
def canary_status(ctx: Context, name) -> None:
    """Weights, images and replicas of production and canary."""
    result = ctx.run("inspect.yml", {"app": name}, f"Reading {name}")
    services = result.get("app", {}).get("services", {})
    split = result.get("split", {})
    weights = split.get("weights", {}) if split.get("exists") else {"prod": 100, "canary": 0}
    metrics = result.get("metrics") or {}
    traffic = (metrics.get("app") or {}) if metrics.get("available") else {}
    lines = []
    for role in ("prod", "canary"):
        svc = services.get(role)
        if svc:
            line = f"  {role:7} {weights.get(role, 0):>3}%  {svc.get('image')}  {replicas_text(svc)} tasks"
            if traffic.get(role):
                line += f"  {_requests_text(traffic[role])} in {metrics.get('window')}"
            lines.append(line)
    if "canary" not in services:
        lines.append("  (no canary)")
    data = {"weights": weights, "services": services, "traffic": traffic or None}
    ctx.out.emit(data, f"{name}\n" + "\n".join(lines))


def _requests_text(numbers: dict) -> str:
    """'120 requests, 25.0% 5xx' of one version as metrics_info counts it."""
    text = f"{numbers['requests']:.0f} requests"
    if numbers.get("error_ratio_5xx") is not None:
        text += f", {numbers['error_ratio_5xx'] * 100:.1f}% 5xx"
    return text


def _weights_line(name: str, result: dict) -> str:
    weights = result.get("weights", {})
    return f"{name}: production {weights.get('prod')}% / canary {weights.get('canary')}% ({result.get('canary_image')})"


def register(cli: click.Group) -> None:
    cli.add_command(canary)

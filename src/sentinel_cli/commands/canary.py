"""Canary commands: deploy, traffic, promote, rollback, status."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import replicas_text
from ..params import Latency, Percent, env_option, only_given

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
@click.option("--auto", is_flag=True, help="Walk the --steps, judging each from Prometheus; promote or roll back.")
@click.option("--steps", help="With --auto: the canary's weights, strictly increasing (default 5,10,25,50).")
@click.option("--interval", help="With --auto: how long each step is watched, 10s or more (default 30s).")
@click.option("--max-error-rate", type=Percent(), help="With --auto: largest 5xx share of the canary (default 1%).")
@click.option("--max-p99", type=Latency(), help="With --auto: largest p99 latency of the canary (default 500ms).")
@click.option("--max-error-rate-increase", type=Percent(), help="With --auto: points of 5xx over production allowed.")
@click.option("--max-latency-increase", type=Percent(), help="With --auto: how much slower than production, e.g. 20%.")
@click.option("--min-requests", type=click.IntRange(min=1), help="With --auto: canary requests a verdict needs (50).")
@click.option("--max-inconclusive", type=click.IntRange(min=0), help="With --auto: intervals a step is held (2).")
@click.option(
    "--on-inconclusive", type=click.Choice(["rollback", "pause"]), help="With --auto: after the held intervals."
)
@click.option("--dry-run", is_flag=True, help="With --auto: judge every step, act on none (the canary stays).")
@pass_context
def canary_deploy(ctx: Context, name, image, weight, env, replicas, auto, dry_run, **analysis) -> None:
    """Start NAME's canary from IMAGE and send it WEIGHT % of new users.

    A new canary runs with production's settings (env, port, database) and the new image;
    --env replaces its environment.

    With --auto, a progressive rollout: the canary takes each of --steps in turn, each judged
    from Prometheus over --interval (error rate and p99, absolute and against production); all
    pass: promoted; one fails: rolled back at once; too little traffic is never a pass.
    """
    given = {"image": image, "env": env or None, "replicas": replicas}
    if not auto:
        used = [f"--{k.replace('_', '-')}" for k, v in analysis.items() if v is not None] + ["--dry-run"] * dry_run
        if used:
            raise click.UsageError(f"{', '.join(used)} only work with --auto")
        extravars = {"app": name, **only_given({**given, "weight": weight})}
        result = ctx.run("canary.yml", extravars, f"Starting canary {image} for {name}")
        ctx.out.emit(result, _weights_line(name, result))
        return
    if weight is not None:
        raise click.UsageError("--weight does not work with --auto: the --steps give the weights")
    if analysis["steps"] is not None and not analysis["steps"].strip():
        raise click.UsageError("--steps is empty: give the canary's weights in order, such as 5,10,25,50")
    extravars = {"app": name, **only_given({**given, **analysis}), "dry_run": dry_run}
    result = ctx.run("canary_rollout.yml", extravars, f"Rolling out {image} to {name}")
    ctx.out.emit(result, _rollout_text(name, result))


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


def _rollout_text(name: str, result: dict) -> str:
    """Each step's weight, verdict and numbers, then the outcome."""
    lines = []
    for step in result.get("steps", []):
        canary = step["numbers"]["canary"]
        rate = f"{canary['errors'] / canary['requests']:.1%} 5xx" if canary["requests"] else "no requests"
        p99 = f"p99 {canary['p99'] * 1000:.0f} ms" if canary.get("p99") is not None else "p99 -"
        lines.append(f"  {step['weight']:>3}%  {step['verdict']:12}  {canary['requests']:.0f} requests, {rate}, {p99}")
        if step["verdict"] != "pass":
            lines += [f"        {reason}" for reason in step["reasons"]]
    outcome = {
        "promoted": f"promoted: production now runs {result.get('production_image')}",
        "rolled back": f"rolled back: production stays on {result.get('production_image')}",
        "paused": f"paused at {(result.get('steps') or [{}])[-1].get('weight')}%: "
        f"sentinel canary promote {name} or sentinel canary rollback {name}",
        "dry run": f"dry run (worst verdict: {result.get('verdict')}), nothing acted on: the canary keeps "
        f"{(result.get('steps') or [{}])[-1].get('weight')}% of new users; sentinel canary promote / rollback {name}",
    }.get(result.get("outcome"), result.get("outcome"))
    return f"{name}: {outcome}\n" + "\n".join(lines)


def _weights_line(name: str, result: dict) -> str:
    weights = result.get("weights", {})
    return f"{name}: production {weights.get('prod')}% / canary {weights.get('canary')}% ({result.get('canary_image')})"


def register(cli: click.Group) -> None:
    cli.add_command(canary)

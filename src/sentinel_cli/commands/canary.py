"""Canary commands: deploy (--auto: a judged rollout), traffic, promote, rollback, status, history, resume."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import replicas_text, table
from ..params import Latency, Percent, build_option, env_option, only_given, secret_env_option, smoke_test_options
from ..report import rollout_page
from .completion import app_argument

WEIGHT = click.IntRange(0, 100)
# A rollout still going, or whose run died (every status but plugins/module_utils/_rollout_record.py's ENDED).
UNFINISHED = ("starting", "running", "paused")


@click.group()
def canary() -> None:
    """Run a new version beside production on a share of the traffic."""


@canary.command(name="deploy")
@app_argument
@click.option("--image", help="The new version's image.")
@build_option
@click.option("--weight", type=WEIGHT, help="Canary's share of traffic, 0-100 % (a new canary: 10).")
@env_option
@secret_env_option
@click.option("--replicas", type=click.IntRange(min=1), help="Tasks of the canary (a new canary: 1).")
@click.option(
    "--preview-header", metavar="NAME", help="Header whose value 'always' reaches the canary (X-Sentinel-Canary)."
)
@smoke_test_options
@click.option("--auto", is_flag=True, help="Walk the --steps, judging each from Prometheus; promote or roll back.")
@click.option("--steps", help="With --auto: the canary's weights, strictly increasing (default 5,10,25,50).")
@click.option("--interval", help="With --auto: how long each step is watched, 10s or more (default 30s).")
@click.option("--max-error-rate", type=Percent(), help="With --auto: largest 5xx share of the canary (default 1%).")
@click.option("--max-p99", type=Latency(), help="With --auto: largest p99 latency of the canary (default 500ms).")
@click.option("--max-error-rate-increase", type=Percent(), help="With --auto: points of 5xx over production allowed.")
@click.option("--max-latency-increase", type=Percent(), help="With --auto: how much slower than production, e.g. 20%.")
@click.option("--min-requests", type=click.IntRange(min=1), help="With --auto: canary requests a verdict needs (50).")
@click.option(
    "--load", metavar="PATH:RPS", help="With --auto: send the canary RPS requests a second to PATH, through Traefik."
)
@click.option(
    "--baseline",
    is_flag=True,
    default=None,
    help="With --auto: judge the canary against NAME-baseline, production's image at the canary's share (steps to 33).",
)
@click.option("--max-inconclusive", type=click.IntRange(min=0), help="With --auto: intervals a step is held (2).")
@click.option(
    "--on-inconclusive", type=click.Choice(["rollback", "pause"]), help="With --auto: after the held intervals."
)
@click.option("--dry-run", is_flag=True, help="With --auto: judge every step, act on none (the canary stays).")
@pass_context
def canary_deploy(
    ctx: Context,
    name,
    image,
    build,
    weight,
    env,
    secret_env,
    replicas,
    preview_header,
    smoke_test,
    smoke_test_command,
    smoke_test_timeout,
    auto,
    dry_run,
    **analysis,
) -> None:
    """Start NAME's canary from IMAGE (or --build SOURCE) and send it WEIGHT % of new users.

    A new canary runs with production's settings (env, secrets, port, database) and the new image;
    --env replaces its environment and --secret-env its secrets (production takes them on promote).

    Whatever the weight, 0 included (a dark launch), a request with the header
    X-Sentinel-Canary: always reaches the canary, and 'never' production; a browser opens the
    app with ?sentinel-canary=1 (or 0) once and a cookie keeps it there.

    With --smoke-test or --smoke-test-cmd, a one-off job runs first on the app's network, with
    the canary's URL in $SENTINEL_TARGET (http://NAME-canary:PORT); unless it exits 0, the
    canary is removed before any user reaches it.

    With --auto, a progressive rollout: the canary takes each of --steps in turn, each judged
    from Prometheus over --interval (error rate and p99, absolute and against production); all
    pass: promoted; one fails: rolled back at once; too little traffic is never a pass.
    An app with few users gets enough with --load: a generator in the cluster sends the canary
    its own requests while the steps are judged. With --baseline, production's image runs beside
    the canary at the same share and age, and the canary is compared with it.
    """
    if bool(image) == bool(build):
        raise click.UsageError("give the new version as --image IMAGE or --build SOURCE (one of them)")
    given = {
        "image": image,
        "build": build,
        "env": env or None,
        "secret_env": secret_env or None,
        "replicas": replicas,
        "preview_header": preview_header,
        "smoke_test": smoke_test,
        "smoke_test_command": smoke_test_command,
        "smoke_test_timeout": smoke_test_timeout,
    }
    if not auto:
        used = [f"--{k.replace('_', '-')}" for k, v in analysis.items() if v is not None] + ["--dry-run"] * dry_run
        if used:
            raise click.UsageError(f"{', '.join(used)} only work with --auto")
        extravars = {"app": name, **only_given({**given, "weight": weight})}
        result = ctx.run("canary.yml", extravars, f"Starting canary {image or build} for {name}")
        ctx.out.emit(result, _weights_line(name, result))
        return
    if weight is not None:
        raise click.UsageError("--weight does not work with --auto: the --steps give the weights")
    if analysis["steps"] is not None and not analysis["steps"].strip():
        raise click.UsageError("--steps is empty: give the canary's weights in order, such as 5,10,25,50")
    extravars = {"app": name, **only_given({**given, **analysis}), "dry_run": dry_run}
    result = ctx.run("canary_rollout.yml", extravars, f"Rolling out {image or build} to {name}")
    ctx.out.emit(result, _rollout_text(name, result))


@canary.command(name="traffic")
@app_argument
@click.option("--weight", type=WEIGHT, required=True, help="Canary's share of traffic, 0-100 %.")
@pass_context
def canary_traffic(ctx: Context, name, weight) -> None:
    """Change the canary's share of traffic, live (users keep their version)."""
    result = ctx.run("canary.yml", {"app": name, "weight": weight}, f"Setting {name}'s canary to {weight}%")
    ctx.out.emit(result, _weights_line(name, result))


@canary.command(name="promote")
@app_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def canary_promote(ctx: Context, name, yes) -> None:
    """Roll production to the canary's version, then remove the canary."""
    confirm_or_abort(ctx, yes, f"Promote {name}'s canary to production?")
    result = ctx.run("promote.yml", {"app": name}, f"Promoting {name}")
    ctx.out.emit(result, f"{name}: production now runs {result.get('production_image')}; canary removed")


@canary.command(name="rollback")
@app_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def canary_rollback(ctx: Context, name, yes) -> None:
    """Send all traffic back to production and remove the canary.

    Production itself does not change; to take production back to an earlier release, see
    sentinel rollback.
    """
    confirm_or_abort(ctx, yes, f"Roll back {name}'s canary?")
    result = ctx.run("rollback.yml", {"app": name}, f"Rolling back {name}")
    ctx.out.emit(result, f"{name}: 100% production ({result.get('production_image')}); canary removed")


@canary.command(name="status")
@app_argument
@pass_context
def canary_status(ctx: Context, name) -> None:
    """Weights, images and replicas of production and canary (and a rollout's baseline); a running rollout, live."""
    result = ctx.run("inspect.yml", {"app": name}, f"Reading {name}")
    services = result.get("app", {}).get("services", {})
    split = result.get("split", {})
    weights = split.get("weights", {}) if split.get("exists") else {"prod": 100, "canary": 0}
    metrics = result.get("metrics") or {}
    traffic = (metrics.get("app") or {}) if metrics.get("available") else {}
    lines = []
    for role in ("prod", "canary", "baseline"):
        svc = services.get(role)
        if svc:
            line = f"  {role:8} {weights.get(role, 0):>3}%  {svc.get('image')}  {replicas_text(svc)} tasks"
            if traffic.get(role):
                line += f"  {_requests_text(traffic[role])} in {metrics.get('window')}"
            lines.append(line)
    if "canary" not in services:
        lines.append("  (no canary)")
    preview = result.get("app", {}).get("preview")
    if preview:
        lines.append(_preview_line(preview))
    rollout = result.get("rollout")
    live = rollout if rollout and rollout.get("status") in UNFINISHED else None
    if live:
        lines += _live_rollout_lines(live, datetime.now(UTC))
    data = {"weights": weights, "services": services, "preview": preview, "traffic": traffic or None, "rollout": live}
    ctx.out.emit(data, f"{name}\n" + "\n".join(lines))


@canary.command(name="history")
@app_argument
@click.option("--rollout", "number", type=click.IntRange(min=1), help="Only this rollout, every step in full.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rollouts, the newest (all kept: 20).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True),
    help="Write an HTML page of the rollout (--rollout, or the newest): canary vs production per step.",
)
@pass_context
def canary_history(ctx: Context, name, number, limit, report) -> None:
    """Past rollouts of NAME, newest first: who, when, images, each step's verdict, how it ended.

    Each rollout's decision record is kept in the Swarm; -o json gives them whole, with the numbers
    the judge saw at each step (requests, errors, p50/p95/p99 per version, the test statistics).
    --report FILE.html plots each step's windows, canary against production.
    """
    extravars = {"app": name, **only_given({"rollout": number, "limit": limit})}
    result = ctx.run("canary_history.yml", extravars, f"Reading {name}'s rollouts")
    rollouts = result.get("rollouts", [])
    if number is not None and not rollouts:
        ctx.out.fail([f"app {name} has no rollout {number} (sentinel canary history {name} lists them)"])
    if not rollouts and report:
        ctx.out.fail([f"app {name} has no canary rollout to report"])
    if not rollouts:
        ctx.out.emit(result, f"{name}: no canary rollouts")
        return
    rows = [_history_row(r) for r in rollouts]
    text = table(rows, ["rollout", "started", "by", "canary", "steps", "status", "reason"])
    if number is not None:
        text += "\n" + "\n".join(_step_lines(rollouts[0].get("steps") or []))
    if report:
        Path(report).write_text(rollout_page(rollouts[0]), encoding="utf-8")
        text += f"\nreport of rollout {rollouts[0].get('number')}: {report}"
        result = {**result, "report": report}
    ctx.out.emit(result, text)


@canary.command(name="resume")
@app_argument
@click.option("--deadline", help="Roll back instead if the rollout started longer ago than this (30m, 2h).")
@pass_context
def canary_resume(ctx: Context, name, deadline) -> None:
    """Continue a rollout of NAME from its record: its run died, or it paused on inconclusive steps.

    Steps that passed stay passed; the rest are judged with the rollout's own options, then the
    canary is promoted or rolled back. A dead run's lease still holds the app: sentinel unlock NAME
    first (only if that run is really gone).
    """
    result = ctx.run("canary_resume.yml", {"app": name, **only_given({"deadline": deadline})}, f"Resuming {name}")
    ctx.out.emit(result, _rollout_text(name, result))


def _requests_text(numbers: dict) -> str:
    """'120 requests, 25.0% 5xx' of one version as metrics_info counts it."""
    text = f"{numbers['requests']:.0f} requests"
    if numbers.get("error_ratio_5xx") is not None:
        text += f", {numbers['error_ratio_5xx'] * 100:.1f}% 5xx"
    return text


def _step_lines(steps: list[dict]) -> list[str]:
    """Each judged step's weight, verdict and canary numbers, and why when it did not pass."""
    lines = []
    for step in steps:
        # A record written by hand or by another version may hold a step without its numbers.
        canary = (step.get("numbers") or {}).get("canary")
        if canary:
            rate = f"{canary['errors'] / canary['requests']:.1%} 5xx" if canary["requests"] else "no requests"
            p99 = f"p99 {canary['p99'] * 1000:.0f} ms" if canary.get("p99") is not None else "p99 -"
            seen = f"{canary['requests']:.0f} requests, {rate}, {p99}"
        else:
            seen = "no numbers recorded"
        lines.append(f"  {step['weight']:>3}%  {step['verdict']:12}  {seen}")
        if step["verdict"] != "pass":
            lines += [f"        {reason}" for reason in step.get("reasons") or []]
    return lines


def _live_rollout_lines(rollout: dict, now: datetime) -> list[str]:
    """A running rollout: its steps so far, the one under way and the time it has left."""
    steps = rollout.get("options", {}).get("steps", [])
    lines = [f"  rollout {rollout['number']} ({rollout['status']}), steps {','.join(map(str, steps))}%"]
    lines += _step_lines(rollout.get("steps") or [])
    current = rollout.get("current")
    if current:
        elapsed = (now - datetime.fromisoformat(current["started"])).total_seconds()
        left = int(current["interval_seconds"] - elapsed)
        most = int(current["step_seconds"] - elapsed)
        when = f"{left} s left (up to {most} s if held)" if left > 0 else f"held: at most {most} s more"
        # A minute past the longest a step can take, its run is most likely gone.
        if most < -60:
            name = rollout["app"]
            when = f"{-most} s past its time: is its run gone? sentinel unlock {name}, sentinel canary resume {name}"
        lines.append(f"  {current['weight']:>3}%  judging      {when}")
    elif rollout["status"] == "paused":
        lines.append(f"  paused: sentinel canary resume / promote / rollback {rollout['app']}")
    return lines


def _history_row(rollout: dict) -> dict:
    judged = rollout.get("steps") or []
    steps = rollout.get("options", {}).get("steps", [])
    return {
        "rollout": rollout.get("number"),
        "started": rollout.get("started", "-"),
        "by": rollout.get("owner", "-"),
        "canary": rollout.get("canary_image", "-"),
        "steps": f"{len(judged)}/{len(steps)}",
        "status": rollout.get("status"),
        "reason": rollout.get("reason") or "-",
    }


def _rollout_text(name: str, result: dict) -> str:
    """Each step's weight, verdict and numbers, then the outcome."""
    lines = _step_lines(result.get("steps", []))
    outcome = {
        "promoted": f"promoted: production now runs {result.get('production_image')}",
        "paused": f"paused at {(result.get('steps') or [{}])[-1].get('weight')}%: "
        f"sentinel canary promote {name} or sentinel canary rollback {name}",
        "rolled back": f"rolled back: production stays on {result.get('production_image')}"
        + (" (past its deadline)" if result.get("verdict") == "overdue" else ""),
        "dry run": f"dry run (worst verdict: {result.get('verdict')}), nothing acted on: the canary keeps "
        f"{(result.get('steps') or [{}])[-1].get('weight')}% of new users; sentinel canary promote / rollback {name}",
    }.get(result.get("outcome"), result.get("outcome"))
    return f"{name}: {outcome}\n" + "\n".join(lines)


def _weights_line(name: str, result: dict) -> str:
    weights = result.get("weights", {})
    line = f"{name}: production {weights.get('prod')}% / canary {weights.get('canary')}% ({result.get('canary_image')})"
    preview = result.get("preview")
    return f"{line}\n{_preview_line(preview)}" if preview else line


def _preview_line(preview: dict) -> str:
    """Where QA reaches the canary on purpose, whatever the weights."""
    return f"  preview: send '{preview['header']}', or open {preview['link']}"


def register(cli: click.Group) -> None:
    cli.add_command(canary)

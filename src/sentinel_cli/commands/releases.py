"""Release commands: list an app's releases, roll production back to one."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import table
from ..params import only_given
from .completion import app_argument


@click.command()
@app_argument
@click.option("--limit", type=click.IntRange(min=1), help="At most this many releases, the newest (all kept: 50).")
@pass_context
def releases(ctx: Context, name, limit) -> None:
    """NAME's releases, newest first; * marks the one production runs.

    Every deploy that changes production's tasks, every promote and every rollback is a release:
    its image digest, environment keys, who, when, what changed and why.
    """
    result = ctx.run("releases.yml", {"app": name, **only_given({"limit": limit})}, f"Reading {name}'s releases")
    rows = [
        {
            "release": f"{'*' if r.get('live') else ' '}v{r['release']}",
            "time": r.get("time"),
            "image": r.get("image"),
            "env": ",".join(r.get("env_keys") or []) or "-",
            "changes": ",".join(r.get("changes") or []),
            "by": r.get("by") or "-",
            "reason": r.get("reason") or "-",
        }
        for r in result.get("releases", [])
    ]
    columns = ["release", "time", "image", "env", "changes", "by", "reason"]
    ctx.out.emit(result, table(rows, columns) if rows else f"{name} has no releases.")


@click.command()
@app_argument
@click.option("--to", "release", metavar="vN", help="The release to go back to (default: the one before the live one).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def rollback(ctx: Context, name, release, yes) -> None:
    """Take NAME's production back to an earlier release: its image, environment and secrets, rolling.

    Not `canary rollback`, which takes a canary's traffic back to production: this changes
    production itself, and is a new release.
    """
    if release is None:
        found = ctx.run("releases.yml", {"app": name}, f"Reading {name}'s releases")
        live = found.get("live")
        earlier = [r for r in found.get("releases", []) if live is not None and r["release"] < live]
        if not earlier:
            ctx.out.fail([f"app {name} has no release before the live one (sentinel releases {name})"])
        release = str(earlier[0]["release"])
        question = f"Roll {name} back from v{live} to v{release} ({earlier[0]['image']})?"
    else:
        question = f"Roll {name} back to {release}?"
    confirm_or_abort(ctx, yes, question)
    result = ctx.run("release_rollback.yml", {"app": name, "to": release}, f"Rolling {name} back")
    to, release = result.get("to"), result.get("release")
    ctx.out.emit(result, f"{name}: production runs v{to}'s image, environment and secrets as v{release}")


def register(cli: click.Group) -> None:
    for command in (releases, rollback):
        cli.add_command(command)

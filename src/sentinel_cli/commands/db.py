"""db backup|backups|schedule|restore|move|psql|target: an app's PostgreSQL database, backed up and put back."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from ..context import Context, confirm_or_abort, pass_context
from ..node_shell import docker_exec_argv
from ..output import table
from ..params import only_given
from .completion import app_argument


@click.group()
def db() -> None:
    """An app's PostgreSQL database: backups (pg_dump archives on the database's node, and off it with a target)
    and restores."""


def _size(size) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


@db.command()
@app_argument
@click.option("--id", "backup", metavar="ID", help="The backup's id (default: the time, 20261205t174500z).")
@click.option("--keep", type=click.IntRange(min=1), help="Then remove the oldest backups until this many are left.")
@pass_context
def backup(ctx: Context, name, backup, keep) -> None:
    """Back up NAME's database now, while NAME keeps serving; the archive is verified before it is kept."""
    extravars = {"app": name, **only_given({"backup": backup, "keep": keep})}
    result = ctx.run("db_backup.yml", extravars, f"Backing up {name}'s database")
    made = result.get("backup") or {}
    text = (
        f"{name}: backup {made.get('id')} ({_size(made.get('size', 0))}, {len(made.get('tables') or [])} tables, "
        f"{made.get('seconds')} s) at {result.get('path')}"
        if result.get("changed") or not backup
        else f"{name} has backup {made.get('id')} already."
    )
    if result.get("copied_to"):
        text += f"\ncopied to {result['copied_to']}"
    if result.get("pruned"):
        text += f"\nremoved the oldest: {', '.join(result['pruned'])}"
    ctx.out.emit(result, text)


@db.command()
@app_argument
@pass_context
def backups(ctx: Context, name) -> None:
    """NAME's database backups, oldest first (kept after a destroy, too)."""
    result = ctx.run("db_backups.yml", {"app": name}, f"Reading {name}'s backups")
    rows = [
        {
            "id": b["id"],
            "created": b["created"][:19],  # to the second
            "size": _size(b["size"]),
            "seconds": b["seconds"],
            "tables": ",".join(t.split(" ", 1)[-1] for t in b["tables"]) or "-",
        }
        for b in result.get("backups", [])
    ]
    columns = ["id", "created", "size", "seconds", "tables"]
    text = table(rows, columns) if rows else f"{name} has no backups (sentinel db backup {name})."
    if result.get("node"):
        text += f"\non node {result['node']}, in {result.get('directory')}"
    schedule = result.get("schedule")
    if schedule:
        text += f"\n{_schedule_line(name, schedule)}; {_last_scheduled(result.get('backups', []), schedule)}"
    ctx.out.emit(result, text)


def _schedule_line(name, schedule) -> str:
    return f"{name}: backed up {schedule['every']}, keeping {schedule['keep']} ({schedule['service']})"


def _last_scheduled(backups, schedule, now: datetime | None = None) -> str:
    """When the schedule last made a backup, and a warning when that is longer ago than two periods: a schedule
    that fails only says so in its service's log."""
    made = [b["created"] for b in backups if b.get("scheduled")]
    if not made:
        return "none made yet"
    age = ((now or datetime.now(UTC)) - datetime.fromisoformat(max(made))).total_seconds()
    said = f"the last one {_duration(age)} ago"
    if age > 2 * schedule["seconds"] + 60:
        said += f": LATE, see `docker service logs {schedule['service']}` on a manager"
    return said


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(seconds, 0):.0f} s"


@db.command()
@app_argument
@click.argument("every", required=False)
@click.option("--keep", type=click.IntRange(min=1), help="How many scheduled backups to keep (default: 7).")
@click.option("--off", is_flag=True, help="End the schedule; its backups stay.")
@pass_context
def schedule(ctx: Context, name, every, keep, off) -> None:
    """Back up NAME's database EVERY hour, day or period: hourly, daily (00:00 UTC), or a duration such as 6h.

    The cluster keeps the schedule (a service on the database's node), and the oldest scheduled
    backups beyond --keep are removed; backups made by hand are never removed by it.
    """
    if off == bool(every):
        raise click.UsageError("give how often (hourly, daily, 6h, ...) or --off")
    if off and keep is not None:
        raise click.UsageError("--keep goes with a schedule, not with --off")
    extravars = {"app": name, **({"state": "absent"} if off else {"every": every, **only_given({"keep": keep})})}
    result = ctx.run("db_schedule.yml", extravars, f"Scheduling {name}'s backups")
    scheduled = result.get("schedule")
    text = _schedule_line(name, scheduled) if scheduled else f"{name}: no scheduled backups"
    ctx.out.emit(result, text + ("" if result.get("changed") else " (as it was)"))


@db.command()
@app_argument
@click.argument("backup", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def remove(ctx: Context, name, backup, yes) -> None:
    """Remove NAME's backup ID (its archive and its record)."""
    confirm_or_abort(ctx, yes, f"Remove {name}'s backup {backup}?")
    extravars = {"app": name, "backup": backup, "state": "absent"}
    result = ctx.run("db_backup.yml", extravars, f"Removing {name}'s backup {backup}")
    ctx.out.emit(
        result, f"{name}: backup {backup} removed" if result.get("changed") else f"{name} has no backup {backup}."
    )


@db.command()
@app_argument
@click.option("--from", "backup", metavar="ID", help="The backup to restore (default: the newest).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def restore(ctx: Context, name, backup, yes) -> None:
    """Replace NAME's data with a backup's, with NAME in maintenance meanwhile.

    The backup is checked first, and a damaged one is refused with nothing changed. The restore is one
    transaction: one that fails keeps the current data. The traffic comes back either way.
    """
    confirm_or_abort(ctx, yes, f"Replace {name}'s data with backup {backup or '(the newest)'}?")
    result = ctx.run("db_restore.yml", {"app": name, **only_given({"backup": backup})}, f"Restoring {name}'s database")
    rows = ", ".join(f"{t.split(' ', 1)[-1]} {n}" for t, n in (result.get("rows") or {}).items()) or "no table"
    text = f"{name}: restored backup {(result.get('backup') or {}).get('id')} (rows: {rows})"
    if result.get("fetched_from"):
        text += f"\nfetched from {result['fetched_from']}"
    ctx.out.emit(result, text)


@db.command()
@app_argument
@click.option("--to", "node", metavar="NODE", required=True, help="The node to move to (hostname or node ID).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def move(ctx: Context, name, node, yes) -> None:
    """Move NAME's database, with its data, to another node; NAME does not answer meanwhile.

    NAME goes into maintenance and production stops; the database is backed up, the backup copied to NODE and
    restored there into a new volume; then production starts and the traffic comes back, and the old node's
    volume goes. The time without traffic is measured and shown. A move that fails leaves the database on its
    node with its data.
    """
    confirm_or_abort(ctx, yes, f"Move {name}'s database to {node}? {name} does not answer meanwhile.")
    result = ctx.run("db_move.yml", {"app": name, "to": node}, f"Moving {name}'s database to {node}")
    if not result.get("changed"):
        text = f"{name}'s database is on {result.get('to')} already."
    elif result.get("backup") is None:  # check mode
        text = f"{name}'s database would move from {result.get('from')} to {result.get('to')}."
    else:
        rows = ", ".join(f"{t.split(' ', 1)[-1]} {n}" for t, n in (result.get("rows") or {}).items()) or "no table"
        text = (
            f"{name}: database moved from {result.get('from')} to {result.get('to')} in "
            f"{result.get('downtime_seconds')} s without traffic (backup {result['backup'].get('id')}; rows: {rows})"
        )
        if result.get("old_volume_left"):
            text += f"\nThe old volume on {result.get('from')} is still there: {result['old_volume_left']}"
    ctx.out.emit(result, text)


def _key(variable: str) -> str:
    """A key from $VARIABLE (out of the shell's history and ps); never echoed."""
    if not os.environ.get(variable):
        raise click.UsageError(f"${variable} is not set or empty: export the target's keys first")
    return os.environ[variable]


@db.command()
@click.argument("bucket", required=False)
@click.option("--endpoint", metavar="URL", help="The store's https://HOST[:PORT] (leave it out for Amazon S3).")
@click.option("--region", help="The bucket's region (default: us-east-1).")
@click.option("--prefix", help="A folder in the bucket for this cluster's backups (default: sentinel).")
@click.option("--off", is_flag=True, help="Stop copying backups off their nodes; what the bucket has stays.")
@pass_context
def target(ctx: Context, bucket, endpoint, region, prefix, off) -> None:
    """Copy every database backup off its node, to BUCKET in S3-compatible object storage.

    The keys come from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY and are kept as a Docker secret, never shown.
    Every node copies its new backups there within seconds (scheduled ones too), and `db restore` fetches one
    back when the database's node lacks it. Without BUCKET: the target set now.
    """
    if off and (bucket or endpoint or region or prefix):
        raise click.UsageError("--off goes alone")
    if off:
        extravars = {"state": "absent"}
    elif bucket:
        given = only_given({"endpoint": endpoint, "region": region, "prefix": prefix})
        keys = {"access_key_id": _key("AWS_ACCESS_KEY_ID"), "secret_access_key": _key("AWS_SECRET_ACCESS_KEY")}
        extravars = {"bucket": bucket, **given, **keys}
    elif endpoint or region or prefix:
        raise click.UsageError("give the BUCKET with --endpoint, --region or --prefix")
    else:
        extravars = {}
    result = ctx.run("db_target.yml", extravars, "Setting the backup target" if extravars else "Reading the target")
    shown = result.get("target")
    if not shown:
        text = "No backup target: backups stay on their nodes (sentinel db target BUCKET --endpoint URL)."
    else:
        where = f" at {shown['endpoint']}" if shown.get("endpoint") else ""
        text = f"Backups are copied to {result.get('url')}{where}, from {shown['directory']} on every node."
    ctx.out.emit(result, text)


@db.command()
@app_argument
@click.option("--command", "-c", "sql", metavar="SQL", help="Run this SQL and print what psql prints, then exit.")
@pass_context
def psql(ctx: Context, name, sql) -> None:
    """Open psql in NAME's database as the app's user (a terminal on the database's node, over the
    inventory's connection); with -c, run one SQL command instead."""
    if sql is not None and not sql.strip():
        raise click.UsageError("-c needs the SQL to run")
    result = ctx.run("db_psql.yml", {"app": name, **only_given({"sql": sql})}, f"Finding {name}'s database")
    if sql is not None:
        ctx.out.emit(result, (result.get("output") or "").rstrip())
        return
    try:
        argv = docker_exec_argv(result["node"], result["container"], ["psql", "-U", name, "-d", name])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    os.execvp(argv[0], argv)


def register(cli: click.Group) -> None:
    cli.add_command(db)

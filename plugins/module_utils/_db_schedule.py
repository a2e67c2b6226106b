# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduled backups of an app's database: a small service of its own, NAME-db-backups, beside the database.

Swarm has no cron, and the cluster must keep its schedule when no controller is up. So the schedule is a
service that sleeps until each time comes, then does what _db_backup.Backups.take does: pg_dump to a
custom-format archive, pg_restore --list to verify it, and the same record (DIR/APP/ID.dump and ID.json).
It runs the database's own image (its pg_dump matches the server), on the database's node (the directory
of backups is there), reaches the database over the app's network with the app's pgpass secret, and keeps
the KEEP newest of its own backups (ids ``scheduled-...``): a backup made by hand is never pruned by it.

Times are multiples of the period since the epoch, in UTC: hourly on the hour, daily at 00:00.

Private to this collection. Pure: no engine, so every branch is unit-tested.
"""

from __future__ import annotations

import hashlib

from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import DB_PORT, PGPASS_TARGET
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import SCHEDULED_PREFIX
from ansible_collections.sentinel.paas.plugins.module_utils._duration import go_duration_seconds

NAMED_PERIODS = {"hourly": 3600, "daily": 86400}
MIN_SECONDS = 10  # a test's schedule; a real one is hourly or daily
TARGET = "/backups"
ROLE = "db-backups"  # its sentinel.role label
LABEL_EVERY = "sentinel.backups.every"
LABEL_KEEP = "sentinel.backups.keep"

# POSIX sh with the tools every PostgreSQL image has (coreutils or busybox). The record's fields and the
# table-of-contents parsing are _db_backup.Backups.take's: keep the two alike (a unit test reads the
# records FUNCTIONS writes with Backups.records). SCRIPT runs backup() at each time.
FUNCTIONS = r"""set -u
umask 077
export LC_ALL=C  # sort as Python does (by code point): the tables are compared with the archive's on restore
dir=%(target)s
log() { echo "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) $*"; }
fail() { log "backup $1 failed: $2"; rm -f "$dir/$1".*.partial; }
prune() {
  ls "$dir" | grep '^%(prefix)s.*\.json$' | sort -r | awk -v keep="$SENTINEL_KEEP" 'NR > keep' |
  while read -r record; do
    rm -f "$dir/$record" "$dir/${record%%.json}.dump" && log "removed ${record%%.json} (keeping $SENTINEL_KEEP)"
  done
}
backup() {
  id="%(prefix)s$(date -u +%%Y%%m%%dt%%H%%M%%Sz)"
  started=$(date +%%s)
  part="$dir/$id.dump.partial"
  pg_dump --format=custom --file="$part" || { fail "$id" pg_dump; return; }
  pg_restore --list "$part" > "$dir/$id.toc.partial" || { fail "$id" "pg_restore --list"; return; }
  tables=$(sed -n 's/^.* TABLE DATA \(.*\) [^ ]*$/\1/p' "$dir/$id.toc.partial" | sort |
           sed 's/[\\"]/\\&/g; s/.*/"&"/' | paste -sd, -)
  size=$(wc -c < "$part" | tr -d ' ')
  sha=$(sha256sum "$part" | cut -d' ' -f1)
  mv "$part" "$dir/$id.dump" || { fail "$id" "keeping the archive"; return; }
  rm -f "$dir/$id.toc.partial"
  seconds=$(( $(date +%%s) - started ))
  created="$(date -u +%%Y-%%m-%%dT%%H:%%M:%%S).000000+00:00"
  # Written whole or not at all: a record cut short would hide every backup of the app.
  if { printf '{"id": "%%s", "app": "%%s", "created": "%%s", ' "$id" "$PGDATABASE" "$created" &&
       printf '"size": %%s, "sha256": "%%s", "seconds": %%s, ' "$size" "$sha" "$seconds" &&
       printf '"tables": [%%s], "format": "pg_dump custom", "scheduled": true}\n' "$tables"
     } > "$dir/$id.json.partial" && mv "$dir/$id.json.partial" "$dir/$id.json"; then
    log "backup $id made ($size bytes in $seconds s)"
  else
    fail "$id" "writing its record"; rm -f "$dir/$id.dump"; return
  fi
  prune
}
""" % {"target": TARGET, "prefix": SCHEDULED_PREFIX}
SCRIPT = (
    FUNCTIONS
    + r"""rm -f "$dir"/%(prefix)s*.partial
trap 'exit 0' TERM  # as PID 1, sh would ignore the engine's stop signal and wait out the grace period
log "backing up every $SENTINEL_EVERY s, keeping $SENTINEL_KEEP"
while :; do
  now=$(date +%%s)
  sleep $(( SENTINEL_EVERY - now %% SENTINEL_EVERY )) & wait $!
  backup
done
"""
    % {"prefix": SCHEDULED_PREFIX}
)
SCRIPT_HASH = hashlib.sha256(SCRIPT.encode()).hexdigest()[:16]


def service_name(app: str) -> str:
    # No app's service ends in -backups (its roles are prod, canary, baseline and db).
    return f"{app}-db-backups"


def is_schedule_of(service: dict | None, app: str) -> bool:
    """Whether ``service`` is the app's schedule, made by Sentinel (not another service of that name)."""
    labels = (service or {}).get("Spec", {}).get("Labels") or {}
    return labels.get(_naming.LABEL_APP) == app and labels.get(_naming.LABEL_ROLE) == ROLE


def period_seconds(every: str) -> int | None:
    """Seconds between backups for ``hourly``, ``daily`` or a duration (``6h``, ``30m``); None if invalid."""
    if every in NAMED_PERIODS:
        return NAMED_PERIODS[every]
    seconds = go_duration_seconds(every)
    return int(seconds) if seconds is not None and seconds == int(seconds) else None


def request_errors(every: str | None, keep: int) -> list[str]:
    """Everything wrong with a schedule, before the engine is contacted."""
    errors = []
    seconds = period_seconds(every or "")
    if seconds is None:
        errors.append(f"invalid schedule {every!r}: hourly, daily, or a duration in whole seconds such as 6h or 30m")
    elif seconds < MIN_SECONDS:
        errors.append(f"invalid schedule {every!r}: at most one backup every {MIN_SECONDS}s")
    if keep < 1:
        errors.append(f"invalid keep {keep}: keep at least 1")
    return errors


def desired_view(db_service: dict, every: str, keep: int, directory: str) -> dict:
    """What the schedule's service should be, in the terms view() reads back."""
    db_spec = db_service["Spec"]["TaskTemplate"]
    return {
        "every": every,
        "seconds": period_seconds(every),
        "keep": keep,
        "image": db_spec["ContainerSpec"]["Image"],
        "directory": directory,
        "constraints": sorted((db_spec.get("Placement") or {}).get("Constraints") or []),
        "script": SCRIPT_HASH,
    }


def view(service: dict | None) -> dict | None:
    """The schedule a service carries out, in desired_view()'s terms; None without one."""
    if service is None:
        return None
    spec = service["Spec"]
    labels, template = spec.get("Labels") or {}, spec["TaskTemplate"]
    env = dict(pair.split("=", 1) for pair in template["ContainerSpec"].get("Env") or [])
    mounts = template["ContainerSpec"].get("Mounts") or [{}]
    return {
        "every": labels.get(LABEL_EVERY),
        "seconds": int(env.get("SENTINEL_EVERY", 0)),
        "keep": int(env.get("SENTINEL_KEEP", 0)),
        "image": template["ContainerSpec"]["Image"],
        "directory": mounts[0].get("Source"),
        "constraints": sorted((template.get("Placement") or {}).get("Constraints") or []),
        "script": labels.get(_naming.LABEL_CONFIG_HASH),
    }


def shown(app: str, view: dict | None) -> dict | None:
    """A schedule as modules return it: how often, how many are kept, where, and which service makes them."""
    if view is None:
        return None
    return {**{key: view[key] for key in ("every", "seconds", "keep", "directory")}, "service": service_name(app)}


def service_spec(app: str, desired: dict, network_id: str, pgpass_secret_id: str) -> dict:
    """Keyword arguments of APIClient.create_service (and update_service) for the schedule's service."""
    container = {
        "Image": desired["image"],
        "Command": ["sh", "-c", SCRIPT],
        "Env": [
            f"SENTINEL_EVERY={desired['seconds']}",
            f"SENTINEL_KEEP={desired['keep']}",
            f"PGHOST={_naming.service_name(app, 'db')}",
            f"PGPORT={DB_PORT}",
            f"PGUSER={app}",
            f"PGDATABASE={app}",
            f"PGPASSFILE=/run/secrets/{PGPASS_TARGET}",
        ],
        "Mounts": [{"Type": "bind", "Source": desired["directory"], "Target": TARGET}],
        "Secrets": [
            {
                "SecretID": pgpass_secret_id,
                "SecretName": _naming.db_pgpass_secret(app),
                "File": {"Name": PGPASS_TARGET, "UID": "0", "GID": "0", "Mode": 0o400},
            }
        ],
    }
    labels = {
        **_naming.app_labels(app, ROLE),
        LABEL_EVERY: desired["every"],
        LABEL_KEEP: str(desired["keep"]),
        _naming.LABEL_CONFIG_HASH: desired["script"],
    }
    return {
        "name": service_name(app),
        "labels": labels,
        "task_template": {
            "ContainerSpec": container,
            "Placement": {"Constraints": desired["constraints"]},
            "RestartPolicy": {"Condition": "any", "Delay": 5 * 10**9},
            "Networks": [{"Target": network_id}],
        },
        "mode": {"Replicated": {"Replicas": 1}},
    }

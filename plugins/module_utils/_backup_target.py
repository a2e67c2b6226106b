# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup target: an S3-compatible bucket that every node copies its database backups to, off the node.

One platform service, ``sentinel-backup-ship``, runs on every node (global mode): rclone, with the target's
credentials in a Docker secret (an rclone config file, mounted at /run/secrets/rclone.conf; never in a label, the
environment or a diff). It watches the node's directory of backups (_db_backup's DIR, mounted at /backups) and
copies each new backup to ``BUCKET/PREFIX/APP/ID.dump`` and ``ID.json``, so scheduled backups leave the node
without a controller. It never deletes from the bucket: a backup removed on its node stays there, until the
bucket's own lifecycle rule (if any) expires it.

The database modules run rclone in that task (docker exec) on the database's node: db_backup copies the backup it
made at once, db_backup_fetch fetches one back before a restore (a node that replaced a lost one has none).

Why rclone: a tool made for this (multipart uploads, retries, checksums), for every S3-compatible store, with an
official image (rclone/rclone). Its config file is the secret, so the credentials never reach a command line.

Private to this collection. Pure but for the calls taking a ``swarm``.
"""

from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import urlsplit

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

SHIP = _naming.PLATFORM_SERVICES["backup_ship"]
SECRET_PREFIX = "sentinel-backup-target-"
LABEL_SECRET = "sentinel.backup-target"  # marks the target's secrets (their data: rclone's config)
LABEL_PREFIX = "sentinel.backup-target."  # on the ship service: endpoint, bucket, region, prefix (none secret)
SHOWN = ("endpoint", "bucket", "region", "prefix", "image", "directory")  # the target as modules return it
CONFIG_FILE = "/run/secrets/rclone.conf"
MOUNT = "/backups"
REMOTE = "target"
SHIP_SECONDS = 10  # how often a node looks for new backups; a look that finds none costs no request
DEFAULT_REGION = "us-east-1"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
# Printable, no space, no quote: rclone's config parser would strip quotes, and print the line (the key) when one
# is left open.
_KEY = re.compile(r"[!#-&(-_a-~]{1,256}")

# The ship loop and the modules' calls take turns (flock): a backup copied at once is not copied twice at the
# same time. Sizes are compared, not times (a backup never changes once made): no request per object.
LOCK = "/tmp/sentinel-ship.lock"
_COPY_FLAGS = "--size-only"

# Every node: each SHIP_SECONDS, when the listing of the directory changed since the last copy that worked (a new
# backup, a renamed record, a file copied in with its old time), copies what the bucket lacks. A new task copies
# once at its start (rclone skips what the bucket has). Files being written (*.partial) wait for the next look.
SCRIPT = r"""set -u
umask 077
trap 'exit 0' TERM  # as PID 1, sh would ignore the engine's stop signal and wait out the grace period
log() { echo "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) $*"; }
log "copying new backups to %(remote)s:$SENTINEL_TARGET_PATH every $SENTINEL_EVERY s"
copied=none
while :; do
  look=$(ls -lnR %(mount)s | grep -v '\.partial$' | cksum)
  if [ "$look" != "$copied" ]; then
    if flock %(lock)s rclone copy %(mount)s "%(remote)s:$SENTINEL_TARGET_PATH" --config %(config)s %(flags)s \
         --exclude '*.partial' --log-level INFO --stats 0; then
      copied=$look
    else
      log "copying failed; trying again in $SENTINEL_EVERY s"
    fi
  fi
  sleep "$SENTINEL_EVERY" & wait $!
done
""" % {"remote": REMOTE, "mount": MOUNT, "config": CONFIG_FILE, "lock": LOCK, "flags": _COPY_FLAGS}
SCRIPT_HASH = hashlib.sha256(f"{SCRIPT}{SHIP_SECONDS}".encode()).hexdigest()[:16]


class TargetError(Exception):
    """The target did not take or give a backup; the message says why (never a credential)."""


def path(view: dict) -> str:
    """BUCKET or BUCKET/PREFIX: where the apps' directories are in the target."""
    return "/".join(part for part in (view["bucket"], view["prefix"]) if part)


def url(view: dict | None) -> str | None:
    """The target as people write it: s3://BUCKET/PREFIX."""
    return f"s3://{path(view)}" if view else None


def request_errors(params: dict) -> list[str]:
    """Everything wrong with a target, before the engine is contacted. Never repeats a credential."""
    errors = []
    if not _BUCKET.fullmatch(params.get("bucket") or "") or ".." in params["bucket"]:
        errors.append(f"invalid bucket {params.get('bucket')!r}: 3-63 lowercase letters, digits, '.' and '-'")
    endpoint = params.get("endpoint")
    if endpoint:
        try:
            parts = urlsplit(endpoint)
            valid = parts.scheme in ("http", "https") and parts.hostname and not parts.username
            valid = valid and parts.path in ("", "/") and not parts.query and not parts.fragment
        except ValueError:
            valid = False
        if not valid or any(c.isspace() for c in endpoint):
            errors.append(f"invalid endpoint {endpoint!r}: give the store's http(s)://HOST[:PORT], nothing more")
    if not _REGION.fullmatch(params.get("region") or ""):
        errors.append(f"invalid region {params.get('region')!r}: lowercase letters, digits and '-'")
    prefix = params.get("prefix") or ""
    if prefix and (not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/")):
        errors.append(f"invalid prefix {prefix!r}: folders of letters, digits, '.', '_' and '-', joined by '/'")
    for key in ("access_key_id", "secret_access_key"):
        if not _KEY.fullmatch(params.get(key) or ""):
            errors.append(f"{key} is missing or has spaces or control characters")
    if not (params.get("image") or "").strip():
        errors.append("image must not be empty")
    if not os.path.isabs(params.get("directory") or ""):
        errors.append(f"invalid directory {params.get('directory')!r}: give an absolute path")
    return errors


def config_text(params: dict) -> str:
    """rclone's config file: the secret. No endpoint means Amazon S3 itself."""
    lines = [
        f"[{REMOTE}]",
        "type = s3",
        f"provider = {'Other' if params.get('endpoint') else 'AWS'}",
        "env_auth = false",
        f"access_key_id = {params['access_key_id']}",
        f"secret_access_key = {params['secret_access_key']}",
        f"region = {params['region']}",
        # Keys that may write a bucket need not be allowed to create one.
        "no_check_bucket = true",
    ]
    if params.get("endpoint"):
        lines.append(f"endpoint = {params['endpoint'].rstrip('/')}")
    return "\n".join(lines) + "\n"


def desired_view(params: dict) -> dict:
    view = {key: params.get(key) or "" for key in SHOWN}
    view["endpoint"] = view["endpoint"].rstrip("/")
    view["image"] = view["image"].strip()
    view["directory"] = os.path.normpath(view["directory"]) if view["directory"] else ""
    return {**view, "script": SCRIPT_HASH}


def shown(view: dict | None) -> dict | None:
    """The target as modules return it (without what only compares it: its program's hash)."""
    return {key: view[key] for key in SHOWN} if view else None


def view(service: dict | None) -> dict | None:
    """The target the ship service copies to, in desired_view()'s terms; None without one."""
    if service is None:
        return None
    labels = service["Spec"].get("Labels") or {}
    container = service["Spec"]["TaskTemplate"]["ContainerSpec"]
    mounts = container.get("Mounts") or [{}]
    found = {key: labels.get(LABEL_PREFIX + key, "") for key in ("endpoint", "bucket", "region", "prefix")}
    found.update(image=container.get("Image", ""), directory=mounts[0].get("Source", ""))
    return {**found, "script": labels.get(_naming.LABEL_CONFIG_HASH)}


def secret_in_use(service: dict | None, secrets: list) -> dict | None:
    """Of the target's ``secrets``, the one the ship service mounts (None without the service)."""
    container = (service or {}).get("Spec", {}).get("TaskTemplate", {}).get("ContainerSpec", {})
    used = {ref["SecretName"] for ref in container.get("Secrets") or []}
    return next((s for s in secrets if s["Spec"]["Name"] in used), None)


def secret_reference(secret: dict) -> dict:
    return {
        "SecretID": secret["ID"],
        "SecretName": secret["Spec"]["Name"],
        "File": {"Name": CONFIG_FILE.rsplit("/", 1)[1], "UID": "0", "GID": "0", "Mode": 0o400},
    }


def service_spec(desired: dict, secret: dict) -> dict:
    """Keyword arguments of APIClient.create_service (and update_service) for the ship service."""
    target = {LABEL_PREFIX + key: desired[key] for key in ("endpoint", "bucket", "region", "prefix")}
    labels = {**_naming.PLATFORM_LABELS, **target, _naming.LABEL_CONFIG_HASH: SCRIPT_HASH}
    return {
        "name": SHIP,
        "labels": labels,
        "task_template": {
            "ContainerSpec": {
                "Image": desired["image"],
                # In place of the image's entrypoint (rclone/rclone's is rclone itself).
                "Command": ["sh", "-c", SCRIPT],
                "Env": [f"SENTINEL_TARGET_PATH={path(desired)}", f"SENTINEL_EVERY={SHIP_SECONDS}"],
                # Read and written: db_backup_fetch fetches backups into it through this task.
                "Mounts": [{"Type": "bind", "Source": desired["directory"], "Target": MOUNT}],
                "Secrets": [secret_reference(secret)],
            },
            "RestartPolicy": {"Condition": "any", "Delay": 5 * 10**9},
        },
        "mode": {"Global": {}},
    }


# -- in the ship task on this node (docker exec) ------------------------------------------------------
def ship_container(swarm, directory: str) -> str | None:
    """The ship task's container on this node, when it copies ``directory``; None when no target is set (or its
    task does not run here, or it copies another directory)."""
    for container in swarm.local_task_containers(SHIP):
        mounts = swarm.api.inspect_container(container).get("Mounts") or []
        if any(m.get("Destination") == MOUNT and m.get("Source") == os.path.normpath(directory) for m in mounts):
            return container
    return None


def _rclone(swarm, container: str, *args: str, what: str) -> str:
    """rclone in the ship task, new files readable by root alone: its stdout, or TargetError saying ``what``."""
    argv = ["sh", "-c", f'umask 077 && exec flock {LOCK} rclone "$@"', "rclone", *args, "--config", CONFIG_FILE]
    code, out, err = swarm.exec_in(container, argv, timeout=3600)
    if code != 0:
        raise TargetError(f"{what}: rclone exited {code}: {(err or out).strip()[-500:]}")
    return out


def target_path(swarm, container: str) -> str:
    """BUCKET/PREFIX as the ship task was given it."""
    env = swarm.api.inspect_container(container)["Config"].get("Env") or []
    return next((e.split("=", 1)[1] for e in env if e.startswith("SENTINEL_TARGET_PATH=")), "")


def _copy_one(swarm, container: str, source: str, target: str, backup_id: str, what: str) -> None:
    """One backup, its archive and its record, from ``source`` to ``target`` (the node's folder or the target's)."""
    only = ["--include", f"/{backup_id}.dump", "--include", f"/{backup_id}.json"]
    _rclone(swarm, container, "copy", source, target, _COPY_FLAGS, *only, what=what)


def copy_off(swarm, container: str, app: str, backup_id: str) -> str:
    """Copy one backup to the target now: where it went."""
    where = f"{target_path(swarm, container)}/{app}"
    _copy_one(swarm, container, f"{MOUNT}/{app}", f"{REMOTE}:{where}", backup_id,
              what=f"backup {backup_id} was not copied to s3://{where}")  # fmt: skip
    return f"s3://{where}/{backup_id}.dump"


def listed(swarm, container: str, app: str) -> list[str]:
    """The app's backups in the target (an archive and its record), oldest first: by the time their record was
    written, to the second (the bucket keeps the file's time)."""
    where = f"{target_path(swarm, container)}/{app}"
    out = _rclone(swarm, container, "lsf", f"{REMOTE}:{where}", "--files-only", "--format", "tp",
                  what=f"s3://{where} could not be listed")  # fmt: skip
    written = {}  # file name: when it was written
    for line in out.splitlines():
        when, _sep, name = line.partition(";")
        written[name] = when
    records = [(when, name[: -len(".json")]) for name, when in written.items() if name.endswith(".json")]
    return [backup_id for _when, backup_id in sorted(records) if f"{backup_id}.dump" in written]


def fetch(swarm, container: str, app: str, backup_id: str) -> str:
    """Copy one backup from the target into the node's directory: where it came from."""
    where = f"{target_path(swarm, container)}/{app}"
    _copy_one(swarm, container, f"{REMOTE}:{where}", f"{MOUNT}/{app}", backup_id,
              what=f"backup {backup_id} was not fetched from s3://{where}")  # fmt: skip
    return f"s3://{where}/{backup_id}.dump"

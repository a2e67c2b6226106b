# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app's services as Sentinel wants them: validation, desired views, normalising, comparing.

Pure functions only (no Docker calls), so every idempotence rule is unit-tested.

A *view* is the small, normalised, JSON-friendly dict of the service fields swarm_app manages.
The desired view is built from module parameters, the current view from a service's Spec as the
engine returns it; the two compare field by field, and the views double as ``diff`` output.
Nothing secret is in a view: secrets appear by name only.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re

from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._diff import changed_keys
from ansible_collections.sentinel.paas.plugins.module_utils._duration import go_duration_seconds

DB_PORT = 5432
DB_DATA = "/var/lib/postgresql/data"
# A subdirectory, as the official image advises: a volume's root may hold lost+found.
DB_PGDATA = f"{DB_DATA}/pgdata"
DB_PASSWORD_TARGET = "db-password"
PGPASS_TARGET = "pgpass"
# swarm_app's secret_env: each KEY is the file SECRETS_DIR/KEY, and the app's environment says where.
SECRETS_DIR = "/run/secrets"
SECRET_ENV_MODE = 0o444  # as Docker's default: any user of the image may read its own secrets
SECRET_ENV_MAX_BYTES = 500 * 1024  # the engine takes a secret's data below this
DB_STOP_GRACE = 30.0  # Postgres needs time for a clean shutdown checkpoint

# Labels written at apply time from the change itself, never compared: the number of the release a
# service runs (production's releases are recorded in _release_record), and the labels that held a
# short history before the record did, which the next write of an older service drops.
RELEASE_LABELS = (_naming.LABEL_RELEASE, "sentinel.release.image", "sentinel.release.time", "sentinel.history")
RESERVED_LABEL_PREFIXES = ("sentinel.", "traefik.")
# Environment the module sets itself when the app has a database.
DB_ENV_KEYS = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSFILE")

# Fields of the task (container) spec: a change to any of them starts new tasks and a new release.
TASK_FIELDS = ("image", "env", "healthcheck", "limits", "secrets", "mounts", "stop_grace_period", "networks")
# Changes that start new tasks, worth waiting for; a forced restart or a new placement is no new release.
RESTART_FIELDS = (*TASK_FIELDS, "replicas", "force_update", "constraints")

UPDATE_DEFAULTS = {
    "parallelism": 1,
    "delay": 0,
    "order": "start-first",
    "failure_action": "rollback",
    "monitor": 10,
}
UPDATE_ORDERS = ("start-first", "stop-first")
FAILURE_ACTIONS = ("rollback", "pause", "continue")

# Docker's reference grammar (distribution/reference), without the rarely used IPv6 hosts.
# The first part names a registry only with a dot, a port or as localhost (else it is a path).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY = rf"(?:localhost(?::[0-9]+)?|{_LABEL}(?:\.{_LABEL})+(?::[0-9]+)?|{_LABEL}:[0-9]+)"
IMAGE_PATTERN = re.compile(
    rf"(?:{_REGISTRY}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@sha256:[a-f0-9]{{64}})?",
    re.ASCII,  # \w is Unicode otherwise; references are ASCII
)
_MEMORY_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?", re.IGNORECASE | re.ASCII)
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An absolute URL path (RFC 3986 pchars); it goes into a Traefik label, so nothing else may.
_HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
# How often Traefik asks each task's health path, and how long an answer may take: a dead task is
# out of the load balancer within about three seconds, before most requests pay the dial timeout.
LB_HEALTH_CHECK = {"interval": "2s", "timeout": "1s"}
NANO = 1_000_000_000
DEFAULT_MAX_REPLICAS = 100


class AppSpecError(ValueError):
    """Input that cannot describe an app; raised before the cluster is touched."""


# -- parsing ------------------------------------------------------------------------------
def parse_duration(value, what: str) -> float:
    """Seconds from ``10``, ``"10"``, ``"1m30s"`` or ``"500ms"`` (Docker's duration syntax)."""
    if isinstance(value, bool):
        raise AppSpecError(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip()
        seconds = float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text, re.ASCII) else go_duration_seconds(text)
        if seconds is None:
            raise AppSpecError(f"{what}: {value!r} is not a duration such as 10s, 1m30s or 500ms")
    if seconds < 0:
        raise AppSpecError(f"{what}: {value!r} is negative")
    return round(seconds, 6)


def parse_memory(value, what: str) -> int:
    """Bytes from ``268435456``, ``"256M"``, ``"1g"`` or ``"512MiB"`` (binary units, as Docker)."""
    match = _MEMORY_PATTERN.fullmatch(str(value).strip())
    if isinstance(value, bool) or not match:
        raise AppSpecError(f"{what}: {value!r} is not a size such as 256M or 1G")
    size = int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()])
    if size <= 0:
        raise AppSpecError(f"{what}: {value!r} must be more than zero")
    return size


def nanos(seconds: float) -> int:
    return int(round(seconds * NANO))


def seconds(ns) -> float:
    return round((ns or 0) / NANO, 6)


def strip_digest(image: str) -> str:
    """``repo:tag@sha256:...`` -> ``repo:tag``: the engine pins digests; users name tags."""
    return image.split("@", 1)[0] if image and "@" in image.split("/")[-1] else image


def pinned(image: str | None) -> bool:
    """Whether ``image`` names one build by its digest (``repo:tag@sha256:...``)."""
    return bool(image) and strip_digest(image) != image


def compare_digests(desired: dict, current: dict | None, image: str, running: str | None) -> tuple[dict, dict | None]:
    """The views to compare when ``image`` is pinned: a digest names one build, so a running
    service with the same tag but another digest differs (the canary promote of a rebuilt tag).
    A tag alone compares by tag: the digest the engine pinned at deploy time is not the user's."""
    if not pinned(image) or current is None:
        return desired, current
    return dict(desired, image=image), dict(current, image=running)


# -- validation ---------------------------------------------------------------------------
def validate(params: dict) -> None:
    """Raise AppSpecError for anything that cannot describe an app (no cluster access).

    Omitted options (None) are fine here: they keep the service's current values.
    """
    name_error = _naming.app_name_error(params["name"])
    if name_error:
        raise AppSpecError(name_error)
    if params["state"] == "absent":
        return
    for key in ("image", "postgres_image"):
        if params.get(key) is not None and not IMAGE_PATTERN.fullmatch(params[key]):
            raise AppSpecError(f"invalid image reference {params[key]!r}")
    if params.get("replicas") is not None and params["replicas"] < 0:
        raise AppSpecError(f"replicas must be 0 or more, got {params['replicas']}")
    limit = params.get("max_replicas") or DEFAULT_MAX_REPLICAS
    if params.get("replicas") is not None and params["replicas"] > limit:
        raise AppSpecError(f"replicas {params['replicas']} is more than the limit of {limit} (max_replicas)")
    if params.get("releases_kept") is not None and params["releases_kept"] < 1:
        raise AppSpecError(f"releases_kept must be at least 1, got {params['releases_kept']}")
    if params.get("secret_env_release") is not None and params.get("role", "prod") != "prod":
        raise AppSpecError("secret_env_release is for production (role=prod): a release is production's")
    if params.get("port") is not None and not 1 <= params["port"] <= 65535:
        raise AppSpecError(f"port must be between 1 and 65535, got {params['port']}")
    health_path = params.get("health_path")
    if health_path and not _HEALTH_PATH.fullmatch(health_path):
        raise AppSpecError(f'invalid health_path {health_path!r}: give a URL path such as /healthz ("" turns it off)')
    for key in params.get("env") or {}:
        if not _ENV_KEY.fullmatch(str(key)):
            raise AppSpecError(f"invalid environment variable name {key!r}")
        if params.get("postgres") and key in DB_ENV_KEYS:
            raise AppSpecError(f"env {key} is set by the module when postgres is true; remove it from env")
    _validate_secret_env(params)
    for key in params.get("labels") or {}:
        if str(key).startswith(RESERVED_LABEL_PREFIXES):
            raise AppSpecError(
                f"label {key!r} uses a reserved prefix ({', '.join(RESERVED_LABEL_PREFIXES)}): "
                "those labels are managed by Sentinel's modules"
            )
    # The parsers raise on bad values.
    update_settings(params)
    healthcheck_view(params.get("healthcheck"))
    limits_view(params.get("limits"))
    if params.get("stop_grace_period") is not None:
        parse_duration(params["stop_grace_period"], "stop_grace_period")


def _validate_secret_env(params: dict) -> None:
    """Names only in the messages: the values are secret."""
    env = params.get("env") or {}
    for key, value in (params.get("secret_env") or {}).items():
        key = str(key)
        if value is None and params.get("secret_env_merge"):
            continue  # the key goes
        if not _ENV_KEY.fullmatch(key) or key == PGPASS_TARGET:
            raise AppSpecError(f"invalid secret_env name {key!r}")
        if len(_naming.secret_env_name(params["name"], key, 9999)) > _naming.SECRET_NAME_MAX:
            raise AppSpecError(
                f"secret_env name {key!r} is too long for app {params['name']}: its Docker secret's name would "
                f"pass the engine's {_naming.SECRET_NAME_MAX} characters"
            )
        if f"{key}_FILE" in env:
            raise AppSpecError(f"env {key}_FILE is set by the module for secret_env {key}; remove it from env")
        if not isinstance(value, str) or not 0 < len(value.encode()) < SECRET_ENV_MAX_BYTES:
            raise AppSpecError(
                f"secret_env {key} must be a text of 1 byte and under {SECRET_ENV_MAX_BYTES // 1024} KiB"
            )


# -- omitted options keep what the service has ----------------------------------------------
# What an omitted option means for a service that does not exist yet: the one place of these
# defaults (swarm_app's DOCUMENTATION says "On creation ..." for each, checked by a unit test).
DEFAULT_POSTGRES_IMAGE = "postgres:15"
CREATE_DEFAULTS = {
    "replicas": 1,
    "env": {},
    "port": 8000,
    "health_path": "",
    "healthcheck": None,
    "limits": None,
    "labels": {},
    "pgpass_uid": "0",
    "update": None,
    "stop_grace_period": 10,
    # {KEY: secret name}: swarm_app resolves secret_env (values) to the secrets that hold them.
    "secret_env_refs": {},
}
# A new canary is production with another image: it starts from production's other settings.
NOT_INHERITED_BY_CANARY = ("image", "replicas")


def user_env(env: dict, has_db: bool, secret_keys=()) -> dict:
    """The environment the user set: without the variables the module adds for the database and
    for the secrets (KEY_FILE)."""
    added = set(secret_env_file_vars(secret_keys)) | (set(DB_ENV_KEYS) if has_db else set())
    return {k: v for k, v in env.items() if k not in added}


def secret_env_file_vars(keys) -> dict:
    """What tells the app where each secret is: KEY_FILE, the convention of the official images."""
    return {f"{key}_FILE": f"{SECRETS_DIR}/{key}" for key in keys}


def secret_env_refs(secrets: list[dict], app: str) -> dict:
    """{KEY: secret name} of the secret_env secrets among a view's ``secrets``."""
    refs = {}
    for secret in secrets:
        key, name = secret["target"] or "", secret["name"]
        prefix = _naming.secret_env_prefix(app, key)
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            refs[key] = name
    return refs


def port_label(app: str, role: str) -> str:
    """The label that keeps the container port of NAME-ROLE (Traefik's server port)."""
    return f"traefik.http.services.{_naming.service_name(app, role)}.loadbalancer.server.port"


def health_check_label(app: str, role: str, field: str) -> str:
    """A label of Traefik's active health check of NAME-ROLE's tasks (field: path, interval, timeout)."""
    return f"traefik.http.services.{_naming.service_name(app, role)}.loadbalancer.healthcheck.{field}"


def port_of(labels: dict, app: str, role: str) -> int | None:
    """The container port NAME-ROLE's labels name, None without a valid one."""
    value = str(labels.get(port_label(app, role), ""))
    return int(value) if value.isdigit() else None


def params_of_view(view: dict, app: str, role: str) -> dict:
    """Module options that would produce ``view`` (a current service of ``role``)."""
    pgpass = [s for s in view["secrets"] if s["name"] == _naming.db_pgpass_secret(app)]
    labels = owned_labels(view["labels"], app)
    refs = secret_env_refs(view["secrets"], app)
    return {
        "image": view["image"],
        "replicas": view["replicas"],
        "env": user_env(view["env"], has_db=bool(pgpass), secret_keys=refs),
        "secret_env_refs": refs,
        "port": port_of(labels, app, role),
        "health_path": labels.get(health_check_label(app, role, "path"), ""),
        "healthcheck": view["healthcheck"],
        "limits": view["limits"] or None,
        "labels": {k: v for k, v in labels.items() if not k.startswith(RESERVED_LABEL_PREFIXES)},
        "pgpass_uid": pgpass[0]["uid"] if pgpass else None,
        "update": view["update"],
        "stop_grace_period": view["stop_grace_period"],
    }


def effective_params(params: dict, current: dict | None, prod: dict | None = None) -> dict:
    """``params`` with omitted options (None) filled from the current service, else (for a new
    canary) from production, else from CREATE_DEFAULTS. ``current``/``prod`` are views."""
    app, role = params["name"], params["role"]
    if current is not None:
        known = params_of_view(current, app, role)
    elif role in _naming.SIDE_ROLES and prod is not None:
        known = {k: v for k, v in params_of_view(prod, app, "prod").items() if k not in NOT_INHERITED_BY_CANARY}
    else:
        known = {}
    effective = dict(params)
    for key in ("image", *CREATE_DEFAULTS):
        if effective.get(key) is None:
            value = known.get(key)
            effective[key] = value if value is not None else CREATE_DEFAULTS.get(key)
    # Per setting: the given one, else the current one (update_settings fills UPDATE_DEFAULTS).
    given_update = {k: v for k, v in (params.get("update") or {}).items() if v is not None}
    effective["update"] = {**(known.get("update") or {}), **given_update} or CREATE_DEFAULTS["update"]
    return effective


# -- desired views ------------------------------------------------------------------------
def update_settings(params: dict) -> dict:
    update = dict(UPDATE_DEFAULTS)
    update.update({k: v for k, v in (params.get("update") or {}).items() if v is not None})
    if update["order"] not in UPDATE_ORDERS:
        raise AppSpecError(f"update.order must be one of {', '.join(UPDATE_ORDERS)}, got {update['order']!r}")
    if update["failure_action"] not in FAILURE_ACTIONS:
        raise AppSpecError(
            f"update.failure_action must be one of {', '.join(FAILURE_ACTIONS)}, got {update['failure_action']!r}"
        )
    if int(update["parallelism"]) < 0:
        raise AppSpecError("update.parallelism must be 0 (all at once) or more")
    return {
        "parallelism": int(update["parallelism"]),
        "delay": parse_duration(update["delay"], "update.delay"),
        "order": update["order"],
        "failure_action": update["failure_action"],
        "monitor": parse_duration(update["monitor"], "update.monitor"),
    }


def rollback_settings(update: dict) -> dict:
    # A rollback that fails too should stop and wait for a human, not loop.
    return dict(update, failure_action="pause")


def healthcheck_view(healthcheck: dict | None) -> dict | None:
    if not healthcheck:
        return None
    test = healthcheck.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if not test or not all(isinstance(t, str) for t in test):
        raise AppSpecError("healthcheck.test must be a command string or a non-empty list of strings")
    if test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        test = ["CMD", *test]
    view = {"test": list(test)}
    for key in ("interval", "timeout", "start_period"):
        if healthcheck.get(key) is not None:
            view[key] = parse_duration(healthcheck[key], f"healthcheck.{key}")
    if healthcheck.get("retries") is not None:
        if int(healthcheck["retries"]) < 0:
            raise AppSpecError("healthcheck.retries must be 0 or more")
        view["retries"] = int(healthcheck["retries"])
    return view


def limits_view(limits: dict | None) -> dict:
    view = {}
    limits = limits or {}
    if limits.get("cpus") is not None:
        cpus = float(limits["cpus"])
        if cpus <= 0:
            raise AppSpecError(f"limits.cpus must be more than zero, got {limits['cpus']}")
        view["cpus"] = cpus
    if limits.get("memory") is not None:
        view["memory"] = parse_memory(limits["memory"], "limits.memory")
    return view


def service_labels(app: str, role: str, port: int, user_labels: dict | None, health_path: str = "") -> dict:
    """The labels swarm_app owns on NAME-prod / NAME-canary (release labels are added at apply)."""
    labels = {str(k): str(v) for k, v in (user_labels or {}).items()}
    labels.update(_naming.app_labels(app, role))
    labels.update(
        {
            "traefik.enable": "true",
            "traefik.swarm.network": _naming.EDGE_NETWORK,
            port_label(app, role): str(port),
        }
    )
    if health_path:
        labels[health_check_label(app, role, "path")] = health_path
        labels.update({health_check_label(app, role, k): v for k, v in LB_HEALTH_CHECK.items()})
    return labels


def build_view(params: dict, with_db: bool) -> dict:
    """The desired view of NAME-prod or NAME-canary; ``with_db`` wires the app's database."""
    app, role = params["name"], params["role"]
    env = {str(k): str(v) for k, v in (params.get("env") or {}).items()}
    secrets = []
    if with_db:
        env.update(
            PGHOST=_naming.service_name(app, "db"),
            PGPORT=str(DB_PORT),
            PGUSER=app,
            PGDATABASE=app,
            PGPASSFILE=f"/run/secrets/{PGPASS_TARGET}",
        )
        # libpq ignores a pgpass file that group or others can read: 0400, owned by the app's user.
        uid = str(params.get("pgpass_uid") or "0")
        secrets.append({"name": _naming.db_pgpass_secret(app), "target": PGPASS_TARGET, "uid": uid, "mode": 0o400})
    refs = params.get("secret_env_refs") or {}
    env.update(secret_env_file_vars(refs))
    secrets += [{"name": name, "target": key, "uid": "0", "mode": SECRET_ENV_MODE} for key, name in refs.items()]
    update = update_settings(params)
    return {
        "image": strip_digest(params["image"]),
        "replicas": int(params["replicas"]),
        "env": env,
        "labels": service_labels(app, role, params["port"], params.get("labels"), params.get("health_path")),
        "networks": sorted([_naming.app_network(app), _naming.EDGE_NETWORK]),
        "healthcheck": healthcheck_view(params.get("healthcheck")),
        "limits": limits_view(params.get("limits")),
        "secrets": sorted(secrets, key=lambda s: s["name"]),  # as current_view lists them
        "mounts": [],
        "stop_grace_period": parse_duration(params["stop_grace_period"], "stop_grace_period"),
        "endpoint_mode": "dnsrr",
        "constraints": [],
        "update": update,
        "rollback": rollback_settings(update),
        "force_update": 0,
    }


def db_view(app: str, image: str, constraints: list[str]) -> dict:
    """The desired view of NAME-db. ``constraints`` pins it to the node that holds its volume."""
    # Two Postgres servers on one data directory corrupt it: the old task stops first.
    update = dict(UPDATE_DEFAULTS, delay=0.0, monitor=10.0, order="stop-first")
    return {
        "image": strip_digest(image),
        "replicas": 1,
        "env": {
            "POSTGRES_USER": app,
            "POSTGRES_DB": app,
            "POSTGRES_PASSWORD_FILE": f"/run/secrets/{DB_PASSWORD_TARGET}",
            "PGDATA": DB_PGDATA,
        },
        "labels": _naming.app_labels(app, "db"),
        "networks": [_naming.app_network(app)],
        "healthcheck": {
            "test": ["CMD-SHELL", f"pg_isready -q -h 127.0.0.1 -p {DB_PORT} -U {app} -d {app}"],
            "interval": 5.0,
            "timeout": 3.0,
            "retries": 5,
            "start_period": 30.0,
        },
        "limits": {},
        "secrets": [{"name": _naming.db_password_secret(app), "target": DB_PASSWORD_TARGET, "uid": "0", "mode": 0o400}],
        "mounts": [{"type": "volume", "source": _naming.db_volume(app), "target": DB_DATA}],
        "stop_grace_period": DB_STOP_GRACE,
        "endpoint_mode": "dnsrr",
        "constraints": sorted(constraints),
        "update": update,
        "rollback": rollback_settings(update),
        "force_update": 0,
    }


def with_restart(desired: dict, current: dict | None, restart: bool) -> dict:
    """``desired`` keeping the current restart counter, one more when a restart is asked for
    (Swarm starts new tasks whenever ``TaskTemplate.ForceUpdate`` changes)."""
    counter = current["force_update"] if current else 0
    return dict(desired, force_update=counter + 1 if restart else counter)


# -- the database image -------------------------------------------------------------------
_MAJOR_TAG = re.compile(r"(\d+)(?:[.-].*)?")


def postgres_major(image: str) -> int | None:
    """PostgreSQL's major version in an image tag (``postgres:16.2-bookworm`` -> 16), else None."""
    name = strip_digest(image).rsplit("/", 1)[-1]
    tag = name.split(":", 1)[1] if ":" in name else ""
    match = _MAJOR_TAG.fullmatch(tag)
    return int(match.group(1)) if match else None


def postgres_upgrade_error(current: str, wanted: str) -> str | None:
    """Why the database may not move from image ``current`` to ``wanted``, or None when it may.

    A PostgreSQL server opens only data directories of its own major version: moving data to
    another major needs pg_upgrade or a dump and restore, never just a new image.
    """
    if strip_digest(current) == strip_digest(wanted):
        return None
    old, new = postgres_major(current), postgres_major(wanted)
    if old is None or new is None:
        unknown = current if old is None else wanted
        return (
            f"cannot tell the PostgreSQL major version of {strip_digest(unknown)} (its tag names none), so the "
            f"move from {strip_digest(current)} to {wanted} may hand the data to a server that cannot open it: "
            "name database images by their major version (postgres:16, postgres:16.2)"
        )
    if old == new:
        return None
    return (
        f"the database runs PostgreSQL {old} ({strip_digest(current)}) and postgres_image is PostgreSQL {new} "
        f"({wanted}): a PostgreSQL {new} server cannot open data written by {old}; move the data with a dump "
        "and restore (pg_dumpall) or pg_upgrade first, or keep the current image"
    )


# -- the current view ---------------------------------------------------------------------
def _update_view(config: dict | None) -> dict:
    config = config or {}
    return {
        "parallelism": int(config.get("Parallelism", 1) if "Parallelism" in config else 1),
        "delay": seconds(config.get("Delay")),
        "order": config.get("Order") or "stop-first",
        "failure_action": config.get("FailureAction") or "pause",
        "monitor": seconds(config.get("Monitor")),
    }


def current_view(spec: dict, network_names: dict) -> dict:
    """The view of a service Spec as the engine returns it. ``network_names``: {id: name}."""
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    env = dict(item.split("=", 1) if "=" in item else (item, "") for item in container.get("Env") or [])
    health = container.get("Healthcheck")
    healthcheck = None
    if health and health.get("Test"):
        healthcheck = {"test": list(health["Test"])}
        for key, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
            if health.get(field):
                healthcheck[key] = seconds(health[field])
        if health.get("Retries"):
            healthcheck["retries"] = int(health["Retries"])
    resources = (template.get("Resources") or {}).get("Limits") or {}
    limits = {}
    if resources.get("NanoCPUs"):
        limits["cpus"] = round(resources["NanoCPUs"] / NANO, 6)
    if resources.get("MemoryBytes"):
        limits["memory"] = int(resources["MemoryBytes"])
    networks = template.get("Networks") or spec.get("Networks") or []
    mode = spec.get("Mode") or {}
    return {
        "image": strip_digest(container.get("Image", "")),
        "replicas": int((mode.get("Replicated") or {}).get("Replicas", 0)) if "Replicated" in mode else None,
        "env": env,
        "labels": {k: v for k, v in (spec.get("Labels") or {}).items() if k not in RELEASE_LABELS},
        "networks": sorted(network_names.get(n["Target"], n["Target"]) for n in networks),
        "healthcheck": healthcheck,
        "limits": limits,
        "secrets": sorted(
            (
                {
                    "name": s["SecretName"],
                    "target": (s.get("File") or {}).get("Name"),
                    "uid": (s.get("File") or {}).get("UID", "0"),
                    "mode": (s.get("File") or {}).get("Mode", 0o444),
                }
                for s in container.get("Secrets") or []
            ),
            key=lambda s: s["name"],
        ),
        "mounts": sorted(
            (
                {"type": m.get("Type", "volume"), "source": m.get("Source"), "target": m.get("Target")}
                for m in container.get("Mounts") or []
            ),
            key=lambda m: m["target"],
        ),
        "stop_grace_period": seconds(container.get("StopGracePeriod")) if "StopGracePeriod" in container else 10.0,
        "endpoint_mode": (spec.get("EndpointSpec") or {}).get("Mode") or "vip",
        "constraints": sorted((template.get("Placement") or {}).get("Constraints") or []),
        "update": _update_view(spec.get("UpdateConfig")),
        "rollback": _update_view(spec.get("RollbackConfig")),
        "force_update": int(template.get("ForceUpdate") or 0),
    }


# -- comparing ----------------------------------------------------------------------------
def _others_prefixes(app: str) -> tuple[str, ...]:
    """Labels of production's service that other modules own: traefik_route's router, app_alerts' thresholds."""
    return (*_naming.route_label_prefixes(app), _naming.ALERT_LABEL_PREFIX)


def owned_labels(labels: dict, app: str) -> dict:
    """Labels without those other modules own: what swarm_app compares and writes."""
    return {k: v for k, v in labels.items() if not k.startswith(_others_prefixes(app))}


def route_labels(labels: dict, app: str) -> dict:
    """The labels other modules own (the route, the alert thresholds): what swarm_app keeps as they are."""
    return {k: v for k, v in labels.items() if k.startswith(_others_prefixes(app))}


def comparable(view: dict, app: str) -> dict:
    return dict(view, labels=owned_labels(view["labels"], app))


def changed_fields(desired: dict, current: dict | None, app: str) -> list[str]:
    """Names of the view fields that differ; every field when the service does not exist."""
    if current is None:
        return sorted(desired)
    return changed_keys(comparable(current, app), comparable(desired, app))


def needs_release(changes: list[str]) -> bool:
    return any(field in TASK_FIELDS for field in changes)


def release_of(labels: dict | None) -> int:
    """The release a service runs (its label ``sentinel.release``), 0 without one."""
    text = (labels or {}).get(_naming.LABEL_RELEASE, "")
    return int(text) if text.isdigit() else 0


def release_number(current_labels: dict | None, changes: list[str], recorded: int = 0) -> int:
    """The release a service runs after ``changes``: its current one, or, after a change that starts
    new tasks (or for a new service), the next after both its own and the newest ``recorded``."""
    current = release_of(current_labels)
    if current and not needs_release(changes):
        return current
    return max(current, recorded) + 1


# -- building the engine's spec -----------------------------------------------------------
def service_spec(
    name: str,
    view: dict,
    labels: dict,
    image_ref: str,
    network_ids: dict,
    secret_ids: dict,
    base_template: dict | None = None,
) -> dict:
    """Keyword arguments for APIClient.create_service / update_service.

    ``labels`` are the complete service labels (owned + release + preserved route labels).
    ``base_template`` is the current TaskTemplate on update: fields Sentinel does not manage
    (set by the engine or by hand) are kept, so an update changes only what it must.
    """
    template = copy.deepcopy(base_template or {})
    container = template.setdefault("ContainerSpec", {})
    container.update(
        Image=image_ref,
        Env=[f"{k}={v}" for k, v in sorted(view["env"].items())],
        StopGracePeriod=nanos(view["stop_grace_period"]),
        Secrets=[
            {
                "SecretID": secret_ids[s["name"]],
                "SecretName": s["name"],
                "File": {"Name": s["target"], "UID": s["uid"], "GID": s["uid"], "Mode": s["mode"]},
            }
            for s in view["secrets"]
        ],
        Mounts=[{"Type": m["type"], "Source": m["source"], "Target": m["target"]} for m in view["mounts"]],
    )
    health = view["healthcheck"]
    if health:
        container["Healthcheck"] = {
            "Test": health["test"],
            **{
                field: nanos(health[key])
                for key, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"))
                if key in health
            },
            **({"Retries": health["retries"]} if "retries" in health else {}),
        }
    else:
        container.pop("Healthcheck", None)
    resources = template.setdefault("Resources", {})
    resources["Limits"] = {
        **({"NanoCPUs": int(round(view["limits"]["cpus"] * NANO))} if "cpus" in view["limits"] else {}),
        **({"MemoryBytes": view["limits"]["memory"]} if "memory" in view["limits"] else {}),
    }
    template.setdefault("Placement", {})["Constraints"] = list(view["constraints"])
    template["Networks"] = [{"Target": network_ids[n]} for n in view["networks"]]
    template["ForceUpdate"] = view["force_update"]
    return {
        "name": name,
        "task_template": template,
        "labels": labels,
        "mode": {"Replicated": {"Replicas": view["replicas"]}},
        "update_config": _engine_update(view["update"]),
        "rollback_config": _engine_update(view["rollback"]),
        "endpoint_spec": {"Mode": view["endpoint_mode"]},
    }


def _engine_update(update: dict) -> dict:
    return {
        "Parallelism": update["parallelism"],
        "Delay": nanos(update["delay"]),
        "FailureAction": update["failure_action"],
        "Monitor": nanos(update["monitor"]),
        "MaxFailureRatio": 0,
        "Order": update["order"],
    }


# -- the database password (never in a view, a label or output) ----------------------------
_HASH_ITERATIONS = 200_000


def password_hash(password: str, salt: str) -> str:
    """A salted, slow hash for the ``sentinel.config-hash`` label: comparable, not reversible."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _HASH_ITERATIONS).hex()
    return f"pbkdf2-sha256${_HASH_ITERATIONS}${salt}${digest}"


def password_matches(password: str, stored: str | None) -> bool:
    try:
        _scheme, iterations, salt, digest = (stored or "").split("$")
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def pgpass_line(password: str) -> str:
    """A libpq password file matching every host, port, database and user."""
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"

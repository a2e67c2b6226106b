# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release record of an app, kept in the Swarm. Pure functions.

Private to this collection. Every change of production that starts new tasks (a deploy, a change of
its environment, a promote, a rollback) is release vN of the app, and swarm_app writes its record:
a Docker config (in the raft store: every manager answers the same) whose data is the record as JSON.
It holds the image pinned to its digest and the environment, so that a rollback can restore both;
secrets are named (their versions), never valued. Records never change; the service's label
``sentinel.release`` names the live one, and an app keeps its last ``keep``.
"""

from __future__ import annotations

import base64
import json

SCHEMA = 1
DEFAULT_KEEP = 50
LABEL_APP = "sentinel.release.app"
LABEL_NUMBER = "sentinel.release.number"


def config_name(app: str, number: int) -> str:
    return f"sentinel-release-{app}-{number}"


def labels(app: str, number: int) -> dict[str, str]:
    return {LABEL_APP: app, LABEL_NUMBER: str(number)}


def new_record(app: str, number: int, production: dict, changes: list[str], note: dict, time: str) -> dict:
    """Release ``number`` of ``app``: ``production`` is what it runs ({"image", "env", "secret_env":
    {KEY: secret name}}); ``changes`` the fields that made it a release; ``note`` who made it and
    why ({"by", "reason"}, None when not told).
    """
    return {
        "schema": SCHEMA,
        "app": app,
        "release": number,
        "time": time,
        "image": production["image"],
        "env": dict(production.get("env") or {}),
        "secret_env": dict(production.get("secret_env") or {}),
        "changes": sorted(changes),
        "by": note.get("by"),
        "reason": note.get("reason"),
    }


def data_of(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def record_of(config: dict) -> dict:
    """The record a config holds (the configs' listing carries their data)."""
    return json.loads(base64.b64decode(config["Spec"].get("Data") or b"e30="))


def number_of(config: dict) -> int:
    text = (config["Spec"].get("Labels") or {}).get(LABEL_NUMBER, "")
    return int(text) if text.isdigit() else 0


def newest_first(configs: list[dict]) -> list[dict]:
    return sorted(configs, key=number_of, reverse=True)


def to_prune(configs: list[dict], keep: int) -> list[dict]:
    """The records that must go for a new one to be written with ``keep`` kept, itself included."""
    return newest_first(configs)[max(keep - 1, 0) :]


def kept_beside_new(configs: list[dict], keep: int) -> list[dict]:
    """The records that stay when a new one is written with ``keep`` kept: the rest of to_prune's."""
    return newest_first(configs)[: max(keep - 1, 0)]


def shown(record: dict, live: int | None, values: bool = False) -> dict:
    """What a reader sees of ``record``: the environment's keys, its values only with ``values``;
    ``live`` is the release production runs now."""
    env = record.get("env") or {}
    view = {k: record.get(k) for k in ("release", "time", "image", "changes", "by", "reason", "secret_env")}
    view["env_keys"] = sorted(env)
    if values:
        view["env"] = dict(env)
    view["live"] = record.get("release") == live
    return view

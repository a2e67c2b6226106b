# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision record of a canary rollout, kept in the Swarm. Pure functions.

Private to this collection. A rollout's record is a Docker config (in the raft store: every manager
answers the same) whose data is the record as JSON. Configs cannot change, so each update writes
version ``seq + 1`` of the record first and then removes the older ones: a run killed in between
leaves two versions, and readers take the newest. Rollouts are numbered per app (1, 2, ...) and an
app keeps its last ``keep``.
"""

from __future__ import annotations

import base64
import json

SCHEMA = 1
DEFAULT_KEEP = 20
# Docker refuses a config over 500 KiB; the per-window numbers are what grows.
MAX_BYTES = 500 * 1024
LABEL_APP = "sentinel.rollout.app"
LABEL_ID = "sentinel.rollout.id"
LABEL_NUMBER = "sentinel.rollout.number"
LABEL_SEQ = "sentinel.rollout.seq"
# What a rollout can end as; any other status (starting, running, paused) means it is still
# going, or its driver died.
ENDED = ("promoted", "rolled back", "dry run", "failed")


def config_name(app: str, number: int, seq: int) -> str:
    return f"sentinel-rollout-{app}-{number}-{seq}"


def labels(app: str, rollout_id: str, number: int, seq: int) -> dict[str, str]:
    return {LABEL_APP: app, LABEL_ID: rollout_id, LABEL_NUMBER: str(number), LABEL_SEQ: str(seq)}


def versions(configs: list[dict]) -> dict[str, list[dict]]:
    """The configs of one app's records by rollout id, newest version first."""
    found: dict[str, list[dict]] = {}
    for config in configs:
        found.setdefault(config["Spec"]["Labels"].get(LABEL_ID, ""), []).append(config)
    return {key: sorted(found[key], key=seq_of, reverse=True) for key in found}


def newest_first(by_id: dict[str, list[dict]]) -> list[list[dict]]:
    """The rollouts (each its versions, newest first) from the latest rollout to the oldest."""
    return sorted(by_id.values(), key=lambda versions_: number_of(versions_[0]), reverse=True)


def next_number(by_id: dict[str, list[dict]]) -> int:
    return max((number_of(v[0]) for v in by_id.values()), default=0) + 1


def new_record(app: str, rollout_id: str, number: int) -> dict:
    return {"schema": SCHEMA, "app": app, "id": rollout_id, "number": number, "status": "starting", "events": []}


def updated(record: dict, changes: dict) -> dict:
    """``record`` with the top-level fields of ``changes``; the identity fields cannot change."""
    fixed = {k: record[k] for k in ("schema", "app", "id", "number", "events") if k in record}
    return {**record, **changes, **fixed}


def record_of(config: dict) -> dict:
    """The record a version's config holds (the configs' listing carries their data)."""
    return json.loads(base64.b64decode(config["Spec"].get("Data") or b"e30="))


def data_of(record: dict) -> bytes:
    """The config data of ``record``; ValueError when Docker would refuse its size."""
    data = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    if len(data) > MAX_BYTES:
        raise ValueError(f"the record of rollout {record['number']} would be {len(data)} bytes, over {MAX_BYTES}")
    return data


def event_details(record: dict, kind: str) -> dict:
    """What an event of ``kind`` about ``record`` says: the rollout, and the step or the end's why."""
    details = {k: record.get(k) for k in ("number", "status", "canary_image", "production_image")}
    details["rollout"] = details.pop("number")
    if kind == "step" and record.get("steps"):
        details["step"] = {k: record["steps"][-1].get(k) for k in ("weight", "verdict", "reasons")}
    elif record.get("status") in ENDED + ("paused",):
        details.update(verdict=record.get("verdict"), reason=record.get("reason"))
    return details


def to_prune(by_id: dict[str, list[dict]], keep: int) -> list[dict]:
    """Every version of the rollouts that must go for a new one to start with ``keep`` kept,
    itself included: all but the newest ``keep - 1``."""
    return [config for versions_ in newest_first(by_id)[keep - 1 :] for config in versions_]


def seq_of(config: dict) -> int:
    return _int(config["Spec"]["Labels"].get(LABEL_SEQ))


def number_of(config: dict) -> int:
    return _int(config["Spec"]["Labels"].get(LABEL_NUMBER))


def _int(text: object) -> int:
    try:
        return int(str(text))
    except ValueError:
        return 0


def rollouts_of(swarm, app):
    """The records of the app's rollouts, newest first, each its newest version."""
    by_id = versions(swarm.configs({LABEL_APP: app}))
    return [record_of(kept[0]) for kept in newest_first(by_id)]

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One operation at a time per app (or per cluster): the lease, its record and its rules. Pure functions.

Private to this collection. A lease is a Docker config named ``lease_name(scope, name)`` whose labels
hold the record: configs live in the Swarm's raft store (every manager sees the same one), and
creating one whose name exists fails, so two takers cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

DEFAULT_SECONDS = 900  # longer than any operation's own waits; a dead holder's lease ends by itself
LABEL_PREFIX = "sentinel.lease."
FIELDS = ("token", "owner", "operation", "started", "expires")


def lease_name(scope: str, name: str | None) -> str:
    """The config holding the lease of app ``name`` (scope app) or of the cluster (scope cluster)."""
    return "sentinel-lease-cluster" if scope == "cluster" else f"sentinel-lease-app-{name}"


def what(scope: str, name: str | None) -> str:
    return "the cluster" if scope == "cluster" else f"app {name}"


def new_lease(token: str, owner: str, operation: str, now: datetime, seconds: int) -> dict:
    return {
        "token": token,
        "owner": owner,
        "operation": operation,
        "started": _text(now),
        "expires": _text(now + timedelta(seconds=seconds)),
    }


def labels_of(lease: dict) -> dict[str, str]:
    return {LABEL_PREFIX + key: str(lease[key]) for key in FIELDS}


def lease_of(labels: dict | None) -> dict:
    """The record a lease config's labels hold (fields missing from a hand-made config are empty)."""
    return {key: (labels or {}).get(LABEL_PREFIX + key, "") for key in FIELDS}


def expired(lease: dict, now: datetime) -> bool:
    """Whether ``lease`` has ended; a record without a readable expiry counts as ended."""
    try:
        return datetime.fromisoformat(lease["expires"]) <= now
    except (TypeError, ValueError):
        return True


def public(lease: dict | None) -> dict | None:
    """What a lease shows: everything but the token, which only its holder needs."""
    return None if lease is None else {k: v for k, v in lease.items() if k != "token"}


def busy_message(scope: str, name: str | None, lease: dict) -> str:
    unlock = "sentinel cluster unlock" if scope == "cluster" else f"sentinel unlock {name}"
    return (
        f"{what(scope, name)} is busy: {lease['operation'] or 'an operation'} by {lease['owner'] or 'someone'} "
        f"since {lease['started'] or 'an unknown time'} (the lease ends {lease['expires'] or 'now'}). "
        f"Wait for it to finish; if that run is gone (killed, its machine lost), run {unlock}"
    )


def _text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")

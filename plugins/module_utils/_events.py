# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operation events: one versioned shape, and the one function every event goes out through.

Private to this collection. An event goes to the record it belongs to (a rollout's decision record keeps its
events), and to the notifier (``_notifier.tell``), which delivers it to the receivers (webhooks, Slack,
e-mail). docs/notifications.md documents the payload.
"""

from __future__ import annotations

SCHEMA = "sentinel.event/v1"


def event(kind: str, app: str | None, at: str, **details) -> dict:
    """The payload of one event: ``kind`` (such as ``canary.step``) of ``app`` (None: the cluster's, such as a
    node's) at ``at`` (ISO 8601, UTC)."""
    return {"schema": SCHEMA, "type": kind, "app": app, "at": at, **details}


def emit(record: dict, payload: dict) -> dict:
    """``record`` with ``payload`` among its events."""
    return {**record, "events": [*record.get("events", []), payload]}

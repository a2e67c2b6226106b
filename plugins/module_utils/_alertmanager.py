# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Silences of the platform's Alertmanager, through ``amtool`` inside its task (``docker exec``): the official
image and Debian's both ship it, and Alertmanager publishes no port, so nothing is opened to the network.

Pure functions build the commands and read the answers; :class:`Alertmanager` does the execs. Private to this
collection.
"""

from __future__ import annotations

import json

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

ALERTMANAGER = _naming.PLATFORM_SERVICES["alertmanager"]
LOCAL_URL = f"--alertmanager.url=http://127.0.0.1:{_naming.ALERTMANAGER_PORT}"


class AlertmanagerError(Exception):
    """amtool failed inside the task, or answered something unreadable."""


def matcher(name: str, value: str) -> str:
    """amtool's exact matcher ``name="value"``; the value quoted as a Go string, so no character breaks out."""
    return f"{name}={json.dumps(value)}"


def same_matchers(silence: dict, matchers: dict) -> bool:
    """Whether ``silence`` matches exactly the labels ``matchers`` (each by equality, no regex) and nothing else."""
    theirs = {
        m["name"]: m["value"] for m in silence.get("matchers") or [] if m.get("isEqual", True) and not m.get("isRegex")
    }
    return len(theirs) == len(silence.get("matchers") or []) and theirs == matchers


def ours(silences: list, matchers: dict, author: str) -> list:
    """The active or pending silences that ``author`` made for exactly ``matchers``, oldest first."""
    return sorted(
        (
            s
            for s in silences
            if s.get("createdBy") == author
            and (s.get("status") or {}).get("state") in ("active", "pending")
            and same_matchers(s, matchers)
        ),
        key=lambda s: s.get("startsAt", ""),
    )


def view(silence: dict | None) -> dict | None:
    """What the diff shows of a silence: its matchers, author, comment and end."""
    if silence is None:
        return None
    return {
        "matchers": {m["name"]: m["value"] for m in silence.get("matchers") or []},
        "created_by": silence.get("createdBy"),
        "comment": silence.get("comment"),
        "ends_at": silence.get("endsAt"),
    }


class Alertmanager:
    def __init__(self, swarm):
        self.swarm = swarm

    def _amtool(self, *args: str) -> str:
        code, stdout, stderr = self.swarm.exec_in_local_task(ALERTMANAGER, ["amtool", LOCAL_URL, *args])
        if code != 0:
            raise AlertmanagerError(f"amtool {args[0]} {args[1]} failed: {(stderr or stdout).strip()[:300]}")
        return stdout

    def silences(self) -> list:
        """Every silence Alertmanager keeps that has not expired."""
        answer = self._amtool("silence", "query", "-o", "json")
        try:
            return json.loads(answer or "[]")
        except ValueError:
            raise AlertmanagerError(f"unreadable answer from amtool: {answer[:200]!r}") from None

    def add(self, matchers: dict, author: str, comment: str, duration: str) -> str:
        """A new silence's ID."""
        args = [f"--author={author}", f"--comment={comment}", f"--duration={duration}"]
        return self._amtool("silence", "add", *args, *(matcher(k, v) for k, v in matchers.items())).strip()

    def expire(self, ids: list) -> None:
        self._amtool("silence", "expire", *ids)

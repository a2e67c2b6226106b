# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``diff: {before, after}`` and ``changes`` for modules that reconcile several resources.

Each resource is a JSON-friendly view (a dict), or None when it does not exist (or should not).
Private to this collection.
"""

from __future__ import annotations


def changed_keys(before: dict, after: dict) -> list[str]:
    """Keys whose values differ between two views (a missing key counts as None)."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class ChangeSet:
    """Collects what a run changes, resource by resource, in the shape Ansible's --diff shows."""

    def __init__(self):
        self.before: dict = {}
        self.after: dict = {}
        self.changes: list[str] = []

    def record(self, key: str, before: dict | None, after: dict | None) -> list[str]:
        """Compare one resource; returns its changed fields (``["*"]`` when created or removed).

        A created or removed resource shows whole in the diff and as ``key`` in ``changes``;
        an updated one shows only its changed fields, listed as ``key.field``.
        """
        if before == after:
            return []
        if before is None or after is None:
            self.before[key], self.after[key] = before, after
            self.changes.append(key)
            return ["*"]
        fields = changed_keys(before, after)
        self.before[key] = {f: before.get(f) for f in fields}
        self.after[key] = {f: after.get(f) for f in fields}
        self.changes.extend(f"{key}.{f}" for f in fields)
        return fields

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def diff(self) -> dict:
        return {"before": self.before, "after": self.after}

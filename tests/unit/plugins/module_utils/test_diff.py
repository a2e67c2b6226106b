"""ChangeSet: the diff and changes list every reconciling module returns."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._diff import ChangeSet, changed_keys


@pytest.mark.parametrize(
    ("before", "after", "keys"),
    [
        ({}, {}, []),
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": 1}, {}, ["a"]),
        ({}, {"b": None}, []),  # a missing key counts as None
        ({"a": [1, 2]}, {"a": [2, 1]}, ["a"]),
        ({"b": 1, "a": 1}, {"b": 2, "a": 2}, ["a", "b"]),
    ],
)
def test_changed_keys(before, after, keys):
    assert changed_keys(before, after) == keys


def test_unchanged_resource_records_nothing():
    changes = ChangeSet()
    assert changes.record("svc", {"a": 1}, {"a": 1}) == []
    assert not changes.changed
    assert changes.diff == {"before": {}, "after": {}}


def test_updated_resource_shows_only_changed_fields():
    changes = ChangeSet()
    assert changes.record("svc", {"a": 1, "b": 1}, {"a": 2, "b": 1}) == ["a"]
    assert changes.changes == ["svc.a"]
    assert changes.diff == {"before": {"svc": {"a": 1}}, "after": {"svc": {"a": 2}}}


@pytest.mark.parametrize(("before", "after"), [(None, {"a": 1}), ({"a": 1}, None)])
def test_created_or_removed_resource_shows_whole(before, after):
    changes = ChangeSet()
    assert changes.record("net", before, after) == ["*"]
    assert changes.changes == ["net"]
    assert changes.diff == {"before": {"net": before}, "after": {"net": after}}


def test_absent_and_staying_absent_is_no_change():
    changes = ChangeSet()
    assert changes.record("svc", None, None) == []
    assert not changes.changed

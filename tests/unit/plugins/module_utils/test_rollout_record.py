"""_rollout_record: a rollout's versions in configs, the newest wins; numbering, pruning, events."""

from __future__ import annotations

import base64
import json

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _events
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout_record as records


def config(rollout_id, number, seq, record=None):
    data = base64.b64encode(json.dumps(record or {"id": rollout_id, "seq": seq}).encode()).decode()
    labels = records.labels("todo", rollout_id, number, seq)
    return {"ID": f"{rollout_id}-{seq}", "Spec": {"Name": records.config_name("todo", number, seq), "Labels": labels,
                                                  "Data": data}}  # fmt: skip


def test_a_killed_write_leaves_two_versions_and_the_newest_wins():
    by_id = records.versions([config("a", 1, 1), config("a", 1, 2), config("b", 2, 1)])
    assert [records.seq_of(c) for c in by_id["a"]] == [2, 1]
    assert records.record_of(by_id["a"][0]) == {"id": "a", "seq": 2}


def test_rollouts_are_numbered_after_the_last_and_listed_newest_first():
    by_id = records.versions([config("a", 1, 3), config("c", 3, 1), config("b", 2, 1)])
    assert [records.number_of(v[0]) for v in records.newest_first(by_id)] == [3, 2, 1]
    assert records.next_number(by_id) == 4
    assert records.next_number({}) == 1


def test_a_new_rollout_makes_room_so_that_keep_are_kept_with_it():
    by_id = records.versions([config("a", 1, 1), config("a", 1, 2), config("b", 2, 1), config("c", 3, 1)])
    assert sorted(c["ID"] for c in records.to_prune(by_id, 3)) == ["a-1", "a-2"]  # b, c and the new one
    assert [c["ID"] for c in records.to_prune(by_id, 1)] == ["c-1", "b-1", "a-2", "a-1"]  # only the new one
    assert records.to_prune(by_id, 4) == []


def test_an_update_sets_fields_but_never_the_identity():
    record = records.new_record("todo", "a", 1)
    after = records.updated(record, {"status": "running", "id": "other", "number": 9, "events": []})
    assert after == {**record, "status": "running"}
    assert records.updated(after, {"status": "running"}) == after  # the same write: no change


def test_a_record_over_dockers_limit_is_refused_with_its_size():
    record = {**records.new_record("todo", "a", 7), "steps": ["x" * records.MAX_BYTES]}
    with pytest.raises(ValueError, match="rollout 7 would be"):
        records.data_of(record)
    assert json.loads(records.data_of(records.new_record("todo", "a", 7)))["number"] == 7


def test_a_config_without_data_reads_as_an_empty_record():
    assert records.record_of({"Spec": {"Labels": {}}}) == {}


def test_events_say_the_step_or_why_the_rollout_ended():
    step = {"weight": 10, "verdict": "fail", "reasons": ["5xx 25% over 1%"], "numbers": {}}
    record = {**records.new_record("todo", "a", 3), "status": "running", "canary_image": "todo:2", "steps": [step]}
    details = records.event_details(record, "step")
    assert details["rollout"] == 3
    assert details["step"] == {"weight": 10, "verdict": "fail", "reasons": ["5xx 25% over 1%"]}
    ended = {**record, "status": "rolled back", "verdict": "fail", "reason": "5xx 25% over 1%"}
    assert records.event_details(ended, "rolled_back")["reason"] == "5xx 25% over 1%"
    assert "reason" not in records.event_details(record, "started")


def test_an_event_is_versioned_and_kept_among_the_records_events():
    payload = _events.event("canary.step", "todo", "2026-12-02T10:00:00+00:00", rollout=1)
    assert payload == {"schema": "sentinel.event/v1", "type": "canary.step", "app": "todo",
                       "at": "2026-12-02T10:00:00+00:00", "rollout": 1}  # fmt: skip
    record = _events.emit(_events.emit({"events": []}, payload), payload)
    assert record["events"] == [payload, payload]

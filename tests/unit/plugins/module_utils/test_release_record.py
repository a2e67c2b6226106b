"""Release records: what one holds, what a reader sees of it, which ones go."""

from __future__ import annotations

import base64

from ansible_collections.sentinel.paas.plugins.module_utils import _release_record as r

PRODUCTION = {"image": "todo:2@sha256:" + "a" * 64, "env": {"B": "2", "A": "1"}, "secret_env": {"K": "s-K-3"}}


def config(record: dict) -> dict:
    data = base64.b64encode(r.data_of(record)).decode()
    return {"ID": f"id{record['release']}", "Spec": {"Labels": r.labels("todo", record["release"]), "Data": data}}


def record(number: int) -> dict:
    return r.new_record("todo", number, PRODUCTION, ["image", "env"], {"by": "ann@laptop", "reason": "deploy"}, "t")


def test_a_record_round_trips_through_its_config():
    assert r.record_of(config(record(3))) == record(3)
    assert r.number_of(config(record(3))) == 3
    assert r.config_name("todo", 3) == "sentinel-release-todo-3"


def test_a_reader_sees_the_keys_and_the_values_only_on_request():
    seen = r.shown(record(3), live=3)
    assert seen["env_keys"] == ["A", "B"] and "env" not in seen and seen["live"] is True
    assert seen["secret_env"] == {"K": "s-K-3"}  # a secret's version, never its value
    assert r.shown(record(3), live=4, values=True)["env"] == {"B": "2", "A": "1"}
    assert r.shown(record(3), live=4)["live"] is False


def test_the_newest_are_kept_with_room_for_the_next():
    configs = [config(record(n)) for n in (2, 5, 1, 4, 3)]
    assert [r.number_of(c) for c in r.newest_first(configs)] == [5, 4, 3, 2, 1]
    assert [r.number_of(c) for c in r.to_prune(configs, keep=3)] == [3, 2, 1]
    assert r.to_prune(configs, keep=50) == []
    assert [r.number_of(c) for c in r.kept_beside_new(configs, keep=3)] == [5, 4]
    assert r.kept_beside_new(configs, keep=1) == []

"""The pure side of db_schedule: the period, the request, and the service read back as it was made."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _db_schedule
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import Backups

DB = {
    "Spec": {
        "TaskTemplate": {
            "ContainerSpec": {"Image": "postgres:16@sha256:" + "a" * 64},
            "Placement": {"Constraints": ["node.id==abc"]},
        }
    }
}


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("hourly", 3600), ("daily", 86400), ("6h", 21600), ("1h30m", 5400), ("10s", 10), ("1.5s", None), ("day", None)],
)
def test_the_period_in_seconds(every, seconds):
    assert _db_schedule.period_seconds(every) == seconds


@pytest.mark.parametrize(
    ("every", "keep", "message"),
    [
        ("sometimes", 7, "invalid schedule 'sometimes': hourly, daily, or a duration"),
        ("", 7, "invalid schedule ''"),
        (None, 7, "invalid schedule None"),
        ("5s", 7, "at most one backup every 10s"),
        ("daily", 0, "invalid keep 0: keep at least 1"),
    ],
)
def test_a_bad_schedule_is_named(every, keep, message):
    errors = _db_schedule.request_errors(every, keep)
    assert len(errors) == 1 and message in errors[0], errors


def test_a_good_schedule_has_no_errors():
    assert _db_schedule.request_errors("daily", 7) == []


def made(spec: dict) -> dict:
    """The service the engine returns for a create_service call."""
    return {"Spec": {"Name": spec["name"], "Labels": spec["labels"], "TaskTemplate": spec["task_template"]}}


def test_the_service_made_reads_back_as_the_schedule_asked_for():
    desired = _db_schedule.desired_view(DB, "6h", 3, "/var/lib/sentinel/backups/todo")
    assert desired == {
        "every": "6h",
        "seconds": 21600,
        "keep": 3,
        "image": DB["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        "directory": "/var/lib/sentinel/backups/todo",
        "constraints": ["node.id==abc"],
        "script": _db_schedule.SCRIPT_HASH,
    }
    spec = _db_schedule.service_spec("todo", desired, "net-id", "secret-id")
    assert _db_schedule.view(made(spec)) == desired
    assert _db_schedule.view(None) is None
    container = spec["task_template"]["ContainerSpec"]
    # The database's password reaches it as a file, never in its environment or labels.
    assert container["Secrets"][0]["SecretName"] == "sentinel-todo-db-pgpass"
    assert "PGPASSFILE=/run/secrets/pgpass" in container["Env"] and "PGHOST=todo-db" in container["Env"]
    assert spec["name"] == "todo-db-backups" and spec["labels"]["sentinel.app"] == "todo"


def db_of(image: str) -> dict:
    return {"Spec": {"TaskTemplate": {**DB["Spec"]["TaskTemplate"], "ContainerSpec": {"Image": image}}}}


@pytest.mark.parametrize(
    ("every", "keep", "image"), [("hourly", 7, "postgres:16"), ("daily", 2, "postgres:16"), ("daily", 7, "postgres:17")]
)
def test_another_period_keep_or_database_image_is_a_change(every, keep, image):
    daily = _db_schedule.desired_view(db_of("postgres:16"), "daily", 7, "/b/todo")
    running = _db_schedule.view(made(_db_schedule.service_spec("todo", daily, "n", "s")))
    assert running == daily
    assert running != _db_schedule.desired_view(db_of(image), every, keep, "/b/todo")


def test_only_the_apps_own_schedule_is_its_schedule():
    spec = _db_schedule.service_spec("todo", _db_schedule.desired_view(DB, "daily", 7, "/b/todo"), "n", "s")
    assert _db_schedule.is_schedule_of(made(spec), "todo")
    assert not _db_schedule.is_schedule_of(made(spec), "other")
    assert not _db_schedule.is_schedule_of({"Spec": {"Name": "todo-db-backups", "Labels": {}}}, "todo")
    assert not _db_schedule.is_schedule_of(None, "todo")


def test_a_service_running_an_older_script_is_a_change():
    desired = _db_schedule.desired_view(DB, "daily", 7, "/b/todo")
    service = made(_db_schedule.service_spec("todo", desired, "n", "s"))
    service["Spec"]["Labels"]["sentinel.config-hash"] = "an older script"
    assert _db_schedule.view(service) != desired


def test_shown_names_the_service_and_leaves_the_internals_out():
    desired = _db_schedule.desired_view(DB, "daily", 7, "/b/todo")
    assert _db_schedule.shown("todo", desired) == {
        "every": "daily", "seconds": 86400, "keep": 7, "directory": "/b/todo", "service": "todo-db-backups",
    }  # fmt: skip
    assert _db_schedule.shown("todo", None) is None


FAKE_TOOLS = {
    "pg_dump": 'for a; do case "$a" in --file=*) printf "dump of %s" "$PGDATABASE" > "${a#--file=}";; esac; done',
    "pg_restore": 'echo "3345; 0 1 TABLE DATA public todos todo"; echo "3346; 0 2 TABLE DATA public \\"odd\\" todo"',
}


def test_the_scripts_backups_are_records_the_collection_reads_and_it_keeps_the_newest(tmp_path):
    """Three scheduled backups a second apart, keeping 2, beside one made by hand: the script's records read
    as Backups.take's do, its oldest is pruned, the one made by hand is not."""
    tools, directory = tmp_path / "bin", tmp_path / "backups"
    tools.mkdir()
    (directory / "todo").mkdir(parents=True)
    for name, body in FAKE_TOOLS.items():
        (tools / name).write_text(f"#!/bin/sh\n{body}\n")
        (tools / name).chmod(0o755)
    by_hand = {"id": "by-hand", "created": "2020-01-01T00:00:00.000000+00:00", "size": 1, "sha256": "x", "tables": []}
    (directory / "todo" / "by-hand.json").write_text(json.dumps(by_hand))
    (directory / "todo" / "by-hand.dump").write_text("x")
    script = f"{_db_schedule.FUNCTIONS}dir={directory / 'todo'}\nbackup; sleep 1; backup; sleep 1; backup\n"
    env = {"PATH": f"{tools}:{os.environ['PATH']}", "PGDATABASE": "todo", "SENTINEL_KEEP": "2"}
    run = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr
    records = Backups(None, "todo", str(directory)).records()
    assert [r["id"] for r in records][0] == "by-hand" and len(records) == 3, records
    for record in records[1:]:
        assert record["id"].startswith("scheduled-") and record["scheduled"] is True
        assert record["tables"] == ['public "odd"', "public todos"] and record["size"] == len("dump of todo")
        assert record["sha256"] == hashlib.sha256(b"dump of todo").hexdigest()
    assert "removed scheduled-" in run.stdout
    assert sorted(p.name for p in (directory / "todo").iterdir() if "partial" in p.name) == []

"""sentinel db: the extra vars each command gives its playbook and what it prints, the playbook run replaced."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from sentinel_cli.commands import db
from sentinel_cli.context import Context
from sentinel_cli.main import cli

RECORD = {
    "id": "20261205t174500z",
    "created": "2026-12-05T17:45:00.123456+00:00",
    "size": 3 * 1024 * 1024,
    "seconds": 1.4,
    "tables": ["public todos"],
}


@pytest.fixture
def runs(monkeypatch):
    calls = []

    def fake_run(self, playbook, extravars, title):
        calls.append((playbook, extravars))
        if playbook == "db_backup.yml":
            return {
                "backup": RECORD,
                "pruned": ["old"],
                "path": "/var/lib/sentinel/backups/todo/x.dump",
                "changed": True,
            }
        if playbook == "db_backups.yml":
            return {"backups": [RECORD]}
        if playbook == "db_psql.yml":
            return {
                "container": "c1",
                "output": " count \n-------\n     3\n" if "sql" in extravars else None,
                "node": {"host": "node1", "connection": "local"},
            }
        if playbook == "db_move.yml":
            moved = {"from": "node1", "to": extravars["to"], "changed": extravars["to"] != "node1"}
            if moved["changed"]:
                moved.update(backup=RECORD, rows={"public todos": 3}, downtime_seconds=41.5, old_volume_left=None)
            return moved
        if playbook == "db_schedule.yml":
            scheduled = {"every": extravars.get("every"), "keep": 7, "service": "todo-db-backups"}
            return {"schedule": None if extravars.get("state") == "absent" else scheduled, "changed": True}
        return {"backup": RECORD, "rows": {"public todos": 3}, "held": True, "changed": True}

    monkeypatch.setattr(Context, "run", fake_run)
    return calls


def test_backup_passes_only_what_is_given_and_says_what_it_made(runs):
    result = CliRunner().invoke(cli, ["db", "backup", "todo", "--keep", "7"])
    assert result.exit_code == 0, result.output
    assert runs == [("db_backup.yml", {"app": "todo", "keep": 7})]
    assert "backup 20261205t174500z (3.0 MB, 1 tables, 1.4 s)" in result.output
    assert "removed the oldest: old" in result.output


def test_backups_is_a_table_and_json(runs):
    text = CliRunner().invoke(cli, ["db", "backups", "todo"])
    assert text.exit_code == 0 and "20261205t174500z" in text.output and "3.0 MB" in text.output
    assert "todos" in text.output.splitlines()[1] and "2026-12-05T17:45:00 " in text.output
    data = json.loads(CliRunner().invoke(cli, ["db", "backups", "todo", "-o", "json"]).output)
    assert data == {"ok": True, "backups": [RECORD]}


def test_restore_asks_first_and_passes_the_backup(runs):
    refused = CliRunner().invoke(cli, ["db", "restore", "todo"], input="n\n")
    assert refused.exit_code != 0 and runs == []
    result = CliRunner().invoke(cli, ["db", "restore", "todo", "--from", "before-v2", "--yes"])
    assert result.exit_code == 0, result.output
    assert runs == [("db_restore.yml", {"app": "todo", "backup": "before-v2"})]
    assert "restored backup 20261205t174500z (rows: todos 3)" in result.output


def test_a_keep_below_one_is_refused_before_any_playbook(runs):
    assert CliRunner().invoke(cli, ["db", "backup", "todo", "--keep", "0"]).exit_code == 2 and runs == []


def test_remove_asks_first_and_passes_state_absent(runs):
    assert CliRunner().invoke(cli, ["db", "remove", "todo", "old"], input="n\n").exit_code != 0 and runs == []
    result = CliRunner().invoke(cli, ["db", "remove", "todo", "old", "--yes"])
    assert result.exit_code == 0, result.output
    assert runs == [("db_backup.yml", {"app": "todo", "backup": "old", "state": "absent"})]


def test_schedule_passes_how_often_or_off_and_needs_one_of_them(runs):
    result = CliRunner().invoke(cli, ["db", "schedule", "todo", "daily"])
    assert result.exit_code == 0, result.output
    assert "todo: backed up daily, keeping 7 (todo-db-backups)" in result.output
    off = CliRunner().invoke(cli, ["db", "schedule", "todo", "--off"])
    assert off.exit_code == 0 and "todo: no scheduled backups" in off.output
    assert runs == [
        ("db_schedule.yml", {"app": "todo", "every": "daily"}),
        ("db_schedule.yml", {"app": "todo", "state": "absent"}),
    ]
    for neither_or_both in (["todo"], ["todo", "daily", "--off"]):
        refused = CliRunner().invoke(cli, ["db", "schedule", *neither_or_both])
        assert refused.exit_code == 2 and "give how often" in refused.output
    refused = CliRunner().invoke(cli, ["db", "schedule", "todo", "--off", "--keep", "3"])
    assert refused.exit_code == 2 and "--keep goes with a schedule" in refused.output
    empty = CliRunner().invoke(cli, ["db", "psql", "todo", "-c", " "])
    assert empty.exit_code == 2 and "-c needs the SQL" in empty.output
    assert len(runs) == 2


def test_psql_runs_sql_or_hands_the_terminal_to_psql_on_the_node(runs, monkeypatch):
    result = CliRunner().invoke(cli, ["db", "psql", "todo", "-c", "SELECT count(*) FROM todos"])
    assert result.exit_code == 0, result.output
    assert "     3" in result.output
    execs = []
    monkeypatch.setattr("os.execvp", lambda path, argv: execs.append(argv))
    assert CliRunner().invoke(cli, ["db", "psql", "todo"]).exit_code == 0
    assert execs == [["docker", "exec", "-it", "c1", "psql", "-U", "todo", "-d", "todo"]]
    assert runs == [
        ("db_psql.yml", {"app": "todo", "sql": "SELECT count(*) FROM todos"}),
        ("db_psql.yml", {"app": "todo"}),
    ]


def test_backups_tell_when_the_schedule_last_made_one_and_warn_when_it_is_late(monkeypatch):
    schedule = {"every": "daily", "seconds": 86400, "keep": 7, "service": "todo-db-backups"}
    made = [{**RECORD, "created": "2026-12-01T00:00:00.000000+00:00", "scheduled": True}, RECORD]
    now = datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert db._last_scheduled(made, schedule, now) == "the last one 3 h ago"
    late = db._last_scheduled(made, schedule, datetime(2026, 12, 4, tzinfo=UTC))
    assert late == "the last one 3 d ago: LATE, see `docker service logs todo-db-backups` on a manager"
    assert db._last_scheduled([RECORD], schedule, now) == "none made yet"
    monkeypatch.setattr(Context, "run", lambda *_: {"backups": made, "schedule": schedule})
    text = CliRunner().invoke(cli, ["db", "backups", "todo"]).output
    assert "todo: backed up daily, keeping 7 (todo-db-backups); the last one" in text


def test_move_asks_first_and_says_how_long_the_app_was_down(runs):
    assert CliRunner().invoke(cli, ["db", "move", "todo", "--to", "node2"], input="n\n").exit_code != 0
    assert runs == []
    assert CliRunner().invoke(cli, ["db", "move", "todo", "--yes"]).exit_code == 2  # --to is required
    result = CliRunner().invoke(cli, ["db", "move", "todo", "--to", "node2", "--yes"])
    assert result.exit_code == 0, result.output
    assert "todo: database moved from node1 to node2 in 41.5 s without traffic" in result.output
    assert "backup 20261205t174500z; rows: todos 3" in result.output
    there = CliRunner().invoke(cli, ["db", "move", "todo", "--to", "node1", "--yes"])
    assert "todo's database is on node1 already." in there.output
    assert runs == [("db_move.yml", {"app": "todo", "to": "node2"}), ("db_move.yml", {"app": "todo", "to": "node1"})]

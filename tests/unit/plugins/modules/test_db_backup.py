"""db_backup, db_backup_info and db_restore run whole over a real directory of backups, with the database's
container replaced: the four steps, keep, removal, the checks before a restore, refusals.

That pg_dump and pg_restore really make and read the archives: tests/integration/test_db_backups.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _db_backup
from ansible_collections.sentinel.paas.plugins.modules import db_backup, db_backup_info, db_restore
from module_harness import fail, run

ARCHIVE = b"PGDMP" + bytes(range(256)) * 40  # what the fake pg_dump writes


class FakeContainer:
    """The database's container as the engine shows it: exec of pg_dump / pg_restore, the archive API."""

    def __init__(self):
        self.files = {}
        self.restored = []
        self.restore_exit = 0  # pg_restore's exit code
        self.before_restore = lambda: None  # may raise, as a cut connection does
        self.cut_short = False  # get_archive's stream ends early

    # The engine's side: todo's database runs here
    def local_task_containers(self, name):
        return ["container-1"] if name == "todo-db" else []

    def exec_in(self, container, cmd, timeout=None):
        tool = cmd[0]
        if tool == "pg_dump":
            self.files[cmd[-1].split("=", 1)[1]] = ARCHIVE
        elif tool == "pg_restore" and cmd[1] == "--list":
            if not self.files.get(cmd[2], b"").startswith(b"PGDMP"):
                return 1, "", "pg_restore: error: input file does not appear to be a valid archive"
            return 0, ";\n3345; 0 16390 TABLE DATA public todos todo\n", ""
        elif tool == "pg_restore":
            self.before_restore()
            if self.restore_exit:
                return self.restore_exit, "", 'pg_restore: error: role "auditor" does not exist'
            self.restored.append(self.files[cmd[-1]])
        elif tool == "psql":
            return 0, "3\n", ""
        elif tool == "rm":
            self.files.pop(cmd[-1], None)
        return 0, "", ""

    @property
    def api(self):
        return self

    def get_archive(self, container, path, chunk_size):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[1])
            info.size = len(self.files[path])
            tar.addfile(info, io.BytesIO(self.files[path]))
        data = buffer.getvalue()[: 2000 if self.cut_short else None]
        return (data[i : i + 1000] for i in range(0, len(data), 1000)), {}

    def put_archive(self, container, path, data):
        with tarfile.open(fileobj=io.BytesIO(b"".join(data))) as tar:
            for member in tar.getmembers():
                self.files[f"{path}/{member.name}"] = tar.extractfile(member).read()
        return True


@pytest.fixture
def container(monkeypatch):
    fake = FakeContainer()
    for module in (db_backup, db_backup_info, db_restore):
        monkeypatch.setattr(module, "Swarm", lambda _module: fake)
    return fake


@pytest.fixture
def args(tmp_path):
    return {"name": "todo", "directory": str(tmp_path)}


def test_four_steps_then_absent(container, args, tmp_path):
    step = {**args, "backup": "nightly", "_ansible_diff": True}
    check = run(db_backup, step, check=True)
    assert check["changed"] and check["backup"] is None and check["diff"]["after"]["backups"] == ["nightly"]
    assert not (tmp_path / "todo").exists() or not list((tmp_path / "todo").iterdir())
    made = run(db_backup, step)
    record = made["backup"]
    assert made["changed"] and record["id"] == "nightly" and record["tables"] == ["public todos"]
    assert record["size"] == len(ARCHIVE) and record["sha256"] == hashlib.sha256(ARCHIVE).hexdigest()
    assert (tmp_path / "todo" / "nightly.dump").read_bytes() == ARCHIVE
    assert container.files == {}, "the scratch archive is removed from the container"
    for check_mode in (True, False):
        again = run(db_backup, step, check=check_mode)
        assert not again["changed"] and again["backup"] == record
    assert run(db_backup, {**step, "state": "absent"}, check=True)["changed"]
    assert run(db_backup, {**step, "state": "absent"})["changed"]
    assert not run(db_backup, {**step, "state": "absent"})["changed"]
    assert run(db_backup_info, args)["backups"] == []


def test_keep_removes_the_oldest(container, args):
    for backup_id in ("a1", "a2", "a3"):
        run(db_backup, {**args, "backup": backup_id})
    kept = run(db_backup, {**args, "backup": "a4", "keep": 2})
    assert kept["changed"] and kept["pruned"] == ["a1", "a2"]
    assert [b["id"] for b in run(db_backup_info, args)["backups"]] == ["a3", "a4"]
    assert not run(db_backup, {**args, "backup": "a4", "keep": 2})["changed"]
    # The one asked for stays, old as it is.
    kept = run(db_backup, {**args, "backup": "a3", "keep": 1})
    assert kept["pruned"] == ["a4"] and kept["backup"]["id"] == "a3"


def test_backups_are_ordered_by_the_time_recorded_not_the_files(container, args, tmp_path):
    for backup_id in ("b", "a"):
        run(db_backup, {**args, "backup": backup_id})
    (tmp_path / "todo" / "b.json").touch()  # copied back later: its file is newer
    assert [b["id"] for b in run(db_backup_info, args)["backups"]] == ["b", "a"]
    assert run(db_restore, args, check=True)["backup"]["id"] == "a"


def test_a_copy_cut_short_leaves_nothing_behind(container, args, tmp_path):
    container.cut_short = True
    assert "the backup could not be copied" in fail(db_backup, {**args, "backup": "cut"})["msg"]
    assert list((tmp_path / "todo").iterdir()) == [] and container.files == {}


def test_a_broken_record_is_named(container, args, tmp_path):
    run(db_backup, {**args, "backup": "fine"})
    (tmp_path / "todo" / "fine.json").write_text("{not json")
    assert "fine.json in" in fail(db_backup_info, args)["msg"]


def test_without_an_id_each_run_makes_a_new_backup(container, args, monkeypatch):
    times = iter([1_796_000_000, 1_796_000_060])
    monkeypatch.setattr(_db_backup.time, "time", lambda: next(times))
    first, second = run(db_backup, args)["backup"]["id"], run(db_backup, args)["backup"]["id"]
    assert first == "20261130t005320z" and second == "20261130t005420z"


def test_a_restore_checks_then_restores_the_newest(container, args):
    run(db_backup, {**args, "backup": "old"})
    run(db_backup, {**args, "backup": "new"})
    checked = run(db_restore, args, check=True)
    assert checked["backup"]["id"] == "new" and checked["rows"] == {} and container.restored == []
    restored = run(db_restore, args)
    assert restored["backup"]["id"] == "new" and restored["rows"] == {"public todos": 3}
    assert container.restored == [ARCHIVE] and container.files == {}


@pytest.mark.parametrize("damage", ["changed-byte", "not-an-archive", "other-tables"])
def test_a_damaged_backup_is_refused_before_any_restore(container, args, tmp_path, damage):
    run(db_backup, {**args, "backup": "b1"})
    dump, record = tmp_path / "todo" / "b1.dump", tmp_path / "todo" / "b1.json"
    saved = json.loads(record.read_text())
    if damage == "changed-byte":
        dump.write_bytes(ARCHIVE[:100] + b"X" + ARCHIVE[101:])
        message = "backup b1 is damaged"
    elif damage == "not-an-archive":
        dump.write_bytes(b"garbage")
        record.write_text(json.dumps({**saved, "sha256": hashlib.sha256(b"garbage").hexdigest()}))
        message = "not a readable pg_dump archive"
    else:
        record.write_text(json.dumps({**saved, "tables": ["public todos", "public users"]}))
        message = "holds other tables than recorded"
    failed = fail(db_restore, {**args, "backup": "b1"})
    assert message in failed["msg"] and "the data is as it was" in failed["msg"] and failed["settled"]
    assert container.restored == []


def test_a_restore_that_fails_says_whether_the_data_changed(container, args):
    run(db_backup, {**args, "backup": "c1"})
    container.restore_exit = 1
    failed = fail(db_restore, args)
    assert 'role "auditor" does not exist; the data is as it was' in failed["msg"] and failed["settled"]

    def timed_out():
        raise TimeoutError("timed out")

    container.before_restore = timed_out
    failed = fail(db_restore, args)
    assert "may still be running" in failed["msg"] and failed["settled"] is False
    assert container.files == {}, "the scratch archive is removed either way"


@pytest.mark.parametrize(
    ("module", "extra", "message"),
    [
        (db_backup, {"backup": "../up"}, "invalid backup id '../up'"),
        (db_backup, {"backup": "Upper"}, "invalid backup id"),
        (db_backup, {"keep": 0}, "keep at least 1"),
        (db_backup, {"backup": "scheduled-20261205t000000z"}, "are the schedule's own"),
        (db_backup, {"name": "other"}, "app other's database (other-db) has no running task on this node"),
        (db_backup, {"state": "absent"}, "state is absent but all of the following are missing: backup"),
        (db_restore, {}, "app todo has no backup in"),
        (db_restore, {"backup": "never"}, "app todo has no backup 'never'"),
        # a schedule's backup is restored (and removed) by its id like any other
        (db_restore, {"backup": "scheduled-20261205t000000z"}, "app todo has no backup 'scheduled-20261205t000000z'"),
        (db_backup_info, {"name": "Bad"}, "invalid app name"),
    ],
)
def test_refusals_change_nothing(container, args, tmp_path, module, extra, message):
    assert message in fail(module, {**args, **extra})["msg"]
    assert list(tmp_path.iterdir()) == [] and container.restored == []

"""db_backup copying its backup off the node and db_backup_fetch fetching one back, through a stand-in of the
backup target's task (rclone's copy and lsf over an in-memory bucket): the four steps, the newest when no id is
given, refusals, a copy that fails.

That rclone really does this against an S3 API, in the target's service: tests/integration/test_db_backups.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible_collections.sentinel.paas.plugins.modules import db_backup, db_backup_fetch, db_restore
from module_harness import fail, run
from test_db_backup import FakeContainer

WHERE = "sentinel-backups/sentinel"


class WithTarget(FakeContainer):
    """The database's container, and the backup target's task on the same node over ``directory``."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory
        self.bucket: dict[str, bytes] = {}  # key -> bytes, keys as WHERE/APP/FILE
        self.fails = False

    def local_task_containers(self, name):
        return ["ship-1"] if name == "sentinel-backup-ship" else super().local_task_containers(name)

    def inspect_container(self, container):
        env = [f"SENTINEL_TARGET_PATH={WHERE}", "SENTINEL_EVERY=10"]
        return {"Mounts": [{"Destination": "/backups", "Source": str(self.directory)}], "Config": {"Env": env}}

    def exec_in(self, container, cmd, timeout=None):
        if container != "ship-1":
            return super().exec_in(container, cmd, timeout)
        assert cmd[:2] == ["sh", "-c"] and "exec flock" in cmd[2] and cmd[3] == "rclone" and cmd[-2] == "--config"
        if self.fails:
            return 1, "", "Failed to copy: AccessDenied"
        verb, source, *rest = cmd[4:-2]
        includes = [rest[i + 1].lstrip("/") for i, arg in enumerate(rest) if arg == "--include"]
        if verb == "lsf":
            prefix = source.split(":", 1)[1] + "/"
            # In the order they came (dicts keep it), as their times say; the lines in name order, as rclone's.
            times = {k[len(prefix) :]: i for i, k in enumerate(self.bucket) if k.startswith(prefix)}
            lines = sorted(f"{n};2026-12-06 08:0{i}:00" for n, i in times.items())
            return 0, "".join(";".join(line.split(";")[::-1]) + "\n" for line in lines), ""
        target = rest[0]
        if source.startswith("target:"):  # fetch
            folder = Path(target.replace("/backups", str(self.directory), 1))
            folder.mkdir(parents=True, exist_ok=True)
            for name in includes:
                if f"{source[7:]}/{name}" in self.bucket:
                    (folder / name).write_bytes(self.bucket[f"{source[7:]}/{name}"])
        else:
            folder = Path(source.replace("/backups", str(self.directory), 1))
            for name in includes:
                self.bucket[f"{target[7:]}/{name}"] = (folder / name).read_bytes()
        return 0, "", ""


@pytest.fixture
def target(monkeypatch, tmp_path):
    fake = WithTarget(tmp_path)
    for module in (db_backup, db_backup_fetch, db_restore):
        monkeypatch.setattr(module, "Swarm", lambda _module: fake)
    return fake


@pytest.fixture
def args(tmp_path):
    return {"name": "todo", "directory": str(tmp_path)}


def test_a_backup_is_copied_off_the_node_at_once(target, args):
    made = run(db_backup, {**args, "backup": "b1"})
    assert made["copied_to"] == f"s3://{WHERE}/todo/b1.dump"
    assert sorted(target.bucket) == [f"{WHERE}/todo/b1.dump", f"{WHERE}/todo/b1.json"]
    assert target.bucket[f"{WHERE}/todo/b1.dump"] == Path(made["path"]).read_bytes()


def test_a_copy_that_fails_warns_and_keeps_the_backup(target, args, monkeypatch):
    warned = []
    monkeypatch.setattr(db_backup.AnsibleModule, "warn", lambda _self, text: warned.append(text))
    target.fails = True
    made = run(db_backup, {**args, "backup": "b1"})
    assert made["changed"] and made["copied_to"] is None and os.path.exists(made["path"])
    assert len(warned) == 1 and "AccessDenied" in warned[0] and "stays on this node" in warned[0]


def test_fetch_four_steps_then_restore(target, args, tmp_path):
    for backup_id in ("old", "new"):
        run(db_backup, {**args, "backup": backup_id})
    for path in (tmp_path / "todo").iterdir():  # the node is lost: a new one has nothing
        path.unlink()
    check = run(db_backup_fetch, args, check=True)
    assert check["changed"] and check["fetched"] == "new" and list((tmp_path / "todo").iterdir()) == []
    fetched = run(db_backup_fetch, args)
    assert fetched["fetched"] == "new" and fetched["source"] == f"s3://{WHERE}/todo/new.dump"
    assert sorted(p.name for p in (tmp_path / "todo").iterdir()) == ["new.dump", "new.json"]
    for check_mode in (True, False):
        again = run(db_backup_fetch, args, check=check_mode)
        assert not again["changed"] and again["fetched"] is None and again["target"] == f"s3://{WHERE}"
    assert run(db_backup_fetch, {**args, "backup": "old"})["fetched"] == "old"
    assert run(db_restore, {**args, "backup": "old"})["rows"] == {"public todos": 3}


def test_a_record_whose_archive_never_reached_the_bucket_is_not_fetched(target, args, tmp_path):
    for backup_id in ("whole", "half"):
        run(db_backup, {**args, "backup": backup_id})
    del target.bucket[f"{WHERE}/todo/half.dump"]
    for path in (tmp_path / "todo").iterdir():
        path.unlink()
    assert run(db_backup_fetch, args)["fetched"] == "whole"
    assert "no backup 'half'" in fail(db_backup_fetch, {**args, "backup": "half"})["msg"]


def test_an_unknown_backup_is_refused_naming_the_latest(target, args, tmp_path):
    run(db_backup, {**args, "backup": "b1"})
    failed = fail(db_backup_fetch, {**args, "backup": "never"})
    assert f"no backup 'never' on this node nor in s3://{WHERE} (the latest there: b1)" in failed["msg"]
    assert sorted(p.name for p in (tmp_path / "todo").iterdir()) == ["b1.dump", "b1.json"]


def test_without_a_target_nothing_is_fetched(container_without_target, args):
    result = run(db_backup_fetch, {**args, "backup": "b1"})
    assert (result["changed"], result["fetched"], result["target"]) == (False, None, None)


@pytest.fixture
def container_without_target(monkeypatch):
    fake = FakeContainer()
    monkeypatch.setattr(db_backup_fetch, "Swarm", lambda _module: fake)
    return fake

"""Atomic replacement of a watched file."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _files


@pytest.fixture
def watched(tmp_path):
    (tmp_path / "watched").mkdir()
    return tmp_path / "watched"


@pytest.mark.parametrize("staged_outside", [True, False])
def test_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path, watched, staged_outside):
    target = watched / "a.yml"
    target.write_text("old\n")
    old_inode = target.stat().st_ino
    staging = str(tmp_path) if staged_outside else None
    _files.atomic_write(str(target), "new\n", 0o644, staging_dir=staging)
    assert target.read_text() == "new\n"
    assert target.stat().st_ino != old_inode  # a rename, never a rewrite in place
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.yml", "watched"]


def test_staging_falls_back_to_the_files_directory_when_it_cannot_be_used(tmp_path, watched, monkeypatch):
    used = []
    real_mkstemp = _files.tempfile.mkstemp
    monkeypatch.setattr(_files.tempfile, "mkstemp", lambda **kw: used.append(kw["dir"]) or real_mkstemp(**kw))
    _files.atomic_write(str(watched / "a.yml"), "x", staging_dir=str(tmp_path / "missing"))
    monkeypatch.setattr(os, "access", lambda path, how: False)
    _files.atomic_write(str(watched / "a.yml"), "y", staging_dir=str(tmp_path))
    assert used == [str(watched), str(watched)]
    assert (watched / "a.yml").read_text() == "y"


def test_a_failed_write_removes_its_temporary_file(tmp_path, watched, monkeypatch):
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        _files.atomic_write(str(watched / "a.yml"), "x", staging_dir=str(tmp_path))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["watched"]


def test_read_mode_and_remove_of_a_missing_file(watched):
    assert _files.read_text(str(watched / "nope")) is None
    assert _files.file_mode(str(watched / "nope")) is None
    _files.remove(str(watched / "nope"))
    (watched / "a").write_text("x")
    _files.remove(str(watched / "a"))
    assert list(watched.iterdir()) == []

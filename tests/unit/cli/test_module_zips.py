"""module_zips: our modules' AnsiballZ zips kept between runs, keyed by what they are made of, with bytecode or not."""

from __future__ import annotations

import base64
import io
import os
import pickle
import stat
import subprocess
import sys
import time
import zipfile

import pytest
from ansible.executor.module_common import ModuleMetadataV1, _CachedModule

from sentinel_cli import module_zips, project, runner

OUR_ZIP = "ansible_collections.sentinel.paas.plugins.modules.app_info-ZIP_DEFLATED-none"
THEIR_ZIP = "ansible_collections.community.docker.plugins.modules.docker_node-ZIP_DEFLATED-none"


def cached_module(source: str) -> bytes:
    """A module as Ansible caches it: a pickled _CachedModule whose zip holds ``zipped.py``."""
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("zipped.py", source)
    metadata = ModuleMetadataV1(serialization_profile="legacy")
    module = _CachedModule(zip_data=base64.b64encode(zipped.getvalue()), metadata=metadata, source_mapping={})
    return pickle.dumps(module)


def zip_of(cached: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(pickle.loads(cached).zip_data)))


@pytest.fixture
def collection(tmp_path):
    home = tmp_path / "paas"
    (home / "plugins" / "modules").mkdir(parents=True)
    (home / "plugins" / "module_utils").mkdir()
    (home / "plugins" / "modules" / "app_info.py").write_text("print('app')\n")
    (home / "plugins" / "module_utils" / "_swarm.py").write_text("API = 1\n")
    return home


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sentinel" / "ansiballz"


def test_the_key_changes_with_a_module_or_a_module_util_and_nothing_else(collection):
    first = module_zips.key(collection)
    (collection / "README.md").write_text("docs\n")
    (collection / "plugins" / "filter").mkdir()
    (collection / "plugins" / "filter" / "weights.py").write_text("x = 1\n")  # never zipped with a module
    (collection / "plugins" / "modules" / ".#app_info.py").symlink_to("user@host.1234")  # an editor's lock
    assert module_zips.key(collection) == first
    (collection / "plugins" / "module_utils" / "_swarm.py").write_text("API = 2\n")
    changed_util = module_zips.key(collection)
    (collection / "plugins" / "modules" / "app_info.py").write_text("print('app 2')\n")
    assert len({first, changed_util, module_zips.key(collection)}) == 3


def test_a_run_keeps_only_the_finished_zips_of_our_modules_and_the_next_run_gets_them(tmp_path, collection, cache):
    first_run = tmp_path / "run1" / "ansiballz_cache"
    kept = module_zips.restore(first_run, collection)
    assert kept == cache / module_zips.key(collection)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700
    assert list(first_run.iterdir()) == []
    ours = cached_module("VALUE = 42\n")
    for name in (OUR_ZIP, THEIR_ZIP, f"{OUR_ZIP}.lock", f"{OUR_ZIP}-part"):
        (first_run / name).write_bytes(ours)
    module_zips.keep(first_run, kept, collection)
    assert sorted(path.name for path in kept.iterdir()) == [OUR_ZIP, module_zips.BYTECODE]
    assert [path.name for path in (kept / module_zips.BYTECODE).iterdir()] == [OUR_ZIP]

    second_run = tmp_path / "run2" / "ansiballz_cache"
    assert module_zips.restore(second_run, collection) == kept
    assert [path.name for path in second_run.iterdir()] == [OUR_ZIP]
    assert (second_run / OUR_ZIP).read_bytes() == ours  # as Ansible made it
    before = (kept / OUR_ZIP).stat()
    module_zips.keep(second_run, kept, collection)  # a zip the run was given is not written again
    assert (kept / OUR_ZIP).stat().st_ino == before.st_ino

    with_bytecode = tmp_path / "run3" / "ansiballz_cache"
    module_zips.restore(with_bytecode, collection, bytecode=True)
    assert sorted(zip_of((with_bytecode / OUR_ZIP).read_bytes()).namelist()) == ["zipped.py", "zipped.pyc"]


def test_python_imports_the_zips_bytecode_and_it_does_what_the_source_does(tmp_path):
    cached = module_zips.with_bytecode(cached_module("VALUE = 6 * 7\n"))
    assert isinstance(pickle.loads(cached), _CachedModule)
    archive = tmp_path / "modlib.zip"
    archive.write_bytes(base64.b64decode(pickle.loads(cached).zip_data))
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(archive)!r}); import zipped as m; print(m.VALUE, m.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout == f"42 {archive}/zipped.pyc\n"  # zipimport names the file it loaded: the bytecode


def test_a_new_key_removes_the_zips_of_a_key_unused_for_a_day_and_keeps_one_in_use(tmp_path, collection, cache):
    unused = module_zips.restore(tmp_path / "run1", collection)
    (unused / OUR_ZIP).write_bytes(b"old")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(unused, (two_days_ago, two_days_ago))
    in_use = cache / "another-checkouts-key"
    in_use.mkdir()
    (collection / "plugins" / "modules" / "app_info.py").write_text("print('app 2')\n")
    new = module_zips.restore(tmp_path / "run2", collection)
    assert sorted(path.name for path in cache.iterdir()) == sorted([new.name, in_use.name])
    assert list((tmp_path / "run2").iterdir()) == []  # the old zip is not given to the new source


def test_zips_made_while_the_source_changed_are_not_kept(tmp_path, collection, cache):
    run_cache = tmp_path / "run" / "ansiballz_cache"
    kept = module_zips.restore(run_cache, collection)
    (run_cache / OUR_ZIP).write_bytes(cached_module("VALUE = 1\n"))
    (collection / "plugins" / "module_utils" / "_swarm.py").write_text("API = 2\n")  # a checkout during the run
    module_zips.keep(run_cache, kept, collection)
    assert not (kept / OUR_ZIP).exists()


def test_a_cache_directory_others_may_write_to_is_not_used(tmp_path, collection, cache):
    kept = module_zips.restore(tmp_path / "run1", collection)
    (kept / OUR_ZIP).write_bytes(cached_module("VALUE = 1\n"))
    kept.chmod(0o777)
    run_cache = tmp_path / "run2" / "ansiballz_cache"
    assert module_zips.restore(run_cache, collection) is None
    assert not run_cache.exists()


def test_a_cache_that_cannot_be_used_leaves_the_run_as_ansible_makes_it(tmp_path, collection, monkeypatch):
    (tmp_path / "not-a-directory").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-directory"))
    assert module_zips.restore(tmp_path / "run", collection) is None


def test_a_zip_ansible_may_cache_otherwise_is_kept_as_it_is_without_bytecode(tmp_path, collection, cache):
    run_cache = tmp_path / "run" / "ansiballz_cache"
    kept = module_zips.restore(run_cache, collection)
    (run_cache / OUR_ZIP).write_bytes(b"not a pickle")
    module_zips.keep(run_cache, kept, collection)
    assert (kept / OUR_ZIP).read_bytes() == b"not a pickle"
    assert list((kept / module_zips.BYTECODE).iterdir()) == []


READS = """
- name: Zips one of our modules
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read a split of an app that cannot exist (the module refuses the name before it looks)
      sentinel.paas.canary_weights_info:
        name: "-"
      register: split
      failed_when: "'invalid app name' not in split.msg"
"""


@pytest.mark.parametrize("local_inventory", [False, True], ids=["plain zips", "the local inventory: bytecode"])
def test_real_runs_keep_our_modules_zip_and_the_next_run_uses_it_as_it_is(
    tmp_path, cache, monkeypatch, local_inventory
):
    monkeypatch.setattr(project, "PLAYBOOKS", tmp_path)
    (tmp_path / "zips.yml").write_text(READS)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "localhost:\n  ansible_connection: local\n  ansible_pipelining: false\n"
        "  ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
    )
    if local_inventory:
        monkeypatch.setattr(project, "LOCAL_INVENTORY", inventory)
    options = runner.Options(inventory=inventory)
    assert runner.run("zips.yml", {}, options, print).ok
    kept = cache / module_zips.key(project.HOME)
    [zipped] = kept.glob("ansible_collections.sentinel.paas.plugins.modules.canary_weights_info-*")
    assert any(
        name.endswith(".pyc") for name in zip_of((kept / module_zips.BYTECODE / zipped.name).read_bytes()).namelist()
    )
    made = zipped.stat()
    assert runner.run("zips.yml", {}, options, print).ok  # with the kept zip, plain or with bytecode
    assert zipped.stat().st_ino == made.st_ino  # used, not zipped again and kept anew

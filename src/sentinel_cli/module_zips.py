"""The zips of sentinel.paas's modules, kept from one ansible-playbook run to the next.

Before it runs a Python module, Ansible zips it with every module_util it imports (AnsiballZ) and caches the zip in
the run's own temporary directory, which goes when the run ends: every run zips each module it uses again, 0.1-0.2 s
apiece (a read uses one module, a promote seven). Our modules' zips are kept here between runs, under a key made of
ansible-core's version, this Python's, the collection's place and the content of its modules and module_utils: a
changed module, a moved checkout or another Ansible gets fresh zips, and a key's zips unused for a day are removed.
Other collections' modules are zipped in every run as before: their content is not ours to key.

Python imports a zip's sources without caching their bytecode, so a module compiles Ansible's module_utils and ours
again in every run: about 0.09 s of its start here. Each zip is also kept with its bytecode beside its sources (as
unchecked hash-based pycs, PEP 552), for runs whose modules run on this Python (the local inventory): a run asks for
them with ``bytecode``. Elsewhere the plain zip goes: another Python would ignore the bytecode, and a pipelined
module, read by Python from its stdin, takes longer the bigger it is.

A cache must never fail a run: when the cache directory cannot be used, the run zips as Ansible does.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.util
import io
import marshal
import os
import pickle
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BYTECODE_VARIABLE = "SENTINEL_MODULE_BYTECODE"  # "1": the CLI asks for zips with bytecode (runner.py)
OURS = "ansible_collections.sentinel.paas."  # the start of our modules' zip names in Ansible's cache
UNFINISHED = (".lock", "-part")  # Ansible's lock beside a zip it builds, and a zip it is still writing
BYTECODE = "bytecode"  # the kept directory's subdirectory of zips with bytecode
UNCHECKED_HASH_PYC = (1).to_bytes(4, "little")  # PEP 552 flags: hash-based, source not checked
UNUSED_SECONDS = 24 * 3600  # another key's zips unused this long are removed


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "sentinel" / "ansiballz"


def key(collection: Path) -> str:
    """What our modules' zips are made of: Ansible (its module_utils go in), Python (the bytecode), place, source."""
    # Imported here: the CLI imports this file for the variable's name alone, and never Ansible.
    from ansible.release import __version__ as ansible_version

    digest = hashlib.sha256(f"{ansible_version}\n{sys.version}\n{collection.resolve()}\n".encode())
    for directory in ("modules", "module_utils"):
        for path in sorted((collection / "plugins" / directory).rglob("*.py")):
            if path.name.startswith("."):  # an editor's lock or backup, never imported
                continue
            digest.update(f"{path.relative_to(collection)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def restore(run_cache: Path, collection: Path, bytecode: bool = False) -> Path | None:
    """Put the kept zips (with bytecode, if asked) in this run's cache; the directory they are kept in, None when
    it cannot be used."""
    try:
        kept = cache_root() / key(collection)
        if not kept.is_dir():
            (kept / BYTECODE).mkdir(mode=0o700, parents=True)
            kept.chmod(0o700)
            _remove_unused(kept)
        owner = kept.stat()
        if owner.st_uid != os.getuid() or owner.st_mode & 0o077:  # Ansible unpickles what is in it: ours alone
            return None
        os.utime(kept)  # in use: kept from _remove_unused
        run_cache.mkdir(parents=True, exist_ok=True)
        for zipped in (kept / BYTECODE if bytecode else kept).iterdir():
            if zipped.is_file() and not zipped.name.endswith(UNFINISHED):
                (run_cache / zipped.name).symlink_to(zipped)
    except OSError:
        return None
    return kept


def keep(run_cache: Path, kept: Path, collection: Path) -> None:
    """Keep the zips of our modules that this run made, as they are and with their bytecode."""
    try:
        if key(collection) != kept.name:  # the source changed during the run: its zips may be of either
            return
        for zipped in run_cache.iterdir():
            if zipped.is_symlink() or not zipped.name.startswith(OURS) or zipped.name.endswith(UNFINISHED):
                continue
            cached = zipped.read_bytes()
            _store(kept / zipped.name, cached)
            _store(kept / BYTECODE / zipped.name, with_bytecode(cached))
    except Exception:  # noqa: BLE001 - whatever fails here (a full disk, another Ansible's cache format), the run went
        pass


def with_bytecode(cached: bytes) -> bytes:
    """Ansible's cached module (a pickled ``_CachedModule`` whose ``zip_data`` is the zip in base64), with a pyc of
    this Python beside each source in the zip."""
    module = pickle.loads(cached)  # noqa: S301 - our own cache, in a directory only we can write
    sources = zipfile.ZipFile(io.BytesIO(base64.b64decode(module.zip_data)))
    compiled = io.BytesIO()
    with zipfile.ZipFile(compiled, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in sources.infolist():
            source = sources.read(entry)
            target.writestr(entry, source)
            if entry.filename.endswith(".py"):
                # Tracebacks name the file by its place in the zip (the zip's own path is only known where it runs),
                # and Ansible can tell no plugin from it for a deprecation: ours issue none.
                code = compile(source, entry.filename, "exec", dont_inherit=True, optimize=0)  # asserts stay
                header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH_PYC + importlib.util.source_hash(source)
                pyc = zipfile.ZipInfo(f"{entry.filename}c", entry.date_time)
                target.writestr(pyc, header + marshal.dumps(code), zipfile.ZIP_DEFLATED)
    return pickle.dumps(dataclasses.replace(module, zip_data=base64.b64encode(compiled.getvalue())))


def _remove_unused(kept: Path) -> None:
    """Remove the zips of other keys that no run started with for a day: an older source's or Ansible's. Another
    checkout's, in use, stay: a run may be reading them (a run that started a day ago would build its zips again)."""
    for other in kept.parent.iterdir():
        if other != kept and time.time() - other.stat().st_mtime > UNUSED_SECONDS:
            shutil.rmtree(other, ignore_errors=True)


def _store(path: Path, data: bytes) -> None:
    # Another run may keep the same zip at the same time: each writes a file of its own, whole on disk before it
    # takes the zip's name, since a zip cut short by a crash would fail every later run's task that uses it.
    descriptor, part = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=UNFINISHED[1])
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(part, path)

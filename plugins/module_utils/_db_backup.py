# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app database's backups: pg_dump archives in a directory of the node its database runs on.

Why pg_dump (custom format) and not pgBackRest: every PostgreSQL image has pg_dump and pg_restore, so
the user's own database image works unchanged, while pgBackRest needs its binary and WAL archiving set
up inside the database container (an image of our own). A logical dump also restores into a later major
version, the way PostgreSQL itself advises for a major upgrade, and ``pg_restore --list`` reads an
archive's table of contents: a backup is verified without touching any database.

Layout: DIR/APP/ID.dump and beside it ID.json, its record (when, size, SHA-256, seconds, tables).
Each archive is made and read in the database's own container (its tools match its server), copied
out and in with the engine's archive API.

Private to this collection.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import time
from datetime import datetime, timezone

from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError

# Where the database's container keeps an archive while it is made or read: its own writable layer.
SCRATCH = "/tmp"
# How long a dump or a restore may run: it prints nothing until it ends, so the client's own timeout is too short.
TOOL_SECONDS = 3600
SCHEDULED_PREFIX = "scheduled-"  # the ids of the backups a schedule makes (_db_schedule), which it prunes
RECORD_KEYS = frozenset({"id", "created", "size", "sha256", "tables"})
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_CHUNK = 1 << 20
_BLOCK = tarfile.BLOCKSIZE


class BackupError(Exception):
    """A backup that cannot be made, found or trusted; the message says which and why.

    ``settled`` is False only when a restore may still be changing the data (its tool did not finish in time)."""

    def __init__(self, message: str, settled: bool = True):
        super().__init__(message)
        self.settled = settled


def backup_id_error(backup_id: str, by_hand: bool = True) -> str | None:
    """Why ``backup_id`` is not a backup id; ids a schedule makes (``scheduled-``) are not given ``by_hand``."""
    if not _ID.match(backup_id or "") or ".." in backup_id:
        return f"invalid backup id {backup_id!r}: lowercase letters, digits, '.', '_' and '-', at most 63"
    if by_hand and backup_id.startswith(SCHEDULED_PREFIX):
        return f"invalid backup id {backup_id!r}: ids starting with {SCHEDULED_PREFIX} are the schedule's own"
    return None


def named_backup_error(app: str, backup_id: str | None) -> str | None:
    """Why ``app`` or the backup asked for (any id, a schedule's too, or none) cannot be named so, or None."""
    return _naming.app_name_error(app) or (backup_id is not None and backup_id_error(backup_id, by_hand=False)) or None


def new_backup_id(now: float | None = None) -> str:
    """A backup id that sorts by time: 20261205t174500z."""
    return datetime.fromtimestamp(now or time.time(), timezone.utc).strftime("%Y%m%dt%H%M%Sz")


def database_container(swarm, app: str) -> str:
    """The app's database container on this node. Only this engine is asked (a worker's cannot tell the Swarm's
    services): the playbooks run the database's modules on the node it is pinned to."""
    service = _naming.service_name(app, "db")
    containers = swarm.local_task_containers(service)
    if not containers:
        raise BackupError(f"app {app}'s database ({service}) has no running task on this node")
    return containers[0]


class Backups:
    """The backups of one app in ``directory`` (DIR/APP), and the database container they come from."""

    def __init__(self, swarm, app: str, directory: str):
        self.swarm = swarm
        self.app = app
        self.directory = os.path.join(directory, app)

    # -- the records -------------------------------------------------------------------------
    def path(self, backup_id: str, ext: str) -> str:
        return os.path.join(self.directory, f"{backup_id}.{ext}")

    def records(self) -> list:
        """Every complete backup's record, oldest first (by the time recorded: files copied elsewhere keep it)."""
        if not os.path.isdir(self.directory):
            return []
        found = []
        for entry in os.listdir(self.directory):
            if entry.endswith(".json") and os.path.exists(self.path(entry[:-5], "dump")):
                try:
                    with open(os.path.join(self.directory, entry), encoding="utf-8") as handle:
                        record = json.load(handle)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not set(record) >= RECORD_KEYS:
                    raise BackupError(f"{entry} in {self.directory} is not a backup's record: move it away")
                found.append(record)
        return sorted(found, key=lambda record: (record["created"], record["id"]))

    def record(self, backup_id: str) -> dict | None:
        return next((r for r in self.records() if r["id"] == backup_id), None)

    def make_directory(self) -> None:
        """The app's directory, readable by root alone: the archives hold the app's data."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def remove(self, backup_id: str) -> None:
        for ext in ("json", "dump"):  # the record first: a dump without one is never listed
            if os.path.exists(self.path(backup_id, ext)):
                os.remove(self.path(backup_id, ext))

    # -- the database's container ------------------------------------------------------------
    def container(self) -> str:
        return database_container(self.swarm, self.app)

    def _run(self, container: str, argv: list, what: str) -> str:
        """Run a PostgreSQL tool in the container: its stdout; BackupError naming ``what`` when it fails."""
        try:
            code, out, err = self.swarm.exec_in(container, argv, timeout=TOOL_SECONDS)
        except (APIError, OSError) as exc:
            raise BackupError(f"{what}: {argv[0]} did not finish ({exc})") from None
        if code != 0:
            raise BackupError(f"{what}: {argv[0]} failed (exit {code}): {(err or out).strip()[-1000:]}")
        return out

    def _pg(self, container: str, tool: str, *args: str, what: str) -> str:
        """A PostgreSQL client tool as the app's database user (the image's local connections are trusted)."""
        return self._run(container, [tool, f"--username={self.app}", f"--dbname={self.app}", *args], what)

    def _table_data(self, container: str, archive: str) -> list:
        """The tables whose rows an archive holds, from its table of contents (pg_restore --list)."""
        out = self._run(container, ["pg_restore", "--list", archive], "not a readable pg_dump archive")
        # A TOC line: "3345; 0 16390 TABLE DATA public todos app" (the last word is the owner)
        entries = [line.split(" TABLE DATA ", 1)[1] for line in out.splitlines() if " TABLE DATA " in line]
        return sorted(entry.rsplit(" ", 1)[0] for entry in entries)

    def _discard(self, container: str, path: str) -> None:
        """Best effort: a scratch archive left in the container goes with its task."""
        with contextlib.suppress(APIError, OSError):
            self.swarm.exec_in(container, ["rm", "-f", path])

    # -- backup ------------------------------------------------------------------------------
    def take(self, backup_id: str) -> dict:
        """Dump the database into a new archive, verify it, copy it here and record it."""
        started = time.monotonic()
        container = self.container()
        scratch = f"{SCRATCH}/sentinel-backup-{backup_id}.dump"
        self.make_directory()
        partial = self.path(backup_id, "dump.partial")
        try:
            self._pg(container, "pg_dump", "--format=custom", f"--file={scratch}", what="the dump failed")
            tables = self._table_data(container, scratch)
            digest, size = self._copy_out(container, scratch, partial)
            os.replace(partial, self.path(backup_id, "dump"))
        except (APIError, OSError, tarfile.TarError) as exc:
            raise BackupError(f"the backup could not be copied: {exc}") from None
        finally:
            self._discard(container, scratch)
            if os.path.exists(partial):  # a copy cut short
                os.remove(partial)
        record = {
            "id": backup_id,
            "app": self.app,
            # To the microsecond: backups are ordered by it.
            "created": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "size": size,
            "sha256": digest,
            "seconds": round(time.monotonic() - started, 2),
            "tables": tables,
            "format": "pg_dump custom",
        }
        # Written whole or not at all: a record cut short would hide every backup of the app.
        with open(self.path(backup_id, "json.partial"), "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
        os.replace(self.path(backup_id, "json.partial"), self.path(backup_id, "json"))
        return record

    def _copy_out(self, container: str, source: str, target: str) -> tuple:
        """Stream one file out of the container (a tar of one member) into ``target``: (sha256, size)."""
        stream, _stat = self.swarm.api.get_archive(container, source, chunk_size=_CHUNK)
        digest, size = hashlib.sha256(), 0
        with tarfile.open(fileobj=_Stream(stream), mode="r|") as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise BackupError(f"{source} is not a file in the database's container")
            data = tar.extractfile(member)
            with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                for chunk in iter(lambda: data.read(_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if size != member.size:
                raise BackupError(f"the copy of {source} was cut short ({size} of {member.size} bytes)")
        return digest.hexdigest(), size

    # -- restore -----------------------------------------------------------------------------
    def check(self, backup_id: str) -> dict:
        """The backup's record, once its archive is whole (its SHA-256 as recorded); else BackupError."""
        record = self.record(backup_id)
        if record is None:
            known = ", ".join(r["id"] for r in self.records()[-5:]) or "none yet"
            raise BackupError(f"app {self.app} has no backup {backup_id!r} (the latest: {known})")
        digest = hashlib.sha256()
        with open(self.path(backup_id, "dump"), "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        if digest.hexdigest() != record.get("sha256"):
            raise BackupError(f"backup {backup_id} is damaged: its archive is not the one recorded (SHA-256 differs)")
        return record

    def restore(self, backup_id: str, verify_only: bool = False) -> dict:
        """Replace the database's contents with the backup's, in one transaction: a failure keeps the current
        data. The archive is checked (checksum, then pg_restore --list) before the database is touched.
        Returns {"tables": restored tables, "rows": rows per table after the restore}.

        Raises BackupError saying whether the data is as it was."""
        unchanged = "; the data is as it was"
        try:
            record = self.check(backup_id)
        except OSError as exc:
            raise BackupError(f"backup {backup_id} could not be read: {exc}{unchanged}") from None
        except BackupError as exc:
            raise BackupError(f"{exc}{unchanged}") from None
        try:
            container = self.container()
        except BackupError as exc:
            raise BackupError(f"{exc}{unchanged}") from None
        scratch = f"{SCRATCH}/sentinel-restore-{backup_id}.dump"
        try:
            try:
                self._copy_in(container, self.path(backup_id, "dump"), scratch)
                tables = self._table_data(container, scratch)
            except (APIError, OSError) as exc:
                raise BackupError(f"the backup could not be copied into the database's container: {exc}") from None
            if tables != sorted(record["tables"]):
                raise BackupError(f"backup {backup_id} holds other tables than recorded: {', '.join(tables)}")
            if verify_only:
                return {"tables": tables, "rows": {}}
            restore = [
                "pg_restore", f"--username={self.app}", f"--dbname={self.app}", "--clean", "--if-exists",
                "--no-owner", "--single-transaction", "--exit-on-error", scratch,
            ]  # fmt: skip
            code, out, err = self.swarm.exec_in(container, restore, timeout=TOOL_SECONDS)
        except BackupError as exc:
            raise BackupError(f"{exc}{unchanged}") from None
        except (APIError, OSError) as exc:
            raise BackupError(
                f"pg_restore did not finish ({exc}): it may still be running in the database's container; "
                "look at the data before taking the app out of maintenance",
                settled=False,
            ) from None
        finally:
            self._discard(container, scratch)
        if code != 0:
            # One transaction: pg_restore rolled it back.
            raise BackupError(f"pg_restore failed (exit {code}): {(err or out).strip()[-1000:]}{unchanged}")
        try:
            return {"tables": tables, "rows": self.rows(container, tables)}
        except BackupError as exc:
            raise BackupError(f"backup {backup_id} was restored, but its rows could not be counted: {exc}") from None

    def _copy_in(self, container: str, source: str, target: str) -> None:
        """Stream a file into the container as ``target`` (the archive API takes a tar), readable by any user."""
        directory, name = target.rsplit("/", 1)
        if not self.swarm.api.put_archive(container, directory, _tar_of_one(source, name)):
            raise BackupError("the engine did not take the archive into the database's container")

    def rows(self, container: str, tables: list) -> dict:
        """Rows per table (``schema table``, as the archive names them) in the database now."""
        counted = {}
        for table in tables:
            schema, _space, name = table.partition(" ")
            quoted = ['"' + part.replace('"', '""') + '"' for part in (schema, name)]
            query = f"SELECT count(*) FROM {quoted[0]}.{quoted[1]}"
            counted[table] = int(self._pg(container, "psql", "-XAtc", query, what="counting rows").strip())
        return counted


def _tar_of_one(path: str, name: str):
    """A tar stream of one file, made as it is sent: no second copy on disk."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = os.path.getsize(path), 0o644, int(time.time())
    yield info.tobuf(format=tarfile.PAX_FORMAT)
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(_CHUNK), b"")
    yield b"\0" * ((-info.size) % _BLOCK + 2 * _BLOCK)  # the last block's padding, then the end of the archive


class _Stream(io.RawIOBase):
    """A file over the chunks the engine streams, for tarfile's stream mode."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._left = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._left:
            self._left = next(self._chunks, None)
            if self._left is None:
                self._left = b""
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size], self._left = self._left[:size], self._left[size:]
        return size

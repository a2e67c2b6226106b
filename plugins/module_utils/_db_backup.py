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

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import time
from datetime import datetime, timezone

from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError

# Where the database's container keeps an archive while it is made or read: its own writable layer.
SCRATCH = "/tmp"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup that cannot be made, found or trusted; the message says which and why."""


def backup_id_error(backup_id: str) -> str | None:
    if not _ID.match(backup_id or "") or ".." in backup_id:
        return f"invalid backup id {backup_id!r}: lowercase letters, digits, '.', '_' and '-', at most 63"
    return None


def new_backup_id(now: float | None = None) -> str:
    """A backup id that sorts by time: 20261205t174500z."""
    return datetime.fromtimestamp(now or time.time(), timezone.utc).strftime("%Y%m%dt%H%M%Sz")


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
        """Every complete backup's record, oldest first (in the order they were completed)."""
        if not os.path.isdir(self.directory):
            return []
        found = []
        for entry in os.listdir(self.directory):
            path = os.path.join(self.directory, entry)
            if entry.endswith(".json") and os.path.exists(self.path(entry[:-5], "dump")):
                with open(path, encoding="utf-8") as handle:
                    found.append((os.stat(path).st_mtime_ns, json.load(handle)))
        return [record for _completed, record in sorted(found, key=lambda pair: pair[0])]

    def record(self, backup_id: str) -> dict | None:
        return next((r for r in self.records() if r["id"] == backup_id), None)

    def remove(self, backup_id: str) -> None:
        for ext in ("json", "dump"):  # the record first: a dump without one is never listed
            if os.path.exists(self.path(backup_id, ext)):
                os.remove(self.path(backup_id, ext))

    # -- the database's container ------------------------------------------------------------
    def container(self) -> str:
        service = _naming.service_name(self.app, "db")
        if self.swarm.service(service) is None:
            raise BackupError(f"app {self.app} has no database ({service})")
        return self.swarm.local_task_container(service)

    def _pg(self, container: str, *argv: str) -> str:
        """Run a PostgreSQL tool in the container as the app's database user: its stdout, or BackupError."""
        code, out, err = self.swarm.exec_in(container, [argv[0], f"--username={self.app}", *argv[1:]])
        if code != 0:
            raise BackupError(f"{argv[0]} failed (exit {code}): {err.strip() or out.strip()}")
        return out

    def _table_data(self, container: str, archive: str) -> list:
        """The tables whose rows an archive holds, from its table of contents (pg_restore --list)."""
        code, out, err = self.swarm.exec_in(container, ["pg_restore", "--list", archive])
        if code != 0:
            raise BackupError(f"not a readable pg_dump archive: {err.strip() or 'pg_restore --list failed'}")
        # A TOC line: "3345; 0 16390 TABLE DATA public todos app"
        entries = [line.split(" TABLE DATA ", 1)[1] for line in out.splitlines() if " TABLE DATA " in line]
        return sorted(entry.rsplit(" ", 1)[0] for entry in entries)  # without the owner

    # -- backup ------------------------------------------------------------------------------
    def take(self, backup_id: str) -> dict:
        """Dump the database into a new archive, verify it, copy it here and record it."""
        started = time.monotonic()
        container = self.container()
        scratch = f"{SCRATCH}/sentinel-backup-{backup_id}.dump"
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        partial = self.path(backup_id, "dump.partial")
        try:
            self._pg(container, "pg_dump", "--format=custom", f"--dbname={self.app}", f"--file={scratch}")
            tables = self._table_data(container, scratch)
            digest, size = self._copy_out(container, scratch, partial)
            os.replace(partial, self.path(backup_id, "dump"))
        except (APIError, OSError) as exc:
            raise BackupError(f"the backup could not be copied: {exc}") from None
        finally:
            self.swarm.exec_in(container, ["rm", "-f", scratch])
            if os.path.exists(partial):  # a copy cut short
                os.remove(partial)
        record = {
            "id": backup_id,
            "app": self.app,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "size": size,
            "sha256": digest,
            "seconds": round(time.monotonic() - started, 2),
            "tables": tables,
            "format": "pg_dump custom",
        }
        with open(self.path(backup_id, "json"), "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
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
            with open(target, "wb") as out:
                os.chmod(target, 0o600)
                for chunk in iter(lambda: data.read(_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
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
        if digest.hexdigest() != record["sha256"]:
            raise BackupError(f"backup {backup_id} is damaged: its archive is not the one recorded (SHA-256 differs)")
        return record

    def restore(self, backup_id: str, verify_only: bool = False) -> dict:
        """Replace the database's contents with the backup's, in one transaction: a failure keeps the current
        data. The archive is checked (checksum, then pg_restore --list) before the database is touched.
        Returns {"tables": restored tables, "rows": rows per table after the restore}."""
        record = self.check(backup_id)
        container = self.container()
        scratch = f"sentinel-restore-{backup_id}.dump"
        try:
            self._copy_in(container, self.path(backup_id, "dump"), scratch)
            tables = self._table_data(container, f"{SCRATCH}/{scratch}")
            if tables != record["tables"]:
                raise BackupError(f"backup {backup_id} holds other tables than recorded: {tables}")
            if verify_only:
                return {"tables": tables, "rows": {}}
            self._pg(
                container, "pg_restore", f"--dbname={self.app}", "--clean", "--if-exists", "--no-owner",
                "--single-transaction", "--exit-on-error", f"{SCRATCH}/{scratch}",
            )  # fmt: skip
        except (APIError, OSError) as exc:
            raise BackupError(f"the backup could not be restored: {exc}") from None
        finally:
            self.swarm.exec_in(container, ["rm", "-f", f"{SCRATCH}/{scratch}"])
        return {"tables": tables, "rows": self.rows(container, tables)}

    def _copy_in(self, container: str, source: str, name: str) -> None:
        """Copy a file into the container's scratch directory (the archive API takes a tar)."""
        with tempfile.TemporaryFile() as tar_file:
            with tarfile.open(fileobj=tar_file, mode="w") as tar:
                tar.add(source, arcname=name)
            tar_file.seek(0)
            if not self.swarm.api.put_archive(container, SCRATCH, tar_file):
                raise BackupError("the engine did not take the archive into the database's container")

    def rows(self, container: str, tables: list) -> dict:
        """Rows per table (``schema table``, as the archive names them) in the database now."""
        counted = {}
        for table in tables:
            schema, _space, name = table.partition(" ")
            quoted = ['"' + part.replace('"', '""') + '"' for part in (schema, name)]
            query = f"SELECT count(*) FROM {quoted[0]}.{quoted[1]}"
            counted[table] = int(self._pg(container, "psql", f"--dbname={self.app}", "-XAtc", query).strip())
        return counted


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

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that a watcher (Traefik's file provider) may read at any moment: never seen half-written.

Private to this collection.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

# Should the temporary file have to sit in the watched directory itself, Traefik's file
# provider ignores it there: it loads only *.yml, *.yaml and *.toml.
_TEMP_SUFFIX = ".tmp"


def read_text(path: str) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def file_mode(path: str) -> int | None:
    """Permission bits of ``path``, or None when it does not exist."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def atomic_write(path: str, text: str, mode: int = 0o644, staging_dir: str | None = None) -> None:
    """Replace ``path`` with ``text`` in one rename: readers see the old file or the new one.

    The temporary file is synced before the rename, so a crash cannot leave an empty file.
    It is made in ``staging_dir`` when that is on the same filesystem (a rename is atomic only
    within one), else beside ``path``. A watcher of ``path``'s directory then sees a single
    event (the rename) instead of create/write/chmod/rename: Traefik reloads on the first
    event of a burst and throttles the next reload by 2 s, so the burst delays the new file.
    """
    directory = os.path.dirname(path) or "."
    if not _can_stage(staging_dir, directory):
        staging_dir = directory
    fd, temp = tempfile.mkstemp(dir=staging_dir, prefix=f".{os.path.basename(path)}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)  # mkstemp creates 0600
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(directory)
    if staging_dir != directory:
        _sync_directory(staging_dir)


def _can_stage(staging_dir: str | None, directory: str) -> bool:
    if staging_dir is None or not os.access(staging_dir, os.W_OK):
        return False
    return os.stat(staging_dir).st_dev == os.stat(directory).st_dev


def remove(path: str) -> None:
    """Remove ``path`` if it exists; the removal itself is durable."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    _sync_directory(os.path.dirname(path) or ".")


def _sync_directory(directory: str) -> None:
    # The rename or unlink is only durable once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traefik's file-provider documents, kept in the Swarm, and the mirror that puts them on every manager.

The Swarm is the record: each document is a Docker config (in the raft store, the same on every
manager) labelled with its file name and a version number. Configs cannot change, so a new version
of a file is a new config with the next number, after which the older ones go; a writer killed in
between leaves two, and the highest number wins.

Run as a program (``python3 _traefik_files.py``), this file is the platform service
``sentinel-traefik-sync`` (control_plane role, one task on every manager): it keeps Traefik's
watched directory equal to the record, so a manager that was down during a change, or joins
later, serves what every other manager serves within a second of its start. It is the only writer
of that directory; a ``.yml`` file there that the record does not hold is removed.

Standard library only: the modules import it, and the service runs it in a plain Python image.
Private to this collection.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import socket
import sys
import tempfile
import time
import urllib.parse

LABEL_FILE = "sentinel.traefik.file"
LABEL_VERSION = "sentinel.traefik.version"
# A file name Traefik loads (it reads *.yml) and that cannot leave the directory.
FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.yml")
FILE_MODE = 0o644  # Traefik may run as another user; the documents hold no secret


def config_name(file: str, version: int) -> str:
    """``todo-split.yml`` version 3 is the config ``sentinel-traefik-todo-split-3``."""
    return f"sentinel-traefik-{file[: -len('.yml')]}-{version}"


def labels(file: str, version: int) -> dict:
    return {LABEL_FILE: file, LABEL_VERSION: str(version)}


def version_of(config: dict) -> int:
    text = (config["Spec"].get("Labels") or {}).get(LABEL_VERSION, "")
    return int(text) if text.isdigit() else 0


def text_of(config: dict) -> str:
    return base64.b64decode(config["Spec"].get("Data") or "").decode("utf-8")


def versions(configs: list, file: str) -> list:
    """The configs of one file, newest first."""
    found = [c for c in configs if (c["Spec"].get("Labels") or {}).get(LABEL_FILE) == file]
    return sorted(found, key=version_of, reverse=True)


def next_version(kept: list) -> int:
    """The version a new text of a file gets (``kept``: its versions, newest first)."""
    return version_of(kept[0]) + 1 if kept else 1


def replace(swarm, file: str, text: str | None, kept: list) -> str | None:
    """Make ``text`` the newest version of ``file`` (None: no version at all) and remove the versions in
    ``kept`` (``versions()`` of the file); returns the new config's name. The new version is in before
    the old ones go, so a writer killed in between leaves the newest readable."""
    config = None
    if text is not None:
        version = next_version(kept)
        config = config_name(file, version)
        swarm.create_config(config, text.encode("utf-8"), labels(file, version))
    for old in kept:
        swarm.remove_config(old["ID"])
    return config


def kept(swarm, file: str) -> list:
    """The versions of ``file`` in the Swarm (module_utils/_swarm.Swarm), newest first."""
    return versions(swarm.configs({LABEL_FILE: file}), file)


def newest(configs: list) -> dict:
    """{file name: its newest config} of every valid file name in ``configs``."""
    files = {(c["Spec"].get("Labels") or {}).get(LABEL_FILE) for c in configs}
    return {file: versions(configs, file)[0] for file in files if file and FILE_NAME.fullmatch(file)}


# -- the mirror (run on every manager by sentinel-traefik-sync) --------------------------------
def mirror(directory: str, wanted: dict, staging: str | None = None) -> list:
    """Make ``directory``'s ``.yml`` files exactly ``wanted`` ({file name: text}); returns what changed."""
    present = {name for name in os.listdir(directory) if name.endswith(".yml")}
    changed = []
    for name, text in sorted(wanted.items()):
        path = os.path.join(directory, name)
        if name not in present or _read(path) != text or _mode(path) != FILE_MODE:
            _atomic_write(path, text, staging)
            changed.append(f"wrote {name}")
    for name in sorted(present - set(wanted)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(directory, name))
        changed.append(f"removed {name}")
    if changed:
        _sync_directory(directory)
    return changed


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _mode(path: str) -> int:
    return os.stat(path).st_mode & 0o777


def _atomic_write(path: str, text: str, staging: str | None) -> None:
    """Replace ``path`` with ``text`` in one rename: Traefik sees the old file or the new one.

    The temporary file is made in ``staging`` when that is on the same filesystem (a rename is
    atomic only within one), else beside ``path`` (as ``.NAME.tmp``, which Traefik does not load).
    Staged outside, the watched directory sees one event (the rename) instead of a burst:
    Traefik reloads on the first event of a burst and throttles the next reload (providersThrottleDuration).
    """
    directory = os.path.dirname(path)
    if staging is None or not os.access(staging, os.W_OK) or os.stat(staging).st_dev != os.stat(directory).st_dev:
        staging = directory
    fd, temp = tempfile.mkstemp(dir=staging, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, FILE_MODE)  # mkstemp creates 0600
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _sync_directory(directory: str) -> None:
    # A rename or unlink is only durable once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def read_record(socket_path: str, timeout: float = 10) -> dict:
    """{file name: text} of the newest version of every file in the Swarm, asked of the engine."""
    query = urllib.parse.urlencode({"filters": json.dumps({"label": [LABEL_FILE]})})
    connection = _UnixHTTPConnection(socket_path, timeout)
    try:
        connection.request("GET", f"/configs?{query}")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise OSError(f"the engine answered {response.status}: {body[:200]!r}")
    return {file: text_of(config) for file, config in newest(json.loads(body)).items()}


def _say(stream, line: str) -> None:
    """One line of the service's log (docker service logs sentinel-traefik-sync)."""
    stream.write(line + "\n")
    stream.flush()


def main() -> None:
    directory = os.environ.get("SENTINEL_TRAEFIK_DIR", "/etc/sentinel/traefik/dynamic")
    socket_path = os.environ.get("SENTINEL_DOCKER_SOCKET", "/var/run/docker.sock")
    interval = float(os.environ.get("SENTINEL_SYNC_SECONDS", "0.5"))
    staging = os.path.dirname(directory)
    _say(sys.stdout, f"sentinel-traefik-sync: keeping {directory} equal to the Swarm's record")
    while True:
        try:
            for change in mirror(directory, read_record(socket_path), staging):
                _say(sys.stdout, change)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # the engine restarting, a full disk
            _say(sys.stderr, f"error: {exc}")
        time.sleep(interval)


if __name__ == "__main__":
    main()

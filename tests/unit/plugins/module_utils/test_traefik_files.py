"""_traefik_files: the record of Traefik's documents in the Swarm, and the mirror of it on a manager.

The mirror runs here on real files in a temporary directory, and read_record against a stand-in
engine on a real unix socket; tests/integration proves the service on every manager of a real Swarm.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files


def config(file: str, version: int, text: str, name: str | None = None) -> dict:
    labels = files.labels(file, version)
    data = base64.b64encode(text.encode()).decode()
    return {
        "ID": f"id-{file}-{version}",
        "Spec": {"Name": name or files.config_name(file, version), "Labels": labels, "Data": data},
    }


def test_names_and_labels():
    assert files.config_name("todo-split.yml", 3) == "sentinel-traefik-todo-split-3"
    assert files.labels("todo-split.yml", 3) == {
        "sentinel.traefik.file": "todo-split.yml",
        "sentinel.traefik.version": "3",
    }


def test_the_highest_version_of_each_file_wins():
    kept = [config("a-split.yml", 1, "one"), config("a-split.yml", 12, "twelve"), config("a-split.yml", 2, "two")]
    kept.append(config("b-split.yml", 1, "b"))
    assert [files.version_of(c) for c in files.versions(kept, "a-split.yml")] == [12, 2, 1]
    newest = files.newest(kept)
    assert {name: files.text_of(c) for name, c in newest.items()} == {"a-split.yml": "twelve", "b-split.yml": "b"}


@pytest.mark.parametrize("name", ["../etc/passwd.yml", "a/b.yml", ".hidden.yml", "A.yml", "a.yaml", "a.yml\n", ""])
def test_file_names_that_could_leave_the_directory_or_be_ignored_are_not_mirrored(name):
    assert files.newest([config(name, 1, "x", name="sentinel-traefik-odd-1")]) == {}


@pytest.fixture
def directory(tmp_path):
    """Traefik's directory; its parent (tmp_path) is where the mirror stages its writes."""
    (tmp_path / "dynamic").mkdir()
    return tmp_path / "dynamic"


def test_mirror_writes_rewrites_and_removes_until_the_directory_is_the_record(tmp_path, directory):
    (directory / "stale-split.yml").write_text("gone soon")
    (directory / "notes.txt").write_text("not Traefik's: left alone")
    assert files.mirror(str(directory), {"a-split.yml": "one"}, str(tmp_path)) == [
        "wrote a-split.yml",
        "removed stale-split.yml",
    ]
    assert (directory / "a-split.yml").read_text() == "one"
    assert stat.S_IMODE((directory / "a-split.yml").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a-split.yml", "dynamic", "notes.txt"]
    assert files.mirror(str(directory), {"a-split.yml": "one"}, str(tmp_path)) == []  # nothing to do

    inode = (directory / "a-split.yml").stat().st_ino
    assert files.mirror(str(directory), {"a-split.yml": "two"}, str(tmp_path)) == ["wrote a-split.yml"]
    assert (directory / "a-split.yml").read_text() == "two"
    assert (directory / "a-split.yml").stat().st_ino != inode, "a rename, never a rewrite in place"
    os.chmod(directory / "a-split.yml", 0o600)
    assert files.mirror(str(directory), {"a-split.yml": "two"}, str(tmp_path)) == ["wrote a-split.yml"]
    assert files.mirror(str(directory), {}, str(tmp_path)) == ["removed a-split.yml"]


def test_staging_falls_back_to_the_directory_itself(tmp_path, directory, monkeypatch):
    used = []
    real_mkstemp = files.tempfile.mkstemp
    monkeypatch.setattr(files.tempfile, "mkstemp", lambda **kw: used.append(kw["dir"]) or real_mkstemp(**kw))
    files.mirror(str(directory), {"a.yml": "x"}, str(tmp_path / "missing"))
    files.mirror(str(directory), {"a.yml": "y"}, None)
    assert used == [str(directory), str(directory)]
    assert sorted(p.name for p in directory.iterdir()) == ["a.yml"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path, directory, monkeypatch):
    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        files.mirror(str(directory), {"a.yml": "x"}, str(tmp_path))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dynamic"]


class _Engine(BaseHTTPRequestHandler):
    """GET /configs as the engine answers it, honouring the label filter."""

    kept: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        wanted = json.loads(query["filters"][0])["label"]
        found = [c for c in self.kept if all(label in c["Spec"]["Labels"] for label in wanted)]
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "engine"

    def log_message(self, *args):
        pass


class _UnixServer(ThreadingHTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self):
        self.socket.bind(self.server_address)
        self.server_name, self.server_port = "engine", 0


def test_read_record_asks_the_engine_over_its_socket(tmp_path):
    _Engine.kept = [config("a-split.yml", 1, "old"), config("a-split.yml", 2, "new"), {"Spec": {"Labels": {}}}]
    server = _UnixServer(str(tmp_path / "docker.sock"), _Engine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert files.read_record(str(tmp_path / "docker.sock")) == {"a-split.yml": "new"}
    finally:
        server.shutdown()

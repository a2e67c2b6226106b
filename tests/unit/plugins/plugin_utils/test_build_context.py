"""The build context the image_build action packs (plugins/plugin_utils/_build_context.py)."""

from __future__ import annotations

import io
import os
import tarfile

import pytest
from ansible_collections.sentinel.paas.plugins.plugin_utils._build_context import ContextError, pack


def source(root):
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / ".dockerignore").write_text("# notes stay out\n*.log\nDockerfile\n")
    (root / "debug.log").write_text("noise\n")
    return root


def packed(root, dockerfile="Dockerfile"):
    archive = io.BytesIO()
    digest = pack(str(root), dockerfile, archive)
    with tarfile.open(fileobj=archive, mode="r:gz") as tar:
        return digest, {m.name: m for m in tar.getmembers()}


def test_the_context_leaves_out_what_dockerignore_names_but_never_the_dockerfile(tmp_path):
    members = packed(source(tmp_path))[1]
    assert set(members) == {".dockerignore", "Dockerfile", "run.sh", "src", "src/app.py"}
    assert {(m.mtime, m.uid, m.uname) for m in members.values()} == {(0, 0, "")}


def test_the_digest_follows_content_and_the_executable_bit_not_times(tmp_path):
    root = source(tmp_path / "a")
    first = packed(root)[0]
    os.utime(root / "src" / "app.py", (1, 1))
    assert packed(root)[0] == first
    assert packed(source(tmp_path / "b"))[0] == first, "another copy of the same source"
    (root / "debug.log").write_text("ignored\n")
    assert packed(root)[0] == first, "an ignored file does not count"
    (root / "run.sh").chmod(0o644)
    assert packed(root)[0] != first
    (root / "run.sh").chmod(0o755)
    (root / "src" / "app.py").write_text("print('bye')\n")
    assert packed(root)[0] != first


def test_a_missing_directory_or_dockerfile_is_refused(tmp_path):
    with pytest.raises(ContextError, match="is not a directory"):
        pack(str(tmp_path / "nowhere"), "Dockerfile", io.BytesIO())
    with pytest.raises(ContextError, match="has no Dockerfile.prod"):
        pack(str(source(tmp_path / "a")), "Dockerfile.prod", io.BytesIO())

"""The changelog fragments make a Markdown CHANGELOG.md with a release summary (antsibull-changelog,
run for real on a copy: a release consumes the fragments)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_a_release_writes_markdown_with_the_release_summary(tmp_path):
    copy = tmp_path / "ansible_collections" / "sentinel" / "paas"
    for name in ("changelogs", "plugins", "roles", "meta"):
        shutil.copytree(ROOT / name, copy / name)
    shutil.copy(ROOT / "galaxy.yml", copy)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_COLLECTIONS_PATH": str(tmp_path)}
    for command in (["lint"], ["release", "--version", "0.1.0", "--date", "2026-12-05"]):
        run = subprocess.run(
            [BIN / "antsibull-changelog", *command], cwd=copy, env=env, capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
    changelog = (copy / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Sentinel PaaS Release Notes")
    assert "## v0\\.1\\.0" in changelog and "### Release Summary" in changelog
    assert not (copy / "CHANGELOG.rst").exists()

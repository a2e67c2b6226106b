"""The AWX execution environment definition and the collection's own EE metadata, read by the real
ansible-builder (no image is built: its base image cannot be pulled here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILDER = Path(sys.executable).parent / "ansible-builder"


def test_the_execution_environment_builds_a_context_with_what_the_modules_need(tmp_path):
    run = subprocess.run(
        [BUILDER, "create", "-f", ROOT / "execution-environment.yml", "--context", tmp_path],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    python = (tmp_path / "_build" / "requirements.txt").read_text()
    assert {"docker>=7.1", "requests>=2.31", "PyYAML>=6", "bcrypt>=4"} <= set(python.splitlines())
    galaxy = yaml.safe_load((tmp_path / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in galaxy["collections"]] == ["community.docker"]
    assert "ansible-core" in (tmp_path / "Dockerfile").read_text()


def test_an_ee_with_the_collection_installed_learns_its_python_needs(tmp_path):
    # playbooks/collections holds sentinel.paas as it is installed (ansible_collections/sentinel/paas).
    run = subprocess.run(
        [BUILDER, "introspect", ROOT / "playbooks" / "collections"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    found = yaml.safe_load(run.stdout)["python"]
    # PyYAML is not listed: ansible-builder leaves out what ansible-core itself requires.
    assert found == [
        "docker>=7.1  # from collection sentinel.paas",
        "requests>=2.31  # from collection sentinel.paas",
        "bcrypt>=4  # from collection sentinel.paas",
    ]


def test_awx_project_sync_installs_what_the_collection_depends_on():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    synced = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())["collections"]
    assert {c["name"]: c["version"] for c in synced} == galaxy["dependencies"]

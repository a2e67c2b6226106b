"""The collection as AWX and a user without a checkout get it, run against the real 3-node test Swarm.

The collection tarball is built and installed into an empty collections path; the CLI is installed on
its own (pip, not editable) beside it. Nothing below runs a playbook from the checkout:
- ansible-runner, as AWX does, runs sentinel.paas.deploy, .canary and .destroy by their names, with an
  inventory and extra vars only;
- the installed CLI finds the installed collection's playbooks and lists the app.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import ansible_runner
import pytest

from tests.harness.ansible import BIN, ROOT, plain
from tests.harness.http import Edge

pytestmark = pytest.mark.cluster

APP = "awx"
DOMAIN = "awx.sentinel.test"


def step(*cmd) -> None:
    """One install step; its output only when it fails (pip's build warnings are noise otherwise)."""
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(collections path, CLI site dir): both installed from this checkout, without it."""
    root = tmp_path_factory.mktemp("installed")
    step(BIN / "ansible-galaxy", "collection", "build", "--output-path", root, ROOT)
    tarball = next(root.glob("sentinel-paas-*.tar.gz"))
    collections = root / "collections"
    # --no-deps: community.docker comes with the ansible package (Galaxy is out of reach here); --force:
    # install even where Ansible already sees a sentinel.paas (this checkout, through ansible-lint's cache).
    step(BIN / "ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", collections, tarball)
    source = root / "source"  # what pip builds the CLI from: its package and metadata, not the collection
    shutil.copytree(ROOT / "src" / "sentinel_cli", source / "src" / "sentinel_cli")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    site = root / "cli"
    step(BIN / "pip", "install", "-q", "--no-deps", "--target", site, source)
    return collections, site


def run_installed(ansible, installed, name: str, extravars: dict) -> ansible_runner.Runner:
    collections, site = installed
    private = site.parent / "runner"  # ansible-runner's own files (artifacts, the extra vars it writes)
    private.mkdir(exist_ok=True)
    return ansible_runner.run(
        private_data_dir=str(private),
        playbook=f"sentinel.paas.{name}",
        inventory=str(ansible.inventory_path),
        extravars=extravars,
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_PIPELINING": "True",
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # this venv's ansible-playbook
        },
        quiet=True,
    )


def failures(runner: ansible_runner.Runner) -> str:
    """What went wrong: the failed tasks' messages, else the end of the run's output."""
    failed = [e["event_data"]["res"].get("msg", "") for e in runner.events if e.get("event") == "runner_on_failed"]
    return "; ".join(failed) or runner.stdout.read()[-3000:]


def test_awx_runs_the_installed_playbooks_with_extra_vars_only(platform, ansible, installed):
    image = platform.image("sentinel-test/todo:1")
    try:
        deploy = run_installed(
            ansible, installed, "deploy", {"app": APP, "image": image, "domains": DOMAIN, "tls": False}
        )
        assert deploy.rc == 0, failures(deploy)
        played = [e["event_data"].get("playbook", "") for e in deploy.events if e.get("event") == "playbook_on_start"]
        assert played and all(str(installed[0]) in path for path in played), played
        edge = Edge(platform.manager.ip, DOMAIN)
        assert edge.version() == "1"

        canary = run_installed(
            ansible, installed, "canary", {"app": APP, "image": platform.image("sentinel-test/todo:2"), "weight": 50}
        )
        assert canary.rc == 0, failures(canary)
        edge.wait_until("both versions answering", lambda e: set(e.versions(40)) == {"1", "2"}, timeout=30)
    finally:
        destroy = run_installed(ansible, installed, "destroy", {"app": APP})
    assert destroy.rc == 0, failures(destroy)
    assert not [s.name for s in platform.manager.client.services.list() if s.name.startswith(f"{APP}-")]


def test_the_cli_installed_on_its_own_runs_the_installed_playbooks(platform, ansible, installed, tmp_path):
    collections, site = installed
    env = {**plain(ansible.env()), "PYTHONPATH": str(site), "ANSIBLE_COLLECTIONS_PATH": str(collections)}
    env.pop("SENTINEL_HOME", None)
    where = subprocess.run(
        [BIN / "python", "-c", "from sentinel_cli import project; print(project.PLAYBOOKS)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip() == str(collections / "ansible_collections" / "sentinel" / "paas" / "playbooks")
    run = subprocess.run(
        [site / "bin" / "sentinel", "-i", ansible.inventory_path, "-o", "json", "apps"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "apps" in json.loads(run.stdout), run.stdout

"""Every role's Molecule scenario (extensions/molecule/), run whole: create, prepare, converge,
idempotence, verify (pytest-testinfra), destroy, on Docker-in-Docker nodes the docker driver makes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import docker
import docker.errors
import pytest
import yaml

from tests.harness.ansible import BIN, ROOT

pytestmark = pytest.mark.cluster

SCENARIOS = sorted(p.parent for p in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))
TEST_IMAGES = "sentinel-test/"  # built offline by make images (tests/harness/images.py)
NODE_IMAGE = f"{TEST_IMAGES}node:latest"  # every scenario's nodes (extensions/molecule/config.yml)


def images(scenario: Path) -> set[str]:
    """The images the scenario's prepare copies from the host engine into its nodes."""
    group_vars = yaml.safe_load((scenario / "molecule.yml").read_text())["provisioner"]["inventory"]["group_vars"]
    return {image for variables in group_vars.values() for image in variables.get("molecule_images", [])}


def missing(scenario: Path) -> list[str]:
    host = docker.from_env()
    absent = []
    for image in sorted(images(scenario) | {NODE_IMAGE}):
        try:
            host.images.get(image)
        except docker.errors.ImageNotFound:
            absent.append(image)
    return absent


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.name)
def test_scenario(scenario):
    absent = missing(scenario)
    ours = [image for image in absent if image.startswith(TEST_IMAGES)]
    assert not ours, f"{ours} missing: make images builds them"
    if absent:  # an official image, which only a registry could give
        pytest.skip(f"{', '.join(absent)} is not on the host engine, and no registry is reachable here to pull it")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    run = subprocess.run(
        [BIN / "molecule", "test", "-s", scenario.name],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    # The verifier's pytest summary: some tests passed, none was skipped or failed.
    output = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)  # colours, should any come through
    summary = re.findall(r"=+ (\d+ \w+.*? in [0-9.]+s)", output)
    assert summary and re.fullmatch(r"\d+ passed in [0-9.]+s", summary[-1]), summary

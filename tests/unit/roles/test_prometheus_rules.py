"""The shipped alert rules, unit-tested by a real promtool (`promtool test rules`).

promtool runs inside the Prometheus test image (Debian's Prometheus, the same promtool the
role's `validate:` uses), so the host engine must answer and the image must exist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

docker = pytest.importorskip("docker")

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "roles" / "prometheus" / "files" / "sentinel.rules.yml"
RULE_TESTS = Path(__file__).parent / "prometheus" / "sentinel.rules.test.yml"
IMAGE = "sentinel-test/prometheus:latest"


@pytest.fixture(scope="module")
def promtool():
    try:
        client = docker.from_env()
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{IMAGE} is not built on this machine: run `python -m tests.harness images`")
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine answers, promtool cannot run: {exc}")

    def run(workdir: Path, *args: str) -> tuple[int, str]:
        container = client.containers.run(
            IMAGE,
            list(args),
            entrypoint="promtool",
            working_dir="/rules",
            volumes={str(workdir): {"bind": "/rules", "mode": "ro"}},
            network_mode="none",
            detach=True,
        )
        try:
            status = container.wait(timeout=60)["StatusCode"]
            return status, container.logs().decode()
        finally:
            container.remove(force=True)

    return run


@pytest.fixture
def workdir(tmp_path):
    tmp_path.chmod(0o755)
    for source in (RULES, RULE_TESTS):
        shutil.copy(source, tmp_path / source.name)
        (tmp_path / source.name).chmod(0o644)
    return tmp_path


def test_rules_are_valid(promtool, workdir):
    status, output = promtool(workdir, "check", "rules", RULES.name)
    assert status == 0, output
    assert "SUCCESS: 7 rules found" in output  # 3 recording rules, 4 alerts


def test_rules_behave_as_their_unit_tests_say(promtool, workdir):
    status, output = promtool(workdir, "test", "rules", RULE_TESTS.name)
    assert status == 0, output
    assert "SUCCESS" in output


def test_the_rule_tests_can_fail(promtool, workdir):
    """A margin of 50 points instead of 5 must break the canary test: the tests really look."""
    rules = workdir / RULES.name
    rules.write_text(rules.read_text().replace("+ 0.05)", "+ 0.50)"))
    status, output = promtool(workdir, "test", "rules", RULE_TESTS.name)
    assert status != 0
    assert "CanaryErrorRateAboveProduction" in output

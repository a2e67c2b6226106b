"""Role files rendered the way the roles render them: by Ansible, with the collection's filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def _run_playbook(plays: list[dict], workdir: Path, name: str) -> None:
    """ansible-playbook on localhost, with the collection importable as sentinel.paas (the committed
    symlink under playbooks/collections), so the roles' filters resolve as in a real run."""
    path = workdir / f"{name}.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "playbooks" / "collections"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(path)]
    cmd += ["-e", f"ansible_python_interpreter={sys.executable}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir, check=False, timeout=120)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _role_vars_files(roles) -> list[str]:
    return [str(ROLES / role / kind / "main.yml") for role in roles for kind in ("defaults", "vars")]


def render_role_template(role: str, template: str, dest: Path) -> Path:
    """``dest``, rendered from roles/ROLE/templates/TEMPLATE with the role's defaults and vars."""
    task = {"src": str(ROLES / role / "templates" / template), "dest": str(dest), "mode": "0644"}
    play = {
        "name": f"Render {role}/{template}",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": _role_vars_files([role]),
        "tasks": [{"name": "Render", "ansible.builtin.template": task}],
    }
    _run_playbook([play], dest.parent, f"render-{role}")
    return dest


def _role_variables(roles, names, workdir: Path, extra_vars: dict | None = None) -> dict:
    """The values of the roles' variables ``names``, templated by Ansible with the roles' defaults and vars."""
    out = workdir / "variables.json"
    play = {
        "name": "Template role variables",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": _role_vars_files(roles),
        "tasks": [
            {
                "name": "Write them",
                # Task vars: above the defaults, which vars_files loads here.
                "vars": {**(extra_vars or {}), "__wanted": {name: f"{{{{ {name} }}}}" for name in names}},
                "ansible.builtin.copy": {"content": "{{ __wanted | to_json }}", "dest": str(out), "mode": "0644"},
            }
        ],
    }
    _run_playbook([play], workdir, "variables")
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def prometheus_rules(tmp_path_factory) -> Path:
    """roles/prometheus/templates/sentinel.rules.yml.j2 as the role writes it: sentinel.rules.yml."""
    workdir = tmp_path_factory.mktemp("prometheus-rules")
    return render_role_template("prometheus", "sentinel.rules.yml.j2", workdir / "sentinel.rules.yml")


@pytest.fixture(scope="session")
def alertmanager_config(tmp_path_factory) -> Path:
    """roles/alertmanager/templates/alertmanager.yml.j2 as the role writes it: alertmanager.yml."""
    workdir = tmp_path_factory.mktemp("alertmanager")
    return render_role_template("alertmanager", "alertmanager.yml.j2", workdir / "alertmanager.yml")


@pytest.fixture(scope="session")
def role_variables():
    """role_variables(roles, names, workdir, extra_vars): the roles' variables as Ansible templates them."""
    return _role_variables


PROMETHEUS_IMAGE = "sentinel-test/prometheus:latest"
ALERTMANAGER_IMAGE = "sentinel-test/alertmanager:latest"


def _tool_in_image(image: str, tool: str):
    """run(workdir, *args) -> (status, output): ``tool`` inside ``image`` (the one the role's `validate:` runs),
    with ``workdir`` at /rules. Skipped without an engine or the image."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{image} is not built on this machine: run `python -m tests.harness images`")
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine answers, {tool} cannot run: {exc}")

    def run(workdir: Path, *args: str) -> tuple[int, str]:
        container = client.containers.run(
            image,
            list(args),
            entrypoint=tool,
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


@pytest.fixture(scope="session")
def promtool():
    """promtool inside the Prometheus test image (Debian's Prometheus)."""
    return _tool_in_image(PROMETHEUS_IMAGE, "promtool")


@pytest.fixture(scope="session")
def amtool():
    """amtool inside the Alertmanager test image (Debian's Alertmanager)."""
    return _tool_in_image(ALERTMANAGER_IMAGE, "amtool")

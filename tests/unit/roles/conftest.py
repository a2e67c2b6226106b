"""Role files rendered the way the roles render them: by Ansible, with the collection's filters."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# -- a role's standalone program (roles/*/files/*.py), as the test module's PROGRAM ------------------
@pytest.fixture(scope="module")
def program(request):
    """The test module's PROGRAM imported, not run: its functions and server, tested in-process."""
    spec = importlib.util.spec_from_file_location(request.module.PROGRAM.stem, request.module.PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def free_port() -> int:
    """A local port nothing listens on: for a program that takes its port from the environment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _running_program(path: Path, env: dict[str, str], ready: Callable[[], object]) -> Iterator[subprocess.Popen]:
    """``path`` run as its service runs it, with ``env`` over this environment, once ``ready()`` holds (it
    raises ConnectionRefusedError until the program listens; 10 s at most). On leaving, SIGTERM, as Swarm
    stops a task: the program must exit at once, cleanly, having written nothing."""
    process = subprocess.Popen(
        [sys.executable, str(path)], env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert ready()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.05)
        yield process
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=5)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert (stdout, stderr) == (b"", b"")


@pytest.fixture(scope="session")
def running_program():
    """running_program(path, env, ready): a context manager, the program running as a service (see
    _running_program); a fixture, as ``from conftest import`` may find another directory's conftest."""
    return _running_program


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


@pytest.fixture(scope="session")
def shell_in_prometheus_image():
    """A shell in the Prometheus test image, for promtool check metrics (it reads stdin only);
    skipped as the promtool fixture is, through the same helper."""
    return _tool_in_image(PROMETHEUS_IMAGE, "sh")

"""Run the collection's modules and playbooks against a test cluster, as a user would.

Everything goes through the real ``ansible`` / ``ansible-playbook`` commands with the json
callback, so tests see exactly the results (changed, diff, msg) a user or AWX sees.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ansible_mitogen
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
BIN = Path(sys.executable).parent
# Playbooks run with Mitogen: one Python per node for the whole run instead of unpacking and
# importing each task's module anew, so a task costs the node about a seventh of the CPU (and CPU
# is what bounds CI).
MITOGEN = {
    "ANSIBLE_STRATEGY_PLUGINS": str(Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"),
    "ANSIBLE_STRATEGY": "mitogen_linear",
    # Mitogen lists every installed collection for each task (the ansible package brings over ninety: about a
    # fifth of the controller's CPU an operation), so its runs see only the ones they use (THIRD_PARTY).
    "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
}
# Besides ours: community.docker, which the playbooks use, and ansible.posix, whose json output the harness reads.
THIRD_PARTY = ("community/docker", "ansible/posix")


@functools.cache
def third_party_collections() -> Path:
    """A collections path holding only THIRD_PARTY: links to where Python finds them (the ansible package)."""
    installed = importlib.util.find_spec("ansible_collections").submodule_search_locations
    venv = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]  # one path per venv, linked to its own
    path = Path(tempfile.gettempdir()) / f"sentinel-test-collections-{venv}"
    for name in THIRD_PARTY:
        target = next(Path(root) / name for root in installed if (Path(root) / name).is_dir())
        link = path / "ansible_collections" / name
        if not (link.is_symlink() and link.readlink() == target):  # new, or left by an older install
            link.parent.mkdir(parents=True, exist_ok=True)
            staged = link.with_name(f".{link.name}-{os.getpid()}")
            staged.symlink_to(target)
            os.replace(staged, link)  # atomic: another test worker may be doing the same
    return path


def plain(env: dict) -> dict:
    """``env`` for plain Ansible, as users run it: where the tests look at Ansible itself (its -vvv output, a
    run killed midway), and for one ad hoc module call, which is cheaper without Mitogen's start."""
    return {key: value for key, value in env.items() if key not in MITOGEN}


@dataclass
class ModuleResult:
    """One host's result of one module call."""

    host: str
    raw: dict

    @property
    def changed(self) -> bool:
        return bool(self.raw.get("changed"))

    @property
    def failed(self) -> bool:
        return bool(self.raw.get("failed")) or bool(self.raw.get("unreachable"))

    @property
    def msg(self) -> str:
        return str(self.raw.get("msg", ""))

    def __getitem__(self, key):
        return self.raw[key]

    def get(self, key, default=None):
        return self.raw.get(key, default)


@dataclass
class PlaybookRun:
    returncode: int
    output: dict  # the json callback document
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def results(self, task_name: str, host: str | None = None) -> list[ModuleResult]:
        """Results of every task whose name is ``task_name`` (per host)."""
        found = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] != task_name:
                    continue
                for h, raw in task["hosts"].items():
                    if host is None or h == host:
                        found.append(ModuleResult(h, raw))
        return found

    @property
    def failures(self) -> list[str]:
        msgs = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                for h, raw in task["hosts"].items():
                    if raw.get("failed") or raw.get("unreachable"):
                        msgs.append(f"{task['task']['name']} on {h}: {raw.get('msg')}")
        return msgs

    @property
    def changed_tasks(self) -> list[str]:
        names = []
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                if any(raw.get("changed") for raw in task["hosts"].values()):
                    names.append(task["task"]["name"])
        return names


class Ansible:
    """Ansible commands bound to one inventory."""

    def __init__(self, inventory: dict, workdir: Path | None = None, mitogen: bool = True):
        self.mitogen = mitogen
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="sentinel-ansible-"))
        self.inventory_path = self.workdir / "inventory.yml"
        self.inventory_path.write_text(yaml.safe_dump(inventory))

    def set_vars(self, **variables) -> None:
        """Change variables of the inventory's group ``all``, for every later command (the CLI's too)."""
        inventory = yaml.safe_load(self.inventory_path.read_text())
        inventory["all"]["vars"].update(variables)
        self.inventory_path.write_text(yaml.safe_dump(inventory))

    def env(self, **extra: str) -> dict:
        env = dict(os.environ)
        env.update(
            ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(map(str, [PLAYBOOKS / "collections", third_party_collections()])),
            ANSIBLE_STDOUT_CALLBACK="json",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_RETRY_FILES_ENABLED="False",
            ANSIBLE_NOCOLOR="1",
            # Without Mitogen (ad hoc calls), modules go over stdin instead of being copied in.
            ANSIBLE_PIPELINING="True",
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"),
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            **(MITOGEN if self.mitogen else {}),
        )
        env.update(extra)
        return env

    def module(
        self,
        module: str,
        args: dict,
        hosts: str = "managers[0]",
        check: bool = False,
        diff: bool = False,
    ) -> ModuleResult:
        """Run one module ad hoc (``ansible HOSTS -m MODULE -a JSON``) on the first matching host."""
        cmd = [str(BIN / "ansible"), hosts, "-i", str(self.inventory_path), "-m", module, "-a", json.dumps(args)]
        cmd += ["--check"] * check + ["--diff"] * diff
        proc = subprocess.run(cmd, capture_output=True, text=True, env=plain(self.env()), cwd=self.workdir, check=False)
        output = _json_document(proc.stdout, proc.stderr)
        task = output["plays"][0]["tasks"][0]
        host, raw = next(iter(task["hosts"].items()))
        return ModuleResult(host, raw)

    def playbook(
        self,
        playbook: str | Path,
        extra_vars: dict | None = None,
        check: bool = False,
        diff: bool = False,
        limit: str | None = None,
    ) -> PlaybookRun:
        """Run a playbook: a name under playbooks/ (``deploy.yml``) or a path."""
        path = Path(playbook)
        if not path.is_absolute():
            path = PLAYBOOKS / playbook
        cmd = [str(BIN / "ansible-playbook"), str(path), "-i", str(self.inventory_path)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += ["--check"] * check + ["--diff"] * diff
        if limit:
            cmd += ["--limit", limit]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), cwd=self.workdir, check=False)
        return PlaybookRun(proc.returncode, _json_document(proc.stdout, proc.stderr), proc.stderr)


def _json_document(stdout: str, stderr: str) -> dict:
    """The json callback prints one document; anything before it is warnings."""
    start = stdout.find("{")
    if start < 0:
        raise RuntimeError(f"ansible printed no JSON result.\nstdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}")
    return json.loads(stdout[start:])

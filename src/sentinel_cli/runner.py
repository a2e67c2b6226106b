"""Run one playbook with ansible-runner, stream progress, and collect its result.

Playbooks hand their result to the CLI with ``ansible.builtin.set_stats`` under the key
``sentinel_result``; failures come back as the failing task's message, in one line.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

from . import project


@dataclass
class Options:
    """The global options every command passes through to ansible-playbook."""

    inventory: Path
    limit: str | None = None
    check: bool = False
    diff: bool = False
    verbose: int = 0


@dataclass
class Outcome:
    ok: bool
    result: dict = field(default_factory=dict)  # what the playbook reported with set_stats
    errors: list[str] = field(default_factory=list)
    changed: int = 0
    seconds: float = 0.0


class ProgressPrinter:
    """Turns runner events into one line per task that ran (skipped ones stay quiet), with its time."""

    def __init__(self, say: Callable[[str], None], verbose: int):
        self.say = say
        self.verbose = verbose
        self.failures: dict[str, str] = {}  # host -> the last failure, the one that ended its run
        self.result: dict = {}
        self.changed = 0
        self._task, self._task_started, self._task_reported = "", 0.0, True

    def __call__(self, event: dict) -> bool:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_task_start":
            self._task, self._task_started, self._task_reported = data.get("task", ""), time.monotonic(), False
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            changed = bool(data.get("res", {}).get("changed"))
            self.changed += changed
            self._report_task(changed, data.get("host", ""))
            if kind != "runner_on_ok" and not data.get("ignore_errors"):
                # A rescued failure is followed by the rescue's own, clearer one: keep the last.
                self.failures[data.get("host", "")] = _failure_message(data)
        elif kind == "playbook_on_stats":
            self.result = (data.get("artifact_data") or {}).get("sentinel_result", {})
        return True  # keep the event in the artifacts

    def _report_task(self, changed: bool, host: str) -> None:
        if self._task_reported and not self.verbose:
            return
        self._task_reported = True
        mark = "changed" if changed else "ok"
        where = f" on {host}" if self.verbose else ""
        self.say(f"  {self._task}  ({mark}{where}, {time.monotonic() - self._task_started:.1f} s)")


def _failure_message(data: dict) -> str:
    res = data.get("res", {})
    msg = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
    if isinstance(msg, list):
        msg = "; ".join(str(m) for m in msg)
    return " ".join(str(msg).split())  # one readable line


def run(name: str, extravars: dict, options: Options, say: Callable[[str], None]) -> Outcome:
    """Run playbooks/<name> and return what happened."""
    printer = ProgressPrinter(say, options.verbose)
    cmdline = []
    if options.check:
        cmdline.append("--check")
    if options.diff:
        cmdline.append("--diff")
    if options.verbose > 1:
        cmdline.append("-" + "v" * (options.verbose - 1))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sentinel-run-") as private:
        runner = ansible_runner.run(
            private_data_dir=private,
            project_dir=str(project.PLAYBOOKS),
            playbook=str(project.playbook(name)),
            inventory=str(options.inventory),
            limit=options.limit,
            extravars=extravars,
            cmdline=" ".join(cmdline) or None,
            envvars={
                # The ansible-playbook installed beside this CLI, whether or not its venv is activated.
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
                "ANSIBLE_COLLECTIONS_PATH": str(project.COLLECTIONS),
                # ansible-runner's event callback wraps this one; another inherited from the caller's
                # environment (json, say) would starve it of task events and so of error messages.
                "ANSIBLE_STDOUT_CALLBACK": "default",
                "ANSIBLE_HOST_KEY_CHECKING": "False",
                # One round trip per module instead of copy-then-run: inspect feels instant.
                "ANSIBLE_PIPELINING": "True",
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "False",
            },
            event_handler=printer,
            quiet=True,
            suppress_env_files=True,
        )
    ok = runner.rc == 0  # failures the playbook rescued or ignored do not count
    errors = [] if ok else sorted(set(printer.failures.values())) or [f"ansible-playbook exited {runner.rc}"]
    return Outcome(ok, printer.result, errors, printer.changed, time.monotonic() - started)

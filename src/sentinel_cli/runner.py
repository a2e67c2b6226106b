"""Run one playbook with ansible-playbook, stream its progress, and collect its result.

Playbooks hand their result to the CLI with ``ansible.builtin.set_stats`` under the key
``sentinel_result``; failures come back as the failing task's message, in one line. Both
arrive as they happen, through the sentinel_events callback and a pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import module_zips, project
from .progress import ProgressPrinter

CALLBACK_PLUGINS = Path(__file__).resolve().parent / "callback_plugins"
EVENTS_CALLBACK = "sentinel_events"
# Prints nothing itself, so ansible-playbook's stdout carries only what plugins display as they work (a build's
# output lines), which the CLI shows under the task's progress.
QUIET_CALLBACK = "sentinel_quiet"
EVENT_MARK = "\x1e"  # starts each event's line (RFC 7464's record separator); other lines are what plugins displayed
ANSIBLE_OUTPUT = 2  # our stderr, where Ansible's own output goes when it is shown
ANSIBLE_PLAYBOOK = [sys.executable, "-P", "-m", "sentinel_cli.ansible_playbook"]


@dataclass
class Options:
    """The global options every command passes through to ansible-playbook."""

    inventory: Path
    limit: str | None = None
    check: bool = False
    diff: bool = False
    verbose: int = 0

    @property
    def shows_ansible_output(self) -> bool:
        """-vv and more: Ansible's own output goes to our stderr, beside the progress lines."""
        return self.verbose > 1


@dataclass
class Outcome:
    ok: bool
    result: dict = field(default_factory=dict)  # what the playbook reported with set_stats
    errors: list[str] = field(default_factory=list)
    changed: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # the modules', for the user to read even when it went well


def run(name: str, extravars: dict, options: Options, say: Callable[[str], None]) -> Outcome:
    """Run playbooks/<name> and return what happened."""
    try:
        playbook = project.playbook(name)
    except FileNotFoundError as exc:  # a CLI installed without the collection
        return Outcome(False, errors=[str(exc)])
    printer = ProgressPrinter(say, options.verbose)
    started = time.monotonic()
    # The local inventory's modules run on this Python: their zips may carry its bytecode (module_zips.py).
    bytecode = options.inventory.resolve() == project.LOCAL_INVENTORY.resolve()
    with tempfile.TemporaryDirectory(prefix="sentinel-run-") as private:  # only we can read it
        # Extra vars may hold secrets: in a file, never on a command line that ps shows.
        extravars_file = Path(private) / "extravars.yml"
        extravars_file.write_text(literal_yaml(extravars))
        stderr_file = Path(private) / "stderr"
        with stderr_file.open("w") as stderr:
            cmd = command(playbook, options, extravars_file)
            if options.shows_ansible_output:
                returncode = _play(cmd, printer, ANSIBLE_OUTPUT, shows_ansible_output=True, module_bytecode=bytecode)
            else:  # stderr kept for the errors Ansible reports outside any task
                returncode = _play(cmd, printer, stderr, shows_ansible_output=False, module_bytecode=bytecode)
        stderr_errors = _ansible_errors(stderr_file.read_text())
    ok = returncode == 0  # failures the playbook rescued or ignored do not count
    errors = printer.errors or stderr_errors or [f"ansible-playbook exited {returncode}"]
    seconds = time.monotonic() - started
    return Outcome(ok, printer.result, [] if ok else errors, printer.changed, seconds, printer.warnings)


def literal_yaml(value) -> str:
    """``value`` as YAML whose strings Ansible reads as they are (``!unsafe``): the user's words (an env value,
    SQL) are never templates, so ``{{`` in them is kept, not evaluated on this machine."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {literal_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal_yaml(v) for v in value) + "]"
    if isinstance(value, str):
        return f"!unsafe {json.dumps(value)}"
    return json.dumps(value)


def command(playbook: Path, options: Options, extravars_file: Path) -> list[str]:
    # ansible-playbook of this CLI's Python, through ansible_playbook.py; -P: the playbooks directory it runs in is not
    # on its import path. The inventory is absolute for the same reason.
    cmd = [*ANSIBLE_PLAYBOOK, "-i", str(options.inventory.resolve()), "-e", f"@{extravars_file}"]
    if options.limit:
        cmd += ["--limit", options.limit]
    cmd += ["--check"] * options.check + ["--diff"] * options.diff
    if options.verbose > 1:
        cmd.append("-" + "v" * (options.verbose - 1))
    return [*cmd, str(playbook)]


def environment(events_fd: int, stdout_callback: str, module_bytecode: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # Ansible's programs installed beside this CLI, whether or not its venv is activated.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            # Ours first; the caller's paths stay (community.docker may be installed there).
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
                filter(None, [str(project.COLLECTIONS), env.get("ANSIBLE_COLLECTIONS_PATH")])
            ),
            "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join(
                filter(None, [str(CALLBACK_PLUGINS), env.get("ANSIBLE_CALLBACK_PLUGINS")])
            ),
            "ANSIBLE_CALLBACKS_ENABLED": ",".join(
                filter(None, [env.get("ANSIBLE_CALLBACKS_ENABLED"), EVENTS_CALLBACK])
            ),
            "SENTINEL_EVENTS_FD": str(events_fd),
            # What -vv shows, as it happens; the caller's (json, say) might print only at the end.
            "ANSIBLE_STDOUT_CALLBACK": stdout_callback,
            # One round trip per module instead of copy-then-run: inspect feels instant. The local inventory turns it
            # off (ansible_pipelining): no round trip to save there, and Python reads a file faster than its stdin.
            "ANSIBLE_PIPELINING": "True",
            module_zips.BYTECODE_VARIABLE: "1" if module_bytecode else "",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "False",
        }
    )
    # The CLI shows the modules' warnings; the one of every run about the interpreter Ansible found is noise.
    env.setdefault("ANSIBLE_PYTHON_INTERPRETER", "auto_silent")
    return env


def _play(cmd: list[str], printer: ProgressPrinter, stderr, shows_ansible_output: bool, module_bytecode: bool) -> int:
    """Run ansible-playbook, handing on each event as it comes; return its exit code.

    Below -vv, its stdout goes into the events' pipe, so the lines plugins display while a task runs (a build's
    output) arrive in their place among the events, which are marked."""
    events, events_for_ansible = os.pipe()
    with open(events, encoding="utf-8", errors="replace") as lines:
        try:
            process = subprocess.Popen(
                cmd,
                cwd=project.PLAYBOOKS,
                env=environment(
                    events_for_ansible, "default" if shows_ansible_output else QUIET_CALLBACK, module_bytecode
                ),
                pass_fds=(events_for_ansible,),
                stdin=subprocess.DEVNULL,
                stdout=ANSIBLE_OUTPUT if shows_ansible_output else events_for_ansible,
                stderr=stderr,
            )
        finally:
            os.close(events_for_ansible)  # ansible-playbook has its own copies: the pipe ends when it does
        with process:
            for line in lines:
                if line.startswith(EVENT_MARK):
                    printer(json.loads(line[1:]))
                else:
                    printer.output(line)
    return process.returncode


def _ansible_errors(stderr: str) -> list[str]:
    """Ansible's own errors, outside any task: a playbook that does not parse, an interrupted run."""
    prefixes = ("[ERROR]: ", "ERROR! ")  # ansible-core 2.19, 2.18
    return [line.split(" ", 1)[1] for line in stderr.splitlines() if line.startswith(prefixes)]

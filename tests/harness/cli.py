"""Run the real ``sentinel`` command against a test cluster, as a user would."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .ansible import BIN, plain


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def data(self) -> dict:
        """The JSON document printed with --output json."""
        return json.loads(self.stdout)

    @property
    def error(self) -> str:
        """What the user reads when it failed: the JSON errors, else stderr."""
        try:
            return "; ".join(self.data.get("errors", []))
        except ValueError:
            return self.stderr


class Sentinel:
    def __init__(self, inventory: Path, env: dict):
        self.inventory = inventory
        self.env = env

    def __call__(self, *args: str, json_output: bool = True, timeout: float = 600) -> CliRun:
        cmd = [str(BIN / "sentinel"), "-i", str(self.inventory)]
        cmd += ["-o", "json"] if json_output else []
        env = plain(self.env) if any(arg.startswith("-vv") for arg in args) else self.env  # Ansible's own output
        started = time.monotonic()
        proc = subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)
        print(f"sentinel {' '.join(args)}: {time.monotonic() - started:.1f} s", file=sys.stderr)
        return CliRun(proc.returncode, proc.stdout, proc.stderr)

    def timed(self, *args: str, timeout: float = 600) -> tuple[CliRun, list[tuple[float, str]]]:
        """As a call in text output (which narrates on stderr), with each line of stderr and the seconds since the start
        when it came; the last entry is ("", when the command ended). Plain Ansible, as a user runs it: mitogen runs
        one call at a time per host, so what a plugin shows while its module runs comes only at the end."""
        cmd = [str(BIN / "sentinel"), "-i", str(self.inventory), *args]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=plain(self.env))
        stdout: list[str] = []
        reader = threading.Thread(target=lambda: stdout.append(proc.stdout.read()))
        reader.start()
        watchdog = threading.Timer(timeout, proc.kill)  # a hung command ends its output, and the test fails
        watchdog.start()
        lines = [(time.monotonic() - started, line) for line in iter(proc.stderr.readline, "")]
        proc.wait()
        watchdog.cancel()
        reader.join()
        lines.append((time.monotonic() - started, ""))
        return CliRun(proc.returncode, "".join(stdout), "".join(line for _, line in lines)), lines

    def complete(self, line: str) -> list[str]:
        """What Tab offers after `sentinel -i INVENTORY LINE`, asked as bash asks (Click's protocol)."""
        words = ["sentinel", "-i", str(self.inventory), *line.split(" ")]
        env = {**self.env, "COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)}
        env["_SENTINEL_COMPLETE"] = "bash_complete"
        proc = subprocess.run(
            [str(BIN / "sentinel")], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        return [item.partition(",")[2] for item in proc.stdout.splitlines() if item]

    def start(self, *args: str) -> subprocess.Popen:
        """The command running in the background, in a process group of its own (os.killpg kills
        it with the ansible-playbook it runs, as a lost terminal would; plain Ansible, whose processes
        all stay in that group)."""
        cmd = [str(BIN / "sentinel"), "-i", str(self.inventory), "-o", "json", *args]
        return subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=plain(self.env), start_new_session=True
        )

    def in_terminal(self, *args: str, answer: dict[str, str], timeout: float = 120) -> tuple[int, str]:
        """The command on a terminal of its own (a pty), as a user at it: each time its output shows a prompt
        (a regex of ``answer``), that prompt's text is typed, once. (exit code, everything it printed)."""
        primary, secondary = pty.openpty()
        # A terminal of 50 rows: programs page only what a screen cannot hold (psql's pager would take the input).
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        cmd = [str(BIN / "sentinel"), "-i", str(self.inventory), *args]
        proc = subprocess.Popen(cmd, stdin=secondary, stdout=secondary, stderr=secondary, env=self.env)
        os.close(secondary)
        output, pending, deadline = "", dict(answer), time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not select.select([primary], [], [], 0.5)[0]:
                    if proc.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(primary, 65536).decode("utf-8", "replace")
                except OSError:  # EIO: the command's side of the terminal closed
                    break
                output += chunk
                for prompt in [p for p in pending if re.search(p, output)]:
                    os.write(primary, pending.pop(prompt).encode())
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(primary)
        return proc.wait(), output

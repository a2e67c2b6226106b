"""Turn a playbook's events into progress lines, and keep its failures and its result."""

from __future__ import annotations

import time
from collections.abc import Callable

# A task's line shows the worst of its hosts' outcomes. "unreachable" is a host the playbook lets go
# (a manager that is down while the others finish the change).
SEVERITY = {"ok": 0, "changed": 1, "unreachable": 2, "failed": 3}


class ProgressPrinter:
    """One line per task that ran (skipped ones stay quiet): its outcome and time; -v: one per host.

    Takes the events of the sentinel_events callback (see callback_plugins/sentinel_events.py).
    """

    def __init__(self, say: Callable[[str], None], verbose: int):
        self.say = say
        self.verbose = verbose
        self.failures: dict[str, str] = {}  # host -> its last failure, the one that may have ended its run
        self.failed_hosts: list[str] | None = None  # those it did end, as the final stats count them
        self.result: dict = {}
        self.warnings: list[str] = []  # what modules warned of (a backup not copied, receivers not told), once each
        self.changed = 0
        self._task, self._task_started = "", 0.0
        self._announced = None  # the start of the task whose name went before its output
        self._outcome: str | None = None  # of the current task, over the hosts that reported so far
        self._seconds = 0.0

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "task_start":
            self._end_task()
            self._task, self._task_started, self._outcome = event.get("task", ""), time.monotonic(), None
        elif kind in ("ok", "failed", "unreachable"):
            self._host_result(kind, event)
        elif kind == "stats":
            self._end_task()
            self.result = event.get("result") or {}
            self.failed_hosts = event.get("failed_hosts", [])

    def output(self, line: str) -> None:
        """A line a plugin displayed while its task runs (a build's output), shown under the task's name; the task's
        own line, with its outcome, follows when it ends."""
        if not line.strip():
            return
        if self._announced != self._task_started:
            self._announced = self._task_started
            self.say(f"  {self._task} ...")
        self.say(f"    {line.rstrip()}")

    @property
    def errors(self) -> list[str]:
        """What ended the failed hosts' runs; without the stats (an interrupted run), every last failure."""
        hosts = self.failures if self.failed_hosts is None else self.failed_hosts
        return sorted({self.failures[host] for host in hosts if host in self.failures})

    def _host_result(self, kind: str, event: dict) -> None:
        res, host = event.get("res", {}), event.get("host", "")
        changed = bool(res.get("changed"))
        self.changed += changed
        outcome = {"ok": "changed" if changed else "ok", "unreachable": "unreachable"}.get(kind, "failed")
        if kind != "ok" and not event.get("ignore_errors"):
            # A failed rescue's own failure is clearer than the one it rescued: keep the last.
            self.failures[host] = _failure_message(res)
        for warning in res.get("warnings") or []:
            line = _one_line(warning)
            if line not in self.warnings:
                self.warnings.append(line)
        self._seconds = time.monotonic() - self._task_started
        if self.verbose:
            self.say(f"  {self._task}  ({outcome} on {host}, {self._seconds:.1f} s)")
        elif self._outcome is None or SEVERITY[outcome] > SEVERITY[self._outcome]:
            self._outcome = outcome

    def _end_task(self) -> None:
        if self._outcome is not None:
            self.say(f"  {self._task}  ({self._outcome}, {self._seconds:.1f} s)")
        self._outcome = None


def _failure_message(res: dict) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
    if isinstance(msg, list):
        msg = "; ".join(str(m) for m in msg)
    return _one_line(msg)


def _one_line(text) -> str:
    return " ".join(str(text).split())

"""Ansible callback: the playbook's events as JSON lines, read live by the sentinel CLI.

The CLI runs ansible-playbook with this callback enabled and the write end of a pipe in
SENTINEL_EVENTS_FD. One line per event, in order, each after a record separator (\x1e, as in
RFC 7464), since the same pipe may also carry ansible-playbook's stdout (what plugins display):

    {"event": "task_start", "task": NAME}
    {"event": "ok" | "failed" | "unreachable", "task": NAME, "host": HOST,
     "ignore_errors": BOOL, "res": {the result's changed, msg, stderr, reason}}
    {"event": "stats", "result": what the playbook gave set_stats as sentinel_result,
     "failed_hosts": [the hosts whose run a failure ended]}
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: sentinel_events
    type: notification
    short_description: Playbook events as JSON lines, for the sentinel CLI
    description:
      - Writes one JSON line per task start, host result and the final stats to the file
        descriptor in E(SENTINEL_EVENTS_FD).
    requirements:
      - Enabled by the sentinel CLI, which sets E(SENTINEL_EVENTS_FD).
"""

# Enough for a progress line, a one-line error and the modules' warnings: whole results can be large.
SHOWN_KEYS = ("changed", "msg", "stderr", "reason", "warnings")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "sentinel_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Line-buffered, so the CLI reads each event as it happens.
        self._events = open(int(os.environ["SENTINEL_EVENTS_FD"]), "w", buffering=1, encoding="utf-8")  # noqa: SIM115

    def _emit(self, **event) -> None:
        self._events.write("\x1e" + json.dumps(event, default=str) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(event="task_start", task=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._emit(event="task_start", task=task.get_name())

    def v2_runner_on_ok(self, result):
        self._emit_result("ok", result, ignore_errors=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit_result("failed", result, ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._emit_result("unreachable", result, bool(result._task.ignore_unreachable))

    def _emit_result(self, event: str, result, ignore_errors: bool) -> None:
        # The underscored attributes work on ansible-core 2.18 and 2.19 alike.
        res = result._result
        self._emit(
            event=event,
            task=result._task.get_name(),
            host=result._host.get_name(),
            ignore_errors=ignore_errors,
            res={key: res[key] for key in SHOWN_KEYS if key in res},
        )

    def v2_playbook_on_stats(self, stats):
        # Rescued and ignored failures are not counted here.
        failed = {host for counts in (stats.failures, stats.dark) for host, count in counts.items() if count}
        result = stats.custom.get("_run", {}).get("sentinel_result", {})
        self._emit(event="stats", result=result, failed_hosts=sorted(failed))

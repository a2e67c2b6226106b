"""Ansible stdout callback that prints nothing of its own.

The sentinel CLI uses it when it does not show Ansible's output (below -vv): the task events reach the CLI
through sentinel_events, and ansible-playbook's stdout carries only what plugins display as they work (a build's
output lines), which the CLI shows under the running task.
"""

from __future__ import annotations

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: sentinel_quiet
    type: stdout
    short_description: Prints nothing but what plugins display, for the sentinel CLI
    description:
      - A stdout callback with no output of its own, so that only what plugins display reaches stdout.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "sentinel_quiet"

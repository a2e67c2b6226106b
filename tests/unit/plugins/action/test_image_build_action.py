"""image_build's action: when it follows a build, and how it reads the progress file's new lines."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleConnectionFailure
from ansible_collections.sentinel.paas.plugins.action.image_build import ActionModule


class PlainConnection:
    pass


MitogenConnection = type("Connection", (PlainConnection,), {"__module__": "ansible_mitogen.connection"})


def action(connection=None, check_mode=False, no_log=False, answer=None):
    """The action's own logic, without a task executor: only what _follows and _new_lines read."""
    plugin = ActionModule.__new__(ActionModule)
    plugin._connection = connection or PlainConnection()
    plugin._play_context = SimpleNamespace(check_mode=check_mode)
    plugin._task = SimpleNamespace(no_log=no_log)
    plugin.commands = []

    def execute(cmd, sudoable=True):
        plugin.commands.append(cmd)
        if isinstance(answer, Exception):
            raise answer
        return answer

    plugin._low_level_execute_command = execute
    return plugin


@pytest.mark.parametrize(
    ("connection", "check_mode", "no_log", "follows"),
    [
        (PlainConnection(), False, False, True),
        (PlainConnection(), True, False, False),  # nothing is built
        (PlainConnection(), False, True, False),  # nothing is shown
        (MitogenConnection(), False, False, False),  # one call at a time per host: a look would wait for the build
    ],
)
def test_the_build_is_followed_only_where_its_lines_can_come_as_it_runs(connection, check_mode, no_log, follows):
    assert action(connection, check_mode, no_log)._follows() is follows


def test_a_look_takes_the_whole_lines_after_those_shown_and_leaves_a_line_being_written():
    plugin = action(answer={"rc": 0, "stdout": "Step 2/3 : COPY . /app\n ---> 1a2b\nStep 3/3 : RU"})
    assert plugin._new_lines("/tmp/ansible-tmp-1/log", 4) == ["Step 2/3 : COPY . /app", " ---> 1a2b"]
    assert plugin.commands == ["tail -n +5 /tmp/ansible-tmp-1/log"]


@pytest.mark.parametrize(
    "answer",
    [{"rc": 1, "stdout": ""}, AnsibleConnectionFailure("ssh: connection reset")],
    ids=["no file yet", "the look failed"],
)
def test_a_look_that_finds_nothing_shows_nothing_and_the_build_goes_on(answer):
    assert action(answer=answer)._new_lines("/tmp/ansible-tmp-1/log", 0) == []

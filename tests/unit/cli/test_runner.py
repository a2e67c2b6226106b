"""runner.run against this machine: real ansible-playbook, local connection, no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinel_cli import project, runner

INVENTORY = """
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  hosts:
    localhost:
    other:
"""

REPORT = """
- name: Report
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
    - name: Report
      ansible.builtin.set_stats:
        per_host: false
        data:
          sentinel_result:
            password: "{{ password }}"
            given: "{{ given | default(none) }}"
"""

FAILS = """
- name: Fails
  hosts: all
  gather_facts: false
  tasks:
    - name: Try
      block:
        - name: Fail inside the block
          ansible.builtin.fail:
            msg: rescued
      rescue:
        - name: Rescue
          ansible.builtin.debug:
            msg: rescued
    - name: Ignored
      ansible.builtin.fail:
        msg: ignored
      ignore_errors: true
    - name: Break
      ansible.builtin.fail:
        msg: "app   todo\\n not found"
      when: inventory_hostname == "other"
"""

WARNS = """
- name: Warns
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Tell the receivers
      warns: {}
"""

DISPLAYS = """
- name: Displays
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      displays: {}
    - name: Done
      ansible.builtin.debug:
        msg: done
"""

# An action plugin that shows lines as it works, as image_build shows a build's output (action_plugins/).
DISPLAYING_ACTION = """
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        for line in ("Step 1/2 : FROM base", "", "Step 2/2 : RUN make"):
            Display().display(line)
        return {"changed": True}
"""

# A module as Sentinel's warn (notify_event: the receivers were not told), next to the playbook (library/).
WARNING_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={})
module.warn("the receivers were not\\n told of deploy")
module.exit_json(changed=False)
"""


@pytest.fixture
def playbooks(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "PLAYBOOKS", tmp_path)
    (tmp_path / "report.yml").write_text(REPORT)
    (tmp_path / "fails.yml").write_text(FAILS)
    (tmp_path / "broken.yml").write_text("- hosts: localhost\n  tasks: [{name: x\n")
    (tmp_path / "warns.yml").write_text(WARNS)
    (tmp_path / "displays.yml").write_text(DISPLAYS)
    (tmp_path / "action_plugins").mkdir()
    (tmp_path / "action_plugins" / "displays.py").write_text(DISPLAYING_ACTION)
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "warns.py").write_text(WARNING_MODULE)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    return runner.Options(inventory=inventory)


def test_result_progress_and_with_vv_ansible_output_of_a_run(playbooks, capfd):
    playbooks.verbose = 2
    lines = []
    outcome = runner.run("report.yml", {"password": "s3cret"}, playbooks, lines.append)
    assert outcome.ok and outcome.errors == []
    assert outcome.result == {"password": "s3cret", "given": None}  # the extra vars reached the playbook
    assert [line.split(",")[0] for line in lines] == ["  Say hello  (ok on localhost", "  Report  (ok on localhost"]
    assert "PLAY RECAP" in capfd.readouterr().err


def test_what_a_plugin_displays_is_shown_under_its_task_and_nothing_else_of_ansible(playbooks):
    lines = []
    outcome = runner.run("displays.yml", {}, playbooks, lines.append)
    assert outcome.ok
    # Exactly these lines, in this order: nothing of Ansible's own output (TASK [...], PLAY RECAP) below -vv.
    assert [line.split("  (")[0] for line in lines] == [
        "  Build ...",
        "    Step 1/2 : FROM base",  # blank lines are left out
        "    Step 2/2 : RUN make",
        "  Build",
        "  Done",
    ]


def test_a_failed_run_reports_the_task_that_ended_it(playbooks):
    lines = []
    outcome = runner.run("fails.yml", {}, playbooks, lines.append)
    assert not outcome.ok
    assert outcome.errors == ["app todo not found"]  # not localhost's rescued one, nor the ignored ones
    assert [line.split("  (")[1].split(",")[0] for line in lines] == ["failed", "ok", "failed", "failed"]


def test_ansible_errors_outside_any_task_come_back_too(playbooks):
    outcome = runner.run("broken.yml", {}, playbooks, print)
    assert not outcome.ok and len(outcome.errors) == 1 and "YAML" in outcome.errors[0]


def test_the_command_line_carries_the_options_but_never_the_extra_vars(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = runner.Options(inventory=Path("hosts.yml"), limit="node1", check=True, diff=True, verbose=3)
    cmd = runner.command(tmp_path / "apps.yml", options, tmp_path / "extravars.json")
    assert cmd == [
        *runner.ANSIBLE_PLAYBOOK,
        "-i",
        str(tmp_path / "hosts.yml"),  # absolute: ansible-playbook runs in the playbooks directory
        "-e",
        f"@{tmp_path / 'extravars.json'}",
        "--limit",
        "node1",
        "--check",
        "--diff",
        "-vv",
        str(tmp_path / "apps.yml"),
    ]


def test_ssh_host_keys_are_checked_unless_the_user_says_otherwise(monkeypatch):
    monkeypatch.delenv("ANSIBLE_HOST_KEY_CHECKING", raising=False)
    assert "ANSIBLE_HOST_KEY_CHECKING" not in runner.environment(3, runner.QUIET_CALLBACK)  # Ansible's default: checked
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")  # the documented opt-out is kept
    assert runner.environment(3, runner.QUIET_CALLBACK)["ANSIBLE_HOST_KEY_CHECKING"] == "False"


def test_a_playbook_that_is_not_there_is_a_clear_error(playbooks):
    outcome = runner.run("missing.yml", {}, playbooks, print)
    assert not outcome.ok
    assert outcome.errors == [f"playbook {project.PLAYBOOKS / 'missing.yml'} not found: {project.INSTALL_HINT}"]


def test_the_users_words_reach_the_playbook_as_they_are_never_as_templates(playbooks):
    given = {"sql": "SELECT '{{ 7 * 7 }}'", "env": {"A": "{% raw %}x", "B": 'q"\\u00e9\n'}, "keep": 7, "on": True}
    outcome = runner.run("report.yml", {"password": "{{ lookup('env', 'HOME') }}", "given": given}, playbooks, print)
    assert outcome.ok, outcome.errors
    assert outcome.result == {"password": "{{ lookup('env', 'HOME') }}", "given": given}


def test_a_modules_warning_comes_back_in_one_line_from_a_run_that_went_well(playbooks):
    outcome = runner.run("warns.yml", {}, playbooks, lambda line: None)
    assert outcome.ok, outcome.errors
    assert outcome.warnings == ["the receivers were not told of deploy"]


def test_the_interpreter_is_found_without_a_warning_unless_the_user_says_otherwise(monkeypatch):
    monkeypatch.delenv("ANSIBLE_PYTHON_INTERPRETER", raising=False)
    assert runner.environment(3, runner.QUIET_CALLBACK)["ANSIBLE_PYTHON_INTERPRETER"] == "auto_silent"
    monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
    assert runner.environment(3, runner.QUIET_CALLBACK)["ANSIBLE_PYTHON_INTERPRETER"] == "/usr/bin/python3"

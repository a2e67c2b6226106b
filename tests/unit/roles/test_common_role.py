"""roles/_common's task files, run by Ansible against a stand-in for community.docker.

The stand-in (fake_docker/) answers the info modules from a JSON file and records every call, so
these tests see what the waits ask, when they stop, what they report and what they hide, without
a Swarm. The real modules against a real Swarm: tests/integration (test_control_plane.py,
test_monitoring.py).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
FAKE_DOCKER = Path(__file__).parent / "fake_docker"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
JOIN_TOKEN = "SWMTKN-1-fake-join-token-that-must-never-be-printed"


def task(state: str, error: str | None = None, node: str = "n1") -> dict:
    """A task as the Docker API describes it (docker_swarm_info with verbose_output)."""
    status = {"State": state, "Message": state, **({"Err": error} if error else {})}
    return {"ID": f"t-{state}", "NodeID": node, "DesiredState": "running", "Status": status}


# Each scenario: the task file, its inputs, and what the fake answers (per service/network, in turn).
SCENARIOS = {
    "runs-after-a-retry": (
        "wait_tasks",
        {"_common_service": "svc-retry", "_common_wait_tasks": 1, "_common_wait_seconds": 2},
        {"docker_swarm_info": {"svc-retry": [{"tasks": [task("preparing")]}, {"tasks": [task("running")]}]}},
    ),
    "global-runs-on-every-node": (
        "wait_tasks",
        {"_common_service": "svc-global", "_common_wait_tasks": "{{ 1 + 2 }}", "_common_wait_seconds": 0},
        {"docker_swarm_info": {"svc-global": [{"tasks": [task("running", node=n) for n in ("n1", "n2", "n3")]}]}},
    ),
    "exactly-means-exactly": (
        "wait_tasks",
        {"_common_service": "svc-two", "_common_wait_tasks": 1, "_common_wait_seconds": 0},
        {"docker_swarm_info": {"svc-two": [{"tasks": [task("running"), task("running", node="n2")]}]}},
    ),
    "at-least": (
        "wait_tasks",
        {
            "_common_service": "svc-two",
            "_common_wait_tasks": 1,
            "_common_wait_at_least": True,
            "_common_wait_seconds": 0,
        },
        {},
    ),
    "reports-task-errors": (
        "wait_tasks",
        {"_common_service": "svc-broken", "_common_wait_tasks": 1, "_common_wait_seconds": 0},
        {
            "docker_swarm_info": {
                "svc-broken": [{"tasks": [task("pending", "no suitable node (scheduling constraints)")]}]
            }
        },
    ),
    "reports-module-errors": (
        "wait_tasks",
        {"_common_service": "svc-missing", "_common_wait_tasks": 1, "_common_wait_seconds": 0},
        {
            "docker_swarm_info": {
                "svc-missing": [{"msg": "Error inspecting docker swarm for object 'tasks': not found"}]
            }
        },
    ),
    "needs-its-inputs": (
        "wait_tasks",
        {"_common_service": "svc-retry", "_common_wait_seconds": 0},
        {},
    ),
    "rollout-finishes": (
        "wait_rollout",
        {"_common_service": "svc-update", "_common_wait_seconds": 2},
        {
            "docker_swarm_service_info": {
                "svc-update": [
                    {"service": {"UpdateStatus": {"State": "updating"}}},
                    {"service": {"UpdateStatus": {"State": "completed"}}},
                ]
            }
        },
    ),
    "new-service-has-no-update": (
        "wait_rollout",
        {"_common_service": "svc-new", "_common_wait_seconds": 0},
        {"docker_swarm_service_info": {"svc-new": [{"service": {"Spec": {}}}]}},
    ),
    "rollout-rolled-back": (
        "wait_rollout",
        {"_common_service": "svc-bad", "_common_wait_seconds": 0},
        {
            "docker_swarm_service_info": {
                "svc-bad": [{"service": {"UpdateStatus": {"State": "rollback_completed", "Message": "update paused"}}}]
            }
        },
    ),
    "network": ("network", {"_common_network": "net-plain"}, {}),
    "network-with-labels": (
        "network",
        {"_common_network": "net-labelled", "_common_network_labels": {"sentinel.role": "platform"}},
        {},
    ),
    "network-encrypted": (
        "network",
        {"_common_network": "net-new", "_common_network_encrypted": True},
        {"docker_network_info": {"net-new": [{"exists": False}]}},
    ),
    "network-encrypted-already": (
        "network",
        {"_common_network": "net-secret", "_common_network_encrypted": True},
        {"docker_network_info": {"net-secret": [{"exists": True, "network": {"Options": {"encrypted": ""}}}]}},
    ),
    "network-not-encrypted-in-place": (
        "network",
        {"_common_network": "net-clear", "_common_network_encrypted": True},
        {"docker_network_info": {"net-clear": [{"exists": True, "network": {"Options": None}}]}},
    ),
}


# In check mode, one scenario of each task file (each would fail or retry if the waits ran).
CHECKED = ("runs-after-a-retry", "reports-task-errors", "rollout-rolled-back", "network-with-labels")


def _playbook(outcomes: Path, names) -> list[dict]:
    tasks = []
    for name in names:
        tasks_from, inputs, _answers = SCENARIOS[name]
        record = "{{ __outcomes | default({}) | combine({%r: %s}) }}"
        # network.yml also says whether services may name the network yet.
        passed = collections.defaultdict(lambda: "'ok'", network="'ok, ready=' ~ _common_network_ready")
        tasks.append(
            {
                "name": name,
                "block": [
                    {
                        "name": f"Include {tasks_from}.yml",
                        "ansible.builtin.include_role": {"name": "sentinel.paas._common", "tasks_from": tasks_from},
                        "vars": inputs,
                    },
                    {"name": "Passed", "ansible.builtin.set_fact": {"__outcomes": record % (name, passed[tasks_from])}},
                ],
                "rescue": [
                    {
                        "name": "Failed",
                        "ansible.builtin.set_fact": {"__outcomes": record % (name, "ansible_failed_result.msg")},
                    }
                ],
            }
        )
    tasks.append(
        {
            "name": "Write the outcomes",
            "ansible.builtin.copy": {"content": "{{ __outcomes | to_json }}", "dest": str(outcomes), "mode": "0644"},
            "check_mode": False,
        }
    )
    return [{"name": "The task files of _common", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def _run(workdir: Path, check: bool, names=tuple(SCENARIOS)) -> tuple[dict, list[dict], str]:
    answers: dict = {}
    for _tasks_from, _inputs, scenario_answers in SCENARIOS.values():
        for module, by_name in scenario_answers.items():
            answers.setdefault(module, {}).update(by_name)
    state = workdir / "docker.json"
    state.write_text(json.dumps(answers))
    outcomes = workdir / "outcomes.json"
    playbook = workdir / "common.yml"
    playbook.write_text(yaml.safe_dump(_playbook(outcomes, names), sort_keys=False))
    env = {
        **os.environ,
        # The stand-in first: Ansible takes community.docker from the first path that has it.
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(FAKE_DOCKER), str(ROOT / "playbooks" / "collections")]),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_PIPELINING": "True",
        "SENTINEL_FAKE_DOCKER": str(state),
    }
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", "-v", str(playbook)]
    cmd += ["-e", f"ansible_python_interpreter={sys.executable}"] + ["--check"] * check
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and outcomes.exists(), output[-5000:]
    return json.loads(outcomes.read_text()), json.loads(state.read_text()).get("calls", []), output


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("common"), check=False)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("common-check"), check=True, names=CHECKED)


def _calls(calls, module, name):
    return [call for call in calls if call["module"] == module and call["name"] == name]


def test_wait_tasks_asks_the_api_for_the_tasks_that_should_run(applied):
    outcomes, calls, _output = applied
    assert outcomes["runs-after-a-retry"] == "ok"
    asked = _calls(calls, "docker_swarm_info", "svc-retry")
    assert len(asked) == 2  # preparing, then running: one retry
    assert asked[0]["params"] == {
        "tasks": True,
        "tasks_filters": {"service": "svc-retry", "desired-state": "running"},
        "verbose_output": True,
    }


def test_wait_tasks_counts_running_tasks(applied):
    outcomes, _calls_, _output = applied
    assert outcomes["global-runs-on-every-node"] == "ok"
    assert outcomes["at-least"] == "ok"
    assert outcomes["exactly-means-exactly"].startswith("2 task(s) of svc-two run after 0 s, 1 expected.")


def test_wait_tasks_reports_what_went_wrong(applied):
    outcomes, _calls_, _output = applied
    broken = outcomes["reports-task-errors"]
    assert broken.startswith("0 task(s) of svc-broken run after 0 s, 1 expected.")
    assert "['pending']" in broken and "no suitable node (scheduling constraints)" in broken
    assert "docker service ps svc-broken --no-trunc" in broken
    missing = outcomes["reports-module-errors"]
    assert missing.startswith("0 task(s) of svc-missing run")
    assert "The Swarm answered: Error inspecting docker swarm for object 'tasks': not found See `docker" in missing


def test_wait_tasks_never_prints_the_join_tokens(applied):
    _outcomes, _calls_, output = applied
    assert "svc-broken" in output  # the output is there, with -v
    assert JOIN_TOKEN not in output


def test_inputs_are_checked_against_the_argument_specs(applied):
    outcomes, calls, _output = applied
    assert "_common_wait_tasks" in outcomes["needs-its-inputs"]
    assert "missing required arguments" in outcomes["needs-its-inputs"]


def test_wait_rollout(applied):
    outcomes, calls, _output = applied
    assert outcomes["rollout-finishes"] == "ok"
    assert len(_calls(calls, "docker_swarm_service_info", "svc-update")) == 2
    assert outcomes["new-service-has-no-update"] == "ok"
    assert outcomes["rollout-rolled-back"] == (
        "The update of svc-bad ended in state rollback_completed: update paused. "
        "See the task logs and `docker service ps svc-bad --no-trunc`."
    )


def test_network_keeps_the_containers_on_it(applied):
    outcomes, calls, _output = applied
    assert outcomes["network"] == outcomes["network-with-labels"] == "ok, ready=True"
    (plain,) = _calls(calls, "docker_network", "net-plain")
    assert plain["params"] == {
        "name": "net-plain",
        "driver": "overlay",
        "attachable": True,
        "appends": True,
        "labels": {},
        "driver_options": None,
    }
    (labelled,) = _calls(calls, "docker_network", "net-labelled")
    assert labelled["params"]["labels"] == {"sentinel.role": "platform"}
    # Not asked to encrypt: an existing network's encryption is not compared.
    assert plain["params"]["driver_options"] is None


def test_network_encrypts_a_new_network_and_refuses_to_encrypt_one_in_place(applied):
    outcomes, calls, _output = applied
    assert outcomes["network-encrypted"] == outcomes["network-encrypted-already"] == "ok, ready=True"
    for name in ("net-new", "net-secret"):
        (created,) = _calls(calls, "docker_network", name)
        assert created["params"]["driver_options"] == {"encrypted": ""}
    assert "Docker cannot encrypt a network in place" in outcomes["network-not-encrypted-in-place"]
    assert not _calls(calls, "docker_network", "net-clear"), "a refusal changes nothing"


def test_check_mode_skips_the_waits(checked):
    outcomes, calls, _output = checked
    # The fake network does not exist: a check run would create it, so services may not name it yet.
    assert outcomes == {**dict.fromkeys(CHECKED, "ok"), "network-with-labels": "ok, ready=False"}
    assert [(call["module"], call["check_mode"]) for call in calls] == [
        ("docker_network_info", True),
        ("docker_network", True),
    ]

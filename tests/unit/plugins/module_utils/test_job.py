"""The pure side of swarm_job: its request, its service and how its task ended."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _job


def request(**overrides):
    return {"name": "todo", "image": "smoke:1", "command": None, "timeout": 60, **overrides}


def task(state, created="2026-12-03T10:00:00Z", exit_code=None, err=None):
    status = {"State": state}
    if exit_code is not None:
        status["ContainerStatus"] = {"ExitCode": exit_code}
    if err:
        status["Err"] = err
    return {"CreatedAt": created, "Status": status}


def test_a_good_request_has_no_errors():
    assert _job.request_errors(request()) == []
    assert _job.request_errors(request(command=["sh", "-c", "true"])) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "Todo"}, "invalid app name"),
        ({"image": " "}, "image must not be empty"),
        ({"command": []}, "command must not be empty"),
        ({"timeout": 0}, "invalid timeout 0"),
    ],
)
def test_bad_requests_say_what_is_wrong(overrides, expected):
    errors = _job.request_errors(request(**overrides))
    assert len(errors) == 1 and expected in errors[0], errors


def test_the_job_is_one_task_never_restarted_on_the_app_network_only():
    spec = _job.service_spec("sentinel-job-todo-abc123", "todo", "smoke:1", None, "http://todo-canary:8000", "net1")
    template = spec["task_template"]
    assert template["RestartPolicy"] == {"Condition": "none"}
    assert template["Networks"] == [{"Target": "net1"}]
    assert template["ContainerSpec"] == {"Image": "smoke:1", "Env": ["SENTINEL_TARGET=http://todo-canary:8000"]}
    assert spec["mode"] == {"Replicated": {"Replicas": 1}}
    # Not one of the app's services: no sentinel.app label.
    assert spec["labels"] == {"sentinel.job": "todo"}
    with_command = _job.service_spec("j", "todo", "todo:2", ["sh", "-c", "true"], "http://t:1", "net1")
    assert with_command["task_template"]["ContainerSpec"]["Command"] == ["sh", "-c", "true"]


def test_job_names_are_fresh_and_outside_every_apps_names():
    first, second = _job.job_name("todo"), _job.job_name("todo")
    assert first != second and first.startswith("sentinel-job-todo-")
    assert _job.target_url("todo", "canary", 8000) == "http://todo-canary:8000"


def test_a_running_job_has_no_outcome_yet():
    assert _job.outcome([]) is None
    assert _job.outcome([task("running"), task("preparing")]) is None


def test_the_outcome_is_the_newest_ended_task():
    tasks = [task("failed", "2026-12-03T10:00:00Z", exit_code=3), task("complete", "2026-12-03T10:00:05Z", exit_code=0)]
    assert _job.outcome(tasks) == {"state": "complete", "exit_code": 0, "error": ""}
    failed = _job.outcome([task("failed", exit_code=3, err="task: non-zero exit (3)")])
    assert failed == {"state": "failed", "exit_code": 3, "error": "task: non-zero exit (3)"}


def test_a_rejected_job_has_no_exit_code():
    rejected = _job.outcome([task("rejected", err="No such image: smoke:9")])
    assert rejected == {"state": "rejected", "exit_code": None, "error": "No such image: smoke:9"}


def test_log_lines_lose_their_timestamps_and_keep_the_last_ones():
    lines = [f"2026-12-03T10:00:0{i}.000000000Z line {i}" for i in range(5)]
    assert _job.without_timestamps(lines, keep=2) == ["line 3", "line 4"]
    assert _job.without_timestamps(["2026-12-03T10:00:00.000000000Z"]) == [""]

"""Swarm.wait_converged against a scripted engine: which failed tasks count, and when it is done.

The real engine's rolling updates and rollbacks are proven on the test cluster
(tests/integration/test_swarm_app_on_cluster.py); this pins rules a test cluster never meets:
tasks that had failed before the wait (an engine restart, a host reboot) are not this change's, and
a "completed" left by an earlier update is not the engine's word on this one.
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import ServiceNotConverged, Swarm

SPEC = {"Image": "todo:1"}


def task(task_id, state, desired="running"):
    return {"ID": task_id, "Spec": {"ContainerSpec": SPEC}, "DesiredState": desired, "Status": {"State": state}}


class ScriptedAPI:
    """Answers each poll with the next task list and update status (the last ones repeat)."""

    def __init__(self, polls, statuses=(None,)):
        self.polls = polls
        self.statuses = statuses
        self.calls = 0

    def inspect_service(self, name):
        return {
            "Spec": {"Name": name, "TaskTemplate": {"ContainerSpec": SPEC}, "Mode": {"Replicated": {"Replicas": 1}}},
            "UpdateStatus": self.statuses[min(self.calls, len(self.statuses) - 1)],
        }

    def tasks(self, filters):
        tasks = self.polls[min(self.calls, len(self.polls) - 1)]
        self.calls += 1
        return tasks


def swarm(polls, statuses=(None,)) -> Swarm:
    engine = Swarm.__new__(Swarm)  # no module, no socket: only the API the wait reads
    engine.api = ScriptedAPI(polls, statuses)
    return engine


RESTARTED = [task(f"old{i}", "failed", desired="shutdown") for i in range(4)]


def test_tasks_that_failed_before_the_wait_do_not_count():
    service = swarm([[*RESTARTED, task("t1", "running")]]).wait_converged("todo-prod", timeout=5, poll=0, settle=0)
    assert service["Spec"]["Name"] == "todo-prod"


def test_tasks_that_fail_during_the_wait_do():
    polls = [
        [*RESTARTED, task("t1", "starting")],
        [*RESTARTED, *(task(f"new{i}", "failed", desired="shutdown") for i in range(3)), task("t2", "starting")],
    ]
    with pytest.raises(ServiceNotConverged, match="its tasks keep failing"):
        swarm(polls).wait_converged("todo-prod", timeout=5, poll=0, settle=0)


def test_a_task_placed_by_the_old_constraints_is_not_the_current_specs():
    """A database moved to another node (only its placement changed): its old task running on the old node must
    not look converged, or the restore there would find no database."""
    moved = {"Constraints": ["node.id==node2"]}

    class MovedAPI(ScriptedAPI):
        def inspect_service(self, name):
            service = super().inspect_service(name)
            service["Spec"]["TaskTemplate"]["Placement"] = moved
            return service

    old = dict(task("old", "running"), Spec={"ContainerSpec": SPEC, "Placement": {"Constraints": ["node.id==node1"]}})
    new = dict(task("new", "running"), Spec={"ContainerSpec": SPEC, "Placement": moved})
    engine = Swarm.__new__(Swarm)
    engine.api = MovedAPI([[old], [old], [dict(old, DesiredState="shutdown"), new]])
    engine.wait_converged("todo-db", timeout=5, poll=0, settle=0)
    assert engine.api.calls >= 4, "it waited for the task on the new node"


UPDATING = {"State": "updating", "StartedAt": "2026-12-07T18:35:49Z"}
COMPLETED = dict(UPDATING, State="completed")
EARLIER = {"State": "completed", "StartedAt": "2026-12-07T18:30:00Z"}


def test_an_update_seen_in_progress_is_done_when_the_engine_completes_it():
    """The engine watched each new task for the monitor period before it said completed: no settling on top."""
    engine = swarm([[task("old", "running")], [task("new", "running")]], statuses=[UPDATING, COMPLETED])
    engine.wait_converged("todo-prod", timeout=5, poll=0, settle=60)
    assert engine.api.calls == 2


def test_a_completed_left_by_an_earlier_update_waits_for_the_tasks_to_settle():
    """A scale keeps the last update's status: only the same running tasks for `settle` seconds say it is done."""
    engine = swarm([[task("t1", "running")]], statuses=[EARLIER])
    engine.wait_converged("todo-prod", timeout=5, poll=0.01, settle=0.05)
    assert engine.api.calls >= 5, "it waited for the tasks to settle"


def test_a_task_that_flashes_running_starts_the_settling_over():
    polls = [[task("t1", "running")], [task("t1", "complete", desired="shutdown"), task("t2", "running")]]
    engine = swarm(polls)
    engine.wait_converged("todo-prod", timeout=5, poll=0.01, settle=0.05)
    assert engine.api.calls >= 6, "t2 settled on its own"

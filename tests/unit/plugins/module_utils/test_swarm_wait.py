"""Swarm.wait_converged against a scripted engine: which failed tasks count.

The real engine's rolling updates and rollbacks are proven on the test cluster
(tests/integration/test_swarm_app_on_cluster.py); this pins one rule a test cluster never meets:
tasks that had failed before the wait (an engine restart, a host reboot) are not this change's.
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import ServiceNotConverged, Swarm

SPEC = {"Image": "todo:1"}


def task(task_id, state, desired="running"):
    return {"ID": task_id, "Spec": {"ContainerSpec": SPEC}, "DesiredState": desired, "Status": {"State": state}}


class ScriptedAPI:
    """Answers each poll with the next task list (the last one repeats)."""

    def __init__(self, polls):
        self.polls = polls
        self.calls = 0

    def inspect_service(self, name):
        return {
            "Spec": {"Name": name, "TaskTemplate": {"ContainerSpec": SPEC}, "Mode": {"Replicated": {"Replicas": 1}}}
        }

    def tasks(self, filters):
        tasks = self.polls[min(self.calls, len(self.polls) - 1)]
        self.calls += 1
        return tasks


def swarm(polls) -> Swarm:
    engine = Swarm.__new__(Swarm)  # no module, no socket: only the API the wait reads
    engine.api = ScriptedAPI(polls)
    return engine


RESTARTED = [task(f"old{i}", "failed", desired="shutdown") for i in range(4)]


def test_tasks_that_failed_before_the_wait_do_not_count():
    service = swarm([[*RESTARTED, task("t1", "running")]]).wait_converged("todo-prod", timeout=5, poll=0)
    assert service["Spec"]["Name"] == "todo-prod"


def test_tasks_that_fail_during_the_wait_do():
    polls = [
        [*RESTARTED, task("t1", "starting")],
        [*RESTARTED, *(task(f"new{i}", "failed", desired="shutdown") for i in range(3)), task("t2", "starting")],
    ]
    with pytest.raises(ServiceNotConverged, match="its tasks keep failing"):
        swarm(polls).wait_converged("todo-prod", timeout=5, poll=0)


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
    engine.wait_converged("todo-db", timeout=5, poll=0)
    assert engine.api.calls >= 4, "it waited for the task on the new node"

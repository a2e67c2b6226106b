# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A one-off job against an app (swarm_job): its service spec and how its task ended.

Private to this collection. Pure: no engine, so every branch is unit-tested.
"""

from __future__ import annotations

import secrets

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

# Jobs carry their own label, not sentinel.app: they are not one of the app's services.
LABEL_JOB = "sentinel.job"
TARGET_ENV = "SENTINEL_TARGET"
# Task states after which a task never runs again (restart condition none).
_ENDED = ("complete", "failed", "rejected", "shutdown", "orphaned", "remove")
LOG_LINES = 100


def job_name(app: str) -> str:
    """A fresh name per run: two runs never share a service. The platform's prefix keeps it off
    every app's names (apps may not start with "sentinel")."""
    return f"sentinel-job-{app}-{secrets.token_hex(3)}"


def target_url(app: str, role: str, port: int) -> str:
    """Where the job reaches the service under test, over the app's network (dnsrr: its tasks)."""
    return f"http://{_naming.service_name(app, role)}:{port}"


def request_errors(params: dict) -> list[str]:
    """Everything wrong with a request, before the engine is contacted."""
    errors = [_naming.app_name_error(params["name"])]
    if not (params["image"] or "").strip():
        errors.append("image must not be empty")
    if params["command"] is not None and not params["command"]:
        errors.append("command must not be empty: leave it out to run the image's own command")
    if params["timeout"] < 1:
        errors.append(f"invalid timeout {params['timeout']}: give at least 1 second")
    return [error for error in errors if error]


def service_spec(name: str, app: str, image: str, command: list | None, target: str, network_id: str) -> dict:
    """Keyword arguments for APIClient.create_service: one task that is never restarted."""
    container = {"Image": image, "Env": [f"{TARGET_ENV}={target}"]}
    if command:
        container["Command"] = list(command)
    return {
        "name": name,
        "labels": {LABEL_JOB: app},
        "task_template": {
            "ContainerSpec": container,
            "RestartPolicy": {"Condition": "none"},
            "Networks": [{"Target": network_id}],
        },
        "mode": {"Replicated": {"Replicas": 1}},
    }


def outcome(tasks: list[dict]) -> dict | None:
    """How the job's task ended: {state, exit_code, error}; None while it has not ended.

    A task the engine rejected (an image it cannot pull) has no exit code: None.
    """
    ended = [t for t in tasks if t["Status"]["State"] in _ENDED]
    if not ended:
        return None
    status = sorted(ended, key=lambda t: t.get("CreatedAt", ""))[-1]["Status"]
    return {
        "state": status["State"],
        "exit_code": (status.get("ContainerStatus") or {}).get("ExitCode"),
        "error": status.get("Err") or "",
    }


def without_timestamps(lines: list[str], keep: int = LOG_LINES) -> list[str]:
    """The last ``keep`` log lines as the job wrote them (the engine's timestamps cut off)."""
    return [line.split(" ", 1)[1] if " " in line else "" for line in lines[-keep:]]

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_job
short_description: Run a one-off container against a Sentinel app over its network (a smoke test)
description:
  - Runs O(image) once, as a one-task Swarm service on the app's network C(sentinel-NAME) only (not on
    the edge network, so nothing of it is reachable from outside), waits until it ends, and removes it.
  - The job reaches the service under test, C(NAME-ROLE), at the URL in its environment variable
    C(SENTINEL_TARGET), such as C(http://todo-canary:8000), without going through Traefik. So a canary
    under test needs no route and no share of the traffic.
  - Succeeds when the job exits 0; fails otherwise (its exit code, or why the engine would not run it,
    and the last lines it logged), and when it has not ended after O(timeout) seconds.
  - Leaves nothing behind either way, so it reports no change.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
options:
  role:
    description: Which of the app's services the job is pointed at.
    type: str
    choices: [prod, canary]
    default: canary
  image:
    description: The image to run; it may be the image under test itself, with O(command).
    type: str
    required: true
  command:
    description:
      - The job's command as a list of arguments, in place of the image's own (its C(CMD)); no shell
        unless given, as in V([sh, -c, "wget -q -O- $SENTINEL_TARGET/healthz"]).
      - If not set, the image's own command.
    type: list
    elements: str
  timeout:
    description: How many seconds the job may run before it is stopped and counted as failed.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    details: In check mode the job does not run; the module returns where it would point.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Nothing is left behind, so every run reports no change.
seealso:
  - module: sentinel.paas.swarm_app
"""

EXAMPLES = r"""
- name: Smoke-test todo's canary before it gets any traffic
  sentinel.paas.swarm_job:
    name: todo
    image: registry.example.com/todo-smoke:2

- name: The same with a command run in the canary's own image
  sentinel.paas.swarm_job:
    name: todo
    image: registry.example.com/todo:2
    command: [sh, -c, "wget -q -O- $SENTINEL_TARGET/healthz"]
"""

RETURN = r"""
target:
  description: The URL the job was given in C(SENTINEL_TARGET).
  returned: always
  type: str
  sample: http://todo-canary:8000
exit_code:
  description: The job's exit code; null when it did not run in check mode, or the engine did not start it.
  returned: always
  type: int
  sample: 0
seconds:
  description: How long the job took, from its creation until it ended (0 in check mode).
  returned: always
  type: float
  sample: 2.4
log:
  description: The last 100 lines the job wrote (stdout and stderr), oldest first, without timestamps.
  returned: always
  type: list
  elements: str
  sample: ["GET /healthz 200", "ok"]
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _job, _naming
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import port_of
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec

_POLL_SECONDS = 0.5


def run(swarm, spec, timeout):
    """Create the job's service, wait for its task to end, read its log, remove it.
    Returns (the outcome, or None at the timeout; seconds; log lines; the engine's errors reading them)."""
    name = spec["name"]
    started = time.monotonic()
    swarm.create_service(**spec)
    try:
        while True:
            ended = _job.outcome(swarm.tasks(name))
            seconds = round(time.monotonic() - started, 2)
            if ended or seconds > timeout:
                break
            time.sleep(_POLL_SECONDS)
        lines, engine_errors = swarm.service_logs(name) or ([], [])
    finally:
        swarm.remove_service(name)
    return ended, seconds, _job.without_timestamps(lines), engine_errors


def failure(ended, seconds, timeout):
    """Why a job did not pass, in words."""
    if ended is None:
        return f"did not end within {timeout} s and was stopped"
    if ended["exit_code"] is None:
        return f"was not run: {ended['state']}, {ended['error'] or 'no reason given'}"
    return f"exited {ended['exit_code']} after {seconds} s"


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            role={"type": "str", "choices": ["prod", "canary"], "default": "canary"},
            image={"type": "str", "required": True},
            command={"type": "list", "elements": "str"},
            timeout={"type": "int", "default": 300},
        ),
        supports_check_mode=True,
    )
    p = module.params
    app, role = p["name"], p["role"]
    errors = _job.request_errors(p)
    if errors:
        module.fail_json(msg=f"Error running a job against app {app}: {'; '.join(errors)}")
    swarm = Swarm(module)
    service_name = _naming.service_name(app, role)
    try:
        service = swarm.service(service_name)
        network = swarm.network(_naming.app_network(app))
        if service is None or network is None:
            module.fail_json(msg=f"Error running a job against app {app}: it has no {role} service ({service_name})")
        port = port_of(service["Spec"].get("Labels") or {}, app, role)
        if port is None:
            module.fail_json(msg=f"Error running a job against app {app}: {service_name} has no port label")
        target = _job.target_url(app, role, port)
        if module.check_mode:
            module.exit_json(changed=False, target=target, exit_code=None, seconds=0.0, log=[])
        spec = _job.service_spec(_job.job_name(app), app, p["image"].strip(), p["command"], target, network["Id"])
        ended, seconds, log, engine_errors = run(swarm, spec, p["timeout"])
    except APIError as exc:
        module.fail_json(msg=f"Error running a job against app {app}: Docker API: {exc}")
    for error in dict.fromkeys(engine_errors):
        module.warn(f"Some of the job's log is missing: {error}")
    result = {
        "changed": False,
        "target": target,
        "exit_code": ended and ended["exit_code"],
        "seconds": seconds,
        "log": log,
    }
    if not ended or ended["state"] != "complete" or ended["exit_code"] != 0:
        last = f"; its last line: {log[-1]}" if log else ""
        why = failure(ended, seconds, p["timeout"])
        module.fail_json(msg=f"job {p['image']} against {target} {why}{last}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

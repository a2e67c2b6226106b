#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_app_logs
short_description: Read the log lines of a Sentinel app's service on a Docker Swarm
description:
  - Read-only. Returns the recent log lines (stdout and stderr) of every task of one service of
    app O(name), through the engine API (C(GET /services/{id}/logs)), as
    C(docker service logs --timestamps --no-trunc --raw) prints them.
  - Each line starts with the time the engine received it (RFC 3339 in UTC, with nine fraction digits),
    then a space and the line as the task wrote it; lines are sorted oldest first.
  - When the engine cannot read the logs of some tasks (their node is down), returns the others and warns with
    the engine's message.
  - Needs a logging driver the engine can read back, as C(docker service logs) does (C(json-file), C(local),
    C(journald), or any other with Docker's dual logging cache).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  role:
    description: Which service of the app, C(NAME-ROLE) (production, canary, a rollout's baseline or database).
    type: str
    choices: [prod, canary, baseline, db]
    default: prod
  since:
    description:
      - Only lines the engine received at or after this time (the C(since) parameter of the logs API).
      - One of a duration back from now in Docker's (Go's) syntax, such as V(10m), V(1h30m) or V(90s); an RFC 3339
        time such as V(2026-01-01T00:00:00Z) or the timestamp of a returned line, V(2026-12-01T21:30:29.123456789Z)
        (fractions down to nanoseconds are kept); a shorter form, V(2026-01-01T10:00) or V(2026-01-01); or unix
        seconds such as V(1764624629.5).
      - A time without a zone is in the local time of the host the module runs on, as for C(docker service logs).
      - If not set (or empty), every line the engine keeps, within O(tail).
    type: str
  tail:
    description: Number of lines from the end of each task's log (the C(tail) parameter of the logs API).
    type: int
    default: 200
seealso:
  - module: sentinel.paas.swarm_app_info
"""

EXAMPLES = r"""
- name: The last 50 lines of todo's production
  sentinel.paas.swarm_app_logs:
    name: todo
    tail: 50
  register: todo_logs

- name: Show them
  ansible.builtin.debug:
    var: todo_logs.lines

- name: What the canary logged in the last ten minutes
  sentinel.paas.swarm_app_logs:
    name: todo
    role: canary
    since: 10m
"""

RETURN = r"""
service:
  description: The service whose logs were read, C(NAME-ROLE).
  returned: always
  type: str
  sample: todo-prod
lines:
  description:
    - Log lines of every task of RV(service), oldest first, at most O(tail) per task.
    - Each starts with its RFC 3339 timestamp and a space. The first word of the newest line, given back as
      O(since), asks for the lines from that instant on (that line included).
  returned: always
  type: list
  elements: str
  sample:
    - 2026-12-01T21:30:29.123456789Z Listening on 0.0.0.0:8000
    - 2026-12-01T21:30:31.000412000Z GET /healthz 200
"""

import math
import re
import time
from datetime import datetime, timedelta, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._duration import go_duration_seconds
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec

_UNIX = re.compile(r"\d+(?:\.\d{1,9})?", re.ASCII)
# The layouts docker's GetTimestamp takes: a date, optionally with hour, minutes, seconds and a
# fraction, and optionally a zone.
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(?:(Z)|([+-])(\d{2}):(\d{2}))?",
    re.IGNORECASE | re.ASCII,
)


def engine_since(value: str | None, now: float | None = None) -> str | None:
    """The since option as the engine's ``since`` parameter (unix seconds, with a fraction when
    given); None when not given. Raises ValueError when ``value`` is none of the forms it documents.

    A duration counts back from ``now`` (default: this host's clock), in whole seconds as the
    docker CLI does; an RFC 3339 time keeps its nanoseconds, so a returned line's timestamp asks
    for exactly that line and the newer ones.
    """
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if _UNIX.fullmatch(value):  # "0" too: docker reads it as the epoch, not as a zero duration
        return value
    seconds = go_duration_seconds(value)
    if seconds is not None:
        return str(math.floor((time.time() if now is None else now) - seconds))
    match = _TIME.fullmatch(value)
    if match:
        year, month, day, hour, minute, second, fraction, utc, sign, zone_h, zone_m = match.groups()
        zone = None
        if utc:
            zone = timezone.utc
        elif sign:
            offset = timedelta(hours=int(zone_h), minutes=int(zone_m))
            zone = timezone(-offset if sign == "-" else offset)
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone
            )
            # A naive datetime is local time: what docker does for a time without a zone.
            whole = int(moment.timestamp())
        except (ValueError, OverflowError, OSError) as exc:
            raise ValueError(f"invalid since {value!r}: {exc}") from None
        return f"{whole}.{(fraction or '').ljust(9, '0')}"
    raise ValueError(
        f"invalid since {value!r}: give a duration back from now (10m, 1h30m), an RFC 3339 time "
        "(2026-01-01T00:00:00Z, or a line's timestamp) or unix seconds"
    )


def read_request(params: dict) -> tuple[str | None, list[str]]:
    """(the engine's since, everything wrong with the request), before the engine is contacted."""
    errors = [_naming.app_name_error(params["name"])]
    since = None
    try:
        since = engine_since(params["since"])
    except ValueError as exc:
        errors.append(str(exc))
    if params["tail"] < 1:
        errors.append(f"invalid tail {params['tail']}: give at least 1 line")
    return since, [error for error in errors if error]


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            role={"type": "str", "choices": list(_naming.ROLES), "default": "prod"},
            since={"type": "str"},
            tail={"type": "int", "default": 200},
        ),
        supports_check_mode=True,
    )
    name, role = module.params["name"], module.params["role"]
    since, errors = read_request(module.params)
    if errors:
        module.fail_json(msg=f"Error reading logs of app {name}: {'; '.join(errors)}")
    service = _naming.service_name(name, role)
    swarm = Swarm(module)
    try:
        logs = swarm.service_logs(service, since=since, tail=module.params["tail"])
    except APIError as exc:
        module.fail_json(msg=f"Error reading logs of app {name}: Docker API: {exc}")
    if logs is None:
        module.fail_json(msg=f"Error reading logs of app {name}: service {service} does not exist")
    lines, engine_errors = logs
    for error in dict.fromkeys(engine_errors):
        module.warn(f"Some logs of {service} are missing: {error}")
    module.exit_json(changed=False, service=service, lines=lines)


if __name__ == "__main__":
    main()

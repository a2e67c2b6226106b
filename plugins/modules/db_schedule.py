#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_schedule
short_description: Scheduled backups of an app's PostgreSQL database, kept to a number
description:
  - Makes (or removes) the service C(NAME-db-backups), which backs up the app's database on a schedule while the
    app serves, the way M(sentinel.paas.db_backup) does, as a C(pg_dump) archive in its custom format, verified with
    C(pg_restore --list), recorded with its size, SHA-256, duration and tables. M(sentinel.paas.db_backup_info)
    lists them and M(sentinel.paas.db_restore) restores them, as any other backup.
  - The schedule keeps running when no controller is up. Backups are made at multiples of the period since the
    epoch, in UTC (V(hourly) on the hour, V(daily) at 00:00), with ids C(scheduled-20261205t000000z).
  - After each backup it removes the oldest scheduled backups beyond O(keep); backups made by hand are never
    removed by it.
  - The service runs the database's own image (its C(pg_dump) matches the server) on the database's node, and
    reaches the database over the app's network with the app's password file (a Docker secret). Run the task again
    after changing the database's image.
  - Runs on a manager. The service bind-mounts the app's directory of backups (C(DIRECTORY/NAME)), which must exist on
    the database's node, readable by root alone, before the schedule starts; C(playbooks/db_schedule.yml) makes it
    there. Run the task again after the database moved (C(playbooks/db_move.yml) does).
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  every:
    description:
      - How often, as V(hourly), V(daily), or a duration in whole seconds such as V(6h) or V(30m) (at least V(10s)).
      - Required with O(state=present).
    type: str
  keep:
    description: How many scheduled backups to keep; the oldest beyond that go after each new one.
    type: int
    default: 7
  state:
    description: V(present) schedules backups (or changes the schedule); V(absent) ends it, keeping its backups.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The schedule before and after.
seealso:
  - module: sentinel.paas.db_backup
  - module: sentinel.paas.db_backup_info
"""

EXAMPLES = r"""
- name: Back up todo's database every day, keeping a week of backups
  sentinel.paas.db_schedule:
    name: todo
    every: daily
    keep: 7

- name: End the schedule (its backups stay)
  sentinel.paas.db_schedule:
    name: todo
    state: absent
"""

RETURN = r"""
schedule:
  description: The schedule after the task (null without one).
  returned: always
  type: dict
  contains:
    every:
      description: How often, as given.
      type: str
    seconds:
      description: The period in seconds.
      type: int
    keep:
      description: How many scheduled backups are kept.
      type: int
    service:
      description: The service that makes them.
      type: str
    directory:
      description: The app's directory of backups on the database's node.
      type: str
diff:
  description: The schedule before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _db_schedule, _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument, backup_directory_argument
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import BackupError, Backups
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    Swarm,
    docker_argument_spec,
)

STOP_SECONDS = 30


def run(module, swarm, backups):
    params, app = module.params, backups.app
    name = _db_schedule.service_name(app)
    service = swarm.service(name)
    if service is not None and not _db_schedule.is_schedule_of(service, app):
        raise BackupError(f"service {name} exists and is not the backup schedule Sentinel made for app {app}")
    before = _db_schedule.view(service)
    after = None
    if params["state"] == "present":
        db = swarm.service(_naming.service_name(app, "db"))
        if db is None:  # in check mode too
            raise BackupError(f"app {app} has no database ({_naming.service_name(app, 'db')})")
        after = _db_schedule.desired_view(db, params["every"], params["keep"], backups.directory)
    changed = before != after
    if changed and not module.check_mode:
        if after is None:
            # Once off, no backup may start or still be under way: its task stops before the service goes.
            if not swarm.stop_tasks(name, STOP_SECONDS):
                raise BackupError(f"the task of {name} did not stop within {STOP_SECONDS} s; run this again")
            swarm.remove_service(name)
        else:
            network = swarm.network(_naming.app_network(app))
            pgpass = swarm.secret(_naming.db_pgpass_secret(app))
            spec = _db_schedule.service_spec(app, after, network["Id"], pgpass["ID"])
            if service is None:
                swarm.create_service(**spec)
            else:
                swarm.update_service(name, lambda current: spec)
    result = {"changed": changed, "schedule": _db_schedule.shown(app, after)}
    if module._diff:
        result["diff"] = {
            "before": {"schedule": _db_schedule.shown(app, before)},
            "after": {"schedule": _db_schedule.shown(app, after)},
        }
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            **backup_directory_argument(),
            every={"type": "str"},
            keep={"type": "int", "default": 7},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        ),
        required_if=[("state", "present", ["every"])],
        supports_check_mode=True,
    )
    app, params = module.params["name"], module.params
    errors = [_naming.app_name_error(app)]
    if params["state"] == "present":
        errors += _db_schedule.request_errors(params["every"], params["keep"])
    errors = [e for e in errors if e]
    if errors:
        module.fail_json(msg=f"Error scheduling app {app}'s backups: {'; '.join(errors)}")
    swarm = Swarm(module)
    try:
        result = run(module, swarm, Backups(swarm, app, params["directory"]))
    except (APIError, BackupError, OSError) as exc:
        module.fail_json(msg=f"Error scheduling app {app}'s backups: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

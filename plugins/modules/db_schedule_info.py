#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_schedule_info
short_description: The backup schedule of an app's PostgreSQL database
description:
  - Reads the schedule M(sentinel.paas.db_schedule) made for the app (its service C(NAME-db-backups)); null when the
    app has none. The backups themselves are listed by M(sentinel.paas.db_backup_info), on the database's node.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
notes:
  - Runs on a manager, as every module that reads the Swarm's services.
seealso:
  - module: sentinel.paas.db_schedule
  - module: sentinel.paas.db_backup_info
"""

EXAMPLES = r"""
- name: Read todo's backup schedule
  sentinel.paas.db_schedule_info:
    name: todo
  register: found
"""

RETURN = r"""
schedule:
  description: The app's backup schedule (see M(sentinel.paas.db_schedule)'s C(schedule)), null without one.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _db_schedule, _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(argument_spec=docker_argument_spec(**app_name_argument()), supports_check_mode=True)
    app = module.params["name"]
    error = _naming.app_name_error(app)
    if error:
        module.fail_json(msg=f"Error reading app {app}'s backup schedule: {error}")
    try:
        service = Swarm(module).service(_db_schedule.service_name(app))
    except APIError as exc:
        module.fail_json(msg=f"Error reading app {app}'s backup schedule: {exc}")
    found = service if _db_schedule.is_schedule_of(service, app) else None
    module.exit_json(changed=False, schedule=_db_schedule.shown(app, _db_schedule.view(found)))


if __name__ == "__main__":
    main()

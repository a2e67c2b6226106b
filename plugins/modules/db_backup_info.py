#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_backup_info
short_description: The backups of an app's PostgreSQL database
description:
  - Lists the backups M(sentinel.paas.db_backup) made of the app's database, oldest first, with each one's record.
  - Reads the directory of backups on the node the app's database is pinned to; the app need not exist any more
    (its backups outlive a destroy). M(sentinel.paas.db_schedule_info) reads the app's backup schedule.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
seealso:
  - module: sentinel.paas.db_backup
  - module: sentinel.paas.db_restore
  - module: sentinel.paas.db_schedule_info
"""

EXAMPLES = r"""
- name: Read todo's backups
  sentinel.paas.db_backup_info:
    name: todo
  register: found
"""

RETURN = r"""
backups:
  description: Each backup's record, oldest first (see M(sentinel.paas.db_backup)'s C(backup)).
  returned: always
  type: list
  elements: dict
directory:
  description: The app's directory of backups on the host.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument, backup_directory_argument
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import BackupError, Backups
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_name_argument(), **backup_directory_argument()),
        supports_check_mode=True,
    )
    app = module.params["name"]
    error = _naming.app_name_error(app)
    if error:
        module.fail_json(msg=f"Error reading app {app}'s backups: {error}")
    backups = Backups(Swarm(module), app, module.params["directory"])
    try:
        found = backups.records()
    except (BackupError, OSError) as exc:
        module.fail_json(msg=f"Error reading app {app}'s backups: {exc}")
    module.exit_json(changed=False, backups=found, directory=backups.directory)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_restore
short_description: Put a backup's data back into an app's PostgreSQL database
description:
  - Replaces the contents of the app's database with those of a backup M(sentinel.paas.db_backup) made.
  - Checks the backup first, before the database is touched, and refuses a damaged one. Its archive must have the
    SHA-256 recorded when it was made, C(pg_restore --list) must read it, and it must hold the tables recorded.
  - Restores with C(pg_restore --clean --single-transaction) in the database's own container, so a restore that fails
    halfway leaves the current data as it was. Then counts the rows of every restored table.
  - Does not hold the app's traffic; C(playbooks/db_restore.yml) puts the app in maintenance around it.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  backup:
    description: The id of the backup to restore. Left out, the newest.
    type: str
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
    details: Checks the backup as a restore would, and changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Each run restores the backup again, as a dump cannot tell whether the database already holds its data.
seealso:
  - module: sentinel.paas.db_backup
  - module: sentinel.paas.db_backup_info
"""

EXAMPLES = r"""
- name: Put todo's newest backup back
  sentinel.paas.db_restore:
    name: todo

- name: Only check that a backup would restore
  sentinel.paas.db_restore:
    name: todo
    backup: 20261205t174500z
  check_mode: true
"""

RETURN = r"""
backup:
  description: The restored (in check mode, the checked) backup's record.
  returned: always
  type: dict
tables:
  description: The tables the backup holds rows of (C(schema table)).
  returned: always
  type: list
  elements: str
rows:
  description: Rows of each restored table after the restore (empty in check mode).
  returned: always
  type: dict
settled:
  description:
    - On failure, whether the data is in a known state (as it was, or restored). False only when C(pg_restore) did
      not finish within an hour and may still be running; C(playbooks/db_restore.yml) then keeps the app in
      maintenance.
  returned: failure
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_backup_arguments
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import BackupError, Backups, named_backup_error
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    Swarm,
    docker_argument_spec,
)


def run(module, backups):
    backup_id = module.params["backup"]
    if backup_id is None:
        records = backups.records()
        if not records:
            raise BackupError(f"app {backups.app} has no backup in {backups.directory}")
        backup_id = records[-1]["id"]
    record = backups.record(backup_id)
    restored = backups.restore(backup_id, verify_only=module.check_mode)
    return {"changed": True, "backup": record, **restored}


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_backup_arguments()),
        supports_check_mode=True,
    )
    app, backup_id = module.params["name"], module.params["backup"]
    error = named_backup_error(app, backup_id)
    if error:
        module.fail_json(msg=f"Error restoring app {app}'s database: {error}")
    try:
        result = run(module, Backups(Swarm(module), app, module.params["directory"]))
    except (APIError, BackupError, OSError) as exc:
        module.fail_json(msg=f"Error restoring app {app}'s database: {exc}", settled=getattr(exc, "settled", True))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_backup_fetch
short_description: Fetch a database backup back from the backup target to the database's node
description:
  - Copies one backup of the app's database (its archive and record) from the backup target
    (M(sentinel.paas.db_backup_target)) into the directory of backups on this node, when this node does not have it
    (a node that took over from a lost one, or a database that moved). M(sentinel.paas.db_restore) then checks it (its
    SHA-256 must be the one recorded) and restores it, as any other backup.
  - With O(backup), that backup. Without, the newest in the target, but only when this node has no backup of the app
    at all (else a restore takes the newest here).
  - Runs on the node the app's database is pinned to, through the target's service there (rclone, with the
    target's credentials); does nothing when no target is set.
version_added: 0.3.0
author: Sentinel developers (@sentinel)
options:
  backup:
    description: The backup's id.
    type: str
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    support: none
seealso:
  - module: sentinel.paas.db_backup_target
  - module: sentinel.paas.db_restore
"""

EXAMPLES = r"""
- name: Fetch todo's backup before-v2 from the target, if this node lacks it
  sentinel.paas.db_backup_fetch:
    name: todo
    backup: before-v2
"""

RETURN = r"""
fetched:
  description: The id of the backup fetched (or that would be, in check mode); null when none had to be.
  returned: always
  type: str
source:
  description: Where it was fetched from, C(s3://BUCKET/PREFIX/NAME/ID.dump); null when none was.
  returned: always
  type: str
target:
  description: The backup target as C(s3://BUCKET/PREFIX); null when none is set (or its service does not run here).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _backup_target
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_backup_arguments
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import BackupError, Backups, named_backup_error
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def run(module, backups):
    wanted = module.params["backup"]
    result = {"changed": False, "fetched": None, "source": None, "target": None}
    container = _backup_target.ship_container(backups.swarm, module.params["directory"])
    if container is None:
        return result
    result["target"] = f"s3://{_backup_target.target_path(backups.swarm, container)}"
    here = [r["id"] for r in backups.records()]
    if (wanted and wanted in here) or (not wanted and here):
        return result
    there = _backup_target.listed(backups.swarm, container, backups.app)
    if wanted and wanted not in there:
        latest = ", ".join(there[-5:]) or "none"
        raise BackupError(f"app {backups.app} has no backup {wanted!r} on this node nor in {result['target']} "
                          f"(the latest there: {latest})")  # fmt: skip
    if not there:
        return result
    fetched = wanted or there[-1]
    source = f"{result['target']}/{backups.app}/{fetched}.dump"
    if not module.check_mode:
        backups.make_directory()
        source = _backup_target.fetch(backups.swarm, container, backups.app, fetched)
    return {**result, "changed": True, "fetched": fetched, "source": source}


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_backup_arguments()),
        supports_check_mode=True,
    )
    app, backup_id = module.params["name"], module.params["backup"]
    error = named_backup_error(app, backup_id)
    if error:
        module.fail_json(msg=f"Error fetching a backup of app {app}'s database: {error}")
    try:
        result = run(module, Backups(Swarm(module), app, module.params["directory"]))
    except (APIError, BackupError, _backup_target.TargetError, OSError) as exc:
        module.fail_json(msg=f"Error fetching a backup of app {app}'s database: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

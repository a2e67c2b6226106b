#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_backup
short_description: A backup of an app's PostgreSQL database, made and verified, or removed
description:
  - Dumps the app's database (C(NAME-db)) with C(pg_dump) in its custom format, inside the database's own container,
    while the app keeps serving (a dump reads one consistent snapshot and blocks no writer).
  - Verifies the archive with C(pg_restore --list) before keeping it, then records its size, SHA-256, duration and
    the tables whose rows it holds. M(sentinel.paas.db_restore) checks that record before it touches a database.
  - A backup is named by its O(backup) id, so running the same task again changes nothing.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  backup:
    description:
      - The backup's id (lowercase letters, digits, C(.), C(_), C(-)). Left out, a new id from the time
        (C(20261205t174500z)), so each run makes a new backup.
      - Required with O(state=absent).
    type: str
  state:
    description: V(present) makes the backup when it does not exist; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  keep:
    description:
      - After making a backup, remove the oldest of the app's backups until this many are left (never the one
        O(backup) names). Left out, none is removed.
    type: int
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The app's backup ids before and after.
seealso:
  - module: sentinel.paas.db_backup_info
  - module: sentinel.paas.db_restore
"""

EXAMPLES = r"""
- name: Back up todo's database now, keeping the 7 newest backups
  sentinel.paas.db_backup:
    name: todo
    keep: 7
  register: backup

- name: A backup with a chosen id (made once)
  sentinel.paas.db_backup:
    name: todo
    backup: before-migration-42

- name: Remove it
  sentinel.paas.db_backup:
    name: todo
    backup: before-migration-42
    state: absent
"""

RETURN = r"""
backup:
  description: The backup's record (null once removed, or in check mode before it exists).
  returned: always
  type: dict
  contains:
    id:
      description: Its id.
      type: str
    created:
      description: When it was made (ISO 8601, UTC).
      type: str
    size:
      description: The archive's size in bytes.
      type: int
    sha256:
      description: The archive's SHA-256.
      type: str
    seconds:
      description: How long the dump, its check and its copy took.
      type: float
    tables:
      description: The tables whose rows it holds (C(schema table)).
      type: list
      elements: str
pruned:
  description: The ids of the backups removed to keep O(keep).
  returned: always
  type: list
  elements: str
path:
  description: The archive's path on the host.
  returned: always
  type: str
copied_to:
  description:
    - Where the new backup was copied, off this node (C(s3://BUCKET/PREFIX/NAME/ID.dump)), when a backup target is
      set (M(sentinel.paas.db_backup_target)); null otherwise, or when the copy has to wait for the target (a
      warning says why).
  returned: always
  type: str
diff:
  description: The app's backup ids before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _backup_target, _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument, backup_directory_argument
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import (
    BackupError,
    Backups,
    backup_id_error,
    new_backup_id,
)
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    Swarm,
    docker_argument_spec,
)


def copy_off(module, backups, backup_id):
    """Copy the new backup to the backup target now, when one is set: where it went. A copy that fails is only a
    warning: the backup is made, and the target's service copies it at its next look."""
    container = _backup_target.ship_container(backups.swarm, module.params["directory"])
    if container is None:
        return None
    try:
        return _backup_target.copy_off(backups.swarm, container, backups.app, backup_id)
    except (_backup_target.TargetError, APIError, OSError) as exc:
        module.warn(f"{exc}; it stays on this node, and is copied when the target takes it")
        return None


def run(module, backups):
    params = module.params
    backup_id = params["backup"] or new_backup_id()
    present = params["state"] == "present"
    before = [r["id"] for r in backups.records()]  # oldest first
    if present:
        after = before if backup_id in before else before + [backup_id]
    else:
        after = [i for i in before if i != backup_id]
    # The oldest go, never the one asked for.
    extra = len(after) - params["keep"] if present and params["keep"] else 0
    pruned = [i for i in after if i != backup_id][: max(extra, 0)]
    after = [i for i in after if i not in pruned]
    if present and backup_id not in before:
        backups.container()  # in check mode too: refuse an app without a database, or one that runs elsewhere
    copied_to = None
    if after != before and not module.check_mode:
        if present and backup_id not in before:
            backups.take(backup_id)
            copied_to = copy_off(module, backups, backup_id)
        for gone in set(before) - set(after):
            backups.remove(gone)
    result = {
        "changed": after != before,
        "backup": backups.record(backup_id) if present else None,
        "pruned": pruned,
        "path": backups.path(backup_id, "dump"),
        "copied_to": copied_to,
    }
    if module._diff:
        result["diff"] = {"before": {"backups": before}, "after": {"backups": after}}
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            **backup_directory_argument(),
            backup={"type": "str"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            keep={"type": "int"},
        ),
        required_if=[("state", "absent", ["backup"])],
        supports_check_mode=True,
    )
    app, params = module.params["name"], module.params
    errors = [
        _naming.app_name_error(app),
        params["backup"] is not None and backup_id_error(params["backup"], by_hand=params["state"] == "present"),
        params["keep"] is not None and params["keep"] < 1 and f"invalid keep {params['keep']}: keep at least 1",
    ]
    errors = [e for e in errors if e]
    if errors:
        module.fail_json(msg=f"Error backing up app {app}'s database: {'; '.join(errors)}")
    try:
        result = run(module, Backups(Swarm(module), app, params["directory"]))
    except (APIError, BackupError, OSError) as exc:
        module.fail_json(msg=f"Error backing up app {app}'s database: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_psql
short_description: Run SQL with psql in an app's PostgreSQL database task, or find that task for a session
description:
  - Runs O(sql) with C(psql) inside the app's database task (C(NAME-db)), as the app's database user, and returns
    what C(psql) printed. The statement runs as given, so the module cannot know whether it changed data, and with
    O(sql) it reports a change.
  - Without O(sql), finds the task's container only, for an interactive C(psql) there (C(sentinel db psql NAME)).
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  sql:
    description:
      - The SQL to run (C(psql -c)); it stops at the first error (C(ON_ERROR_STOP)), which fails the task.
      - If not set, nothing runs.
    type: str
  timeout:
    description: How many seconds the SQL may run.
    type: int
    default: 300
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the SQL does not run; the module finds the database's task only.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: The SQL runs each time.
notes:
  - The module runs on the node the app's database is pinned to (C(playbooks/db_psql.yml) delegates there), and
    fails with a clear message elsewhere.
seealso:
  - module: sentinel.paas.db_backup
"""

EXAMPLES = r"""
- name: Count todo's rows
  sentinel.paas.db_psql:
    name: todo
    sql: SELECT count(*) FROM todos
  register: counted
"""

RETURN = r"""
container:
  description: The ID of the database task's container on this host.
  returned: always
  type: str
output:
  description: What C(psql) printed (null without O(sql), or in check mode).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._db_backup import BackupError, database_container
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            sql={"type": "str"},
            timeout={"type": "int", "default": 300},
        ),
        supports_check_mode=True,
    )
    app, sql = module.params["name"], module.params["sql"]
    error = _naming.app_name_error(app) or (sql is not None and not sql.strip() and "sql must not be empty")
    if error:
        module.fail_json(msg=f"Error running psql in app {app}'s database: {error}")
    swarm = Swarm(module)
    try:
        container = database_container(swarm, app)
        if sql is None or module.check_mode:
            module.exit_json(changed=False, container=container, output=None)
        argv = ["psql", "-X", "-v", "ON_ERROR_STOP=1", f"--username={app}", f"--dbname={app}", "-c", sql]
        code, out, err = swarm.exec_in(container, argv, timeout=module.params["timeout"])
    except (APIError, BackupError, OSError) as exc:
        module.fail_json(msg=f"Error running psql in app {app}'s database: {exc}")
    if code != 0:
        module.fail_json(msg=f"psql in app {app}'s database failed (exit {code}): {(err or out).strip()[-2000:]}")
    module.exit_json(changed=True, container=container, output=out)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Where an app's database backups live (module_utils/_args.py declares it).
    DOCUMENTATION = r"""
options:
  directory:
    description:
      - The directory of backups on the node the app's database is pinned to. Each app's backups are in its own
        subdirectory, C(DIRECTORY/NAME/ID.dump) with the record C(ID.json) beside it.
    type: path
    default: /var/lib/sentinel/backups
notes:
  - M(sentinel.paas.db_backup), M(sentinel.paas.db_restore) and M(sentinel.paas.db_backup_info) run on that node
    (the playbooks delegate there, see C(playbooks/tasks/find_db_host.yml)) and fail with a clear message elsewhere;
    M(sentinel.paas.db_schedule) runs on a manager.
  - Backups are C(pg_dump) archives in its custom format, made and read by the database container's own PostgreSQL
    tools, so they restore into the same or a later major version.
"""

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
      - The directory of backups on the host the module runs on, which must be the node the app's database
        runs on. Each app's backups are in its own subdirectory, C(DIRECTORY/NAME/ID.dump) with the record
        C(ID.json) beside it.
    type: path
    default: /var/lib/sentinel/backups
notes:
  - The module runs where the app's database task runs (M(sentinel.paas.swarm_app) pins it to the first manager), and
    fails with a clear message elsewhere.
  - Backups are C(pg_dump) archives in its custom format, made and read by the database container's own PostgreSQL
    tools, so they restore into the same or a later major version.
"""

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_backup_target_info
short_description: The backup target that database backups are copied to, off their nodes
description:
  - Reads the target M(sentinel.paas.db_backup_target) set, from its service C(sentinel-backup-ship) (never its
    credentials), and on how many nodes that service runs.
  - Runs on a manager.
version_added: 0.3.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
seealso:
  - module: sentinel.paas.db_backup_target
"""

EXAMPLES = r"""
- name: Read the backup target
  sentinel.paas.db_backup_target_info:
  register: found
"""

RETURN = r"""
target:
  description: The target (endpoint, bucket, region, prefix, image, directory); null when none is set.
  returned: always
  type: dict
url:
  description: The target as C(s3://BUCKET/PREFIX), null when none is set.
  returned: always
  type: str
directory:
  description:
    - O(directory) as a path (normalised). The playbooks make it on every node from here, not from the result of
      M(sentinel.paas.db_backup_target), where Ansible masks every string that holds a key.
  returned: always
  type: str
running:
  description: On how many nodes the service copying to it runs.
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _backup_target
from ansible_collections.sentinel.paas.plugins.module_utils._args import backup_directory_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(argument_spec=docker_argument_spec(**backup_directory_argument()), supports_check_mode=True)
    swarm = Swarm(module)
    try:
        target = _backup_target.shown(_backup_target.view(swarm.service(_backup_target.SHIP)))
        tasks = swarm.tasks(_backup_target.SHIP, desired_state="running") if target else []
    except APIError as exc:
        module.fail_json(msg=f"Error reading the backup target: Docker API: {exc}")
    running = sum(1 for t in tasks if t["Status"]["State"] == "running")
    directory = os.path.normpath(module.params["directory"])
    module.exit_json(changed=False, target=target, url=_backup_target.url(target), directory=directory, running=running)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_record_info
short_description: Read the decision records of an app's canary rollouts
description:
  - The records M(sentinel.paas.canary_record) keeps in the Swarm, newest rollout first, each as its newest
    version (a run killed between two writes leaves two; the newer wins).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  number:
    description: Only the rollout of this number.
    type: int
  limit:
    description: At most this many rollouts, the newest.
    type: int
seealso:
  - module: sentinel.paas.canary_record
"""

EXAMPLES = r"""
- name: Read todo's last rollout
  sentinel.paas.canary_record_info:
    name: todo
    limit: 1
  register: last

- name: Show how it ended
  ansible.builtin.debug:
    msg: "rollout {{ last.rollouts[0].number }}: {{ last.rollouts[0].status }}"
  when: last.rollouts
"""

RETURN = r"""
rollouts:
  description: The records (see M(sentinel.paas.canary_record)), newest first; empty when there are none.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout_record as records
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            number={"type": "int"},
            limit={"type": "int"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    error = app_name_error(p["name"])
    if not error and p["limit"] is not None and p["limit"] < 1:
        error = f"limit must be at least 1, got {p['limit']}"
    if error:
        module.fail_json(msg=f"Error reading the rollouts of {p['name']}: {error}")
    try:
        rollouts = records.rollouts_of(Swarm(module), p["name"])
    except APIError as exc:
        module.fail_json(msg=f"Error reading the rollouts of {p['name']}: {exc}")
    if p["number"] is not None:
        rollouts = [r for r in rollouts if r.get("number") == p["number"]]
    module.exit_json(changed=False, rollouts=rollouts[: p["limit"]])


if __name__ == "__main__":
    main()

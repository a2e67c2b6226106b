#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_info
short_description: Read the release records of an app's production
description:
  - The records M(sentinel.paas.swarm_app) keeps in the Swarm, one per release of production (a deploy, a change
    of its environment, a promote, a rollback), newest first, and which one production runs.
  - The environment shows as its keys; its values only with O(values). Secrets show as the names of their
    versions, never a value.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  number:
    description: Only the release of this number.
    type: int
  limit:
    description: At most this many releases, the newest.
    type: int
  values:
    description: Also return the environment's values (C(env)), as a rollback to a release needs them.
    type: bool
    default: false
seealso:
  - module: sentinel.paas.swarm_app
"""

EXAMPLES = r"""
- name: Read todo's releases
  sentinel.paas.release_info:
    name: todo
  register: todo_releases

- name: Show the live one
  ansible.builtin.debug:
    msg: "todo runs v{{ todo_releases.live }}"
"""

RETURN = r"""
live:
  description: The release production runs now; null without production.
  returned: always
  type: int
releases:
  description: The records, newest first; empty when there are none.
  returned: always
  type: list
  elements: dict
  contains:
    release:
      description: Its number, from 1.
      type: int
    live:
      description: Whether production runs it now.
      type: bool
    time:
      description: When it was made (UTC, ISO 8601).
      type: str
    image:
      description: The image, pinned to the digest the registry served.
      type: str
    env_keys:
      description: The environment's keys (the app's own, without those Sentinel adds).
      type: list
      elements: str
    env:
      description: The environment, with O(values) only.
      type: dict
    secret_env:
      description: The secret each C(KEY) of M(sentinel.paas.swarm_app)'s O(sentinel.paas.swarm_app#module:secret_env)
        was, by name (never a value).
      type: dict
    changes:
      description: The fields of production that changed (C(image), C(env), C(secrets), ...); V(created) for the first.
      type: list
      elements: str
    by:
      description: Who made it, as the operation said (user@host, or the AWX job); null when not told.
      type: str
    reason:
      description: Why (C(deploy), C(promote), C(rollback to v3), ...); null when not told.
      type: str
  sample:
    - {release: 2, live: true, time: "2026-12-05T07:30:00+00:00", image: "todo:2@sha256:4f...", env_keys: [A],
       secret_env: {}, changes: [image], by: ann@laptop, reason: deploy}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _release_record as records
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import release_of
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error, service_name
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            number={"type": "int"},
            limit={"type": "int"},
            values={"type": "bool", "default": False},
        ),
        supports_check_mode=True,
    )
    p = module.params
    error = app_name_error(p["name"])
    if not error and p["limit"] is not None and p["limit"] < 1:
        error = f"limit must be at least 1, got {p['limit']}"
    if error:
        module.fail_json(msg=f"Error reading the releases of {p['name']}: {error}")
    swarm = Swarm(module)
    try:
        configs = records.newest_first(swarm.configs({records.LABEL_APP: p["name"]}))
        prod = swarm.service(service_name(p["name"], "prod"))
    except APIError as exc:
        module.fail_json(msg=f"Error reading the releases of {p['name']}: {exc}")
    live = release_of(prod["Spec"].get("Labels")) or None if prod else None
    found = [records.shown(records.record_of(c), live, p["values"]) for c in configs]
    if p["number"] is not None:
        found = [r for r in found if r["release"] == p["number"]]
    module.exit_json(changed=False, live=live, releases=found[: p["limit"]])


if __name__ == "__main__":
    main()

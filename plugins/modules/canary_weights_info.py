#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_weights_info
short_description: Read one app's traffic split between production and canary
description:
  - Reads the Traefik file-provider document C(NAME-split.yml) that M(sentinel.paas.canary_weights) keeps
    in the Swarm, and reports the weights of production and canary, the sticky cookie and the canary's port.
    Any manager answers the same.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
seealso:
  - module: sentinel.paas.canary_weights
"""

EXAMPLES = r"""
- name: Read the split of todo
  sentinel.paas.canary_weights_info:
    name: todo
  register: split

- name: Show it
  ansible.builtin.debug:
    msg: "{{ split.weights.canary }}% of new clients go to the canary"
  when: split.exists
"""

RETURN = r"""
exists:
  description: Whether the app has a split.
  returned: always
  type: bool
config:
  description: The Docker config that holds the split; null without one.
  returned: always
  type: str
  sample: sentinel-traefik-todo-split-3
weights:
  description: Traefik weights of production and canary; null when the split does not exist.
  returned: always
  type: dict
  sample: {prod: 90, canary: 10}
cookie_name:
  description: Name of the sticky cookie; null when the split does not exist.
  returned: always
  type: str
  sample: sentinel_todo
secure:
  description: Whether the sticky cookie is sent over HTTPS only; null when the split does not exist.
  returned: always
  type: bool
port:
  description:
    - The canary's container port the split sends to; null when the split does not exist, or was
      written before the split carried the canary's own service.
  returned: always
  type: int
  sample: 8000
baseline_port:
  description: The baseline's container port when the split has a baseline, V(0) when it has none; null without a split.
  returned: always
  type: int
  sample: 0
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _split
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_name_argument()),
        supports_check_mode=True,
    )
    app = module.params["name"]
    error = _naming.app_name_error(app)
    if error:
        module.fail_json(msg=f"Error reading traffic split {app}: {error}")
    if _split.YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=_split.YAML_IMPORT_ERROR)
    try:
        result = _split.split_of(Swarm(module), app)
    except (APIError, ValueError) as exc:
        module.fail_json(msg=f"Error reading traffic split {app}: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

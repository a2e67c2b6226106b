#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: notify_receiver_info
short_description: The receivers of the platform's alerts and events
description:
  - Lists the receivers M(sentinel.paas.notify_receiver) keeps, from their secrets' labels (name, kind, app). Never a
    URL or a password (they are only inside the secrets).
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  name:
    description: Only this receiver (an empty list when there is none of that name).
    type: str
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
seealso:
  - module: sentinel.paas.notify_receiver
"""

EXAMPLES = r"""
- name: Read the receivers
  sentinel.paas.notify_receiver_info:
  register: receivers
"""

RETURN = r"""
receivers:
  description: Each receiver, by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Its name.
      type: str
    kind:
      description: webhook, slack or email.
      type: str
    app:
      description: The app whose alerts and events it alone gets; null for a cluster-wide receiver.
      type: str
    secret:
      description: Its Docker secret, which the notifier mounts.
      type: str
    attached:
      description: Whether the notifier mounts it now.
      type: bool
    mount:
      description: How the notifier mounts it, as an entry of C(community.docker.docker_swarm_service)'s C(secrets).
      type: dict
notifier:
  description: Whether the notifier runs on this cluster.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _notifier
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def main():
    module = AnsibleModule(argument_spec=docker_argument_spec(name={"type": "str"}), supports_check_mode=True)
    swarm = Swarm(module)
    try:
        found = _notifier.receivers(swarm)
        attached = _notifier.attached(swarm)
    except APIError as exc:
        module.fail_json(msg=f"Error reading the receivers: {exc}")
    receivers = [
        {
            **_notifier.view(s),
            "secret": s["Spec"]["Name"],
            "attached": s["Spec"]["Name"] in (attached or []),
            "mount": _notifier.mount(s),
        }
        for s in found
    ]
    if module.params["name"]:
        receivers = [r for r in receivers if r["name"] == module.params["name"]]
    module.exit_json(changed=False, receivers=receivers, notifier=attached is not None)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_lease
short_description: Take or give back the lease that lets one operation at a time change an app (or the cluster)
description:
  - A lease is a Docker config in the Swarm (C(sentinel-lease-app-NAME), or C(sentinel-lease-cluster)) whose
    labels name its holder's O(token), O(owner), O(operation), when it started and when it ends. Every manager
    sees the same lease, and the engine refuses a second config of that name, so two runs cannot both take it.
  - Every changing playbook takes the app's lease first and gives it back at its end, failed or not, so the
    CLI, AWX and plain C(ansible-playbook) wait for each other. A second operation is refused at once, naming
    the holder and since when.
  - A lease whose holder died (killed, its machine lost) ends after O(seconds); O(force) gives it back on
    purpose (C(sentinel unlock NAME)).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
options:
  scope:
    description: Whose lease, one app's (O(name)) or the whole cluster's (node operations).
    type: str
    choices: [app, cluster]
    default: app
  name:
    description: The app, with O(scope=app). A DNS label, as every module's O(name).
    type: str
  state:
    description:
      - V(present) takes the lease, or keeps it when O(token) holds it already; it fails when another holder's
        lease has not ended.
      - V(absent) gives it back when O(token) holds it (or with O(force), whoever does); another holder's lease
        stays.
    type: str
    choices: [present, absent]
    default: present
  token:
    description: What identifies this run as the holder; a new random text for each run of a playbook.
    type: str
    required: true
  owner:
    description: Who runs the operation (shown to whoever is refused), for example V(alice@laptop). Needed to take it.
    type: str
  operation:
    description: What runs, for example V(canary promote). Needed to take the lease.
    type: str
  seconds:
    description: How long a lease lasts unless given back, from when it is taken.
    type: int
    default: 900
  force:
    description: With O(state=absent), give the lease back whoever holds it.
    type: bool
    default: false
notes:
  - The lease protects against Sentinel's own operations running together. It does not stop a
    C(docker service update) typed by hand.
seealso:
  - module: sentinel.paas.swarm_app
"""

EXAMPLES = r"""
- name: Take the lease of todo for this run
  sentinel.paas.swarm_lease:
    name: todo
    token: "{{ run_token }}"
    owner: alice@laptop
    operation: canary promote

- name: Give it back
  sentinel.paas.swarm_lease:
    name: todo
    token: "{{ run_token }}"
    state: absent

- name: Break a dead run's lease on purpose (sentinel unlock todo)
  sentinel.paas.swarm_lease:
    name: todo
    token: unlock
    state: absent
    force: true
"""

RETURN = r"""
lease:
  description: The lease after the run (its owner, operation, started, expires); null when there is none.
  returned: always
  type: dict
  sample: {owner: alice@laptop, operation: canary promote, started: "2026-12-02T10:00:00+00:00",
           expires: "2026-12-02T10:15:00+00:00"}
held:
  description: Whether O(token) holds the lease after the run.
  returned: always
  type: bool
previous:
  description: The lease before the run (what C(sentinel unlock) broke); null when there was none.
  returned: always
  type: dict
diff:
  description: The lease before and after.
  returned: when diff mode is on
  type: dict
"""

import json
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _lease
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


class LeaseError(Exception):
    """Why the lease cannot be taken; nothing was changed."""


class Lease:
    def __init__(self, module, swarm):
        self.module = module
        self.swarm = swarm
        p = module.params
        self.scope, self.name, self.token = p["scope"], p["name"], p["token"]
        self.config_name = _lease.lease_name(self.scope, self.name)

    def current(self):
        config = self.swarm.config(self.config_name)
        return (config, _lease.lease_of(config["Spec"].get("Labels"))) if config else (None, None)

    def run(self):
        config, lease = self.current()
        act = self.take if self.module.params["state"] == "present" else self.give_back
        after = act(config, lease)
        changed = after != lease
        result = {
            "changed": changed,
            "lease": _lease.public(after),
            "held": bool(after) and after["token"] == self.token,
            "previous": _lease.public(lease),
        }
        if self.module._diff:
            result["diff"] = {"before": _lease.public(lease) or {}, "after": _lease.public(after) or {}}
        return result

    def take(self, config, lease):
        now = datetime.now(timezone.utc)
        if lease and lease["token"] == self.token:
            return lease
        if lease and not _lease.expired(lease, now):
            raise LeaseError(_lease.busy_message(self.scope, self.name, lease))
        p = self.module.params
        wanted = _lease.new_lease(self.token, p["owner"], p["operation"], now, p["seconds"])
        if not self.module.check_mode:
            if config:  # ended: its holder is gone
                self.swarm.remove_config(config["ID"])
            try:
                data = json.dumps(_lease.public(wanted), sort_keys=True).encode()
                self.swarm.create_config(self.config_name, data, _lease.labels_of(wanted))
            except APIError as exc:
                if getattr(exc, "status_code", None) != 409:
                    raise
                # Another run took it between our read and our write.
                winner = self.current()[1]
                raise LeaseError(_lease.busy_message(self.scope, self.name, winner or wanted)) from exc
        return wanted

    def give_back(self, config, lease):
        if lease is None or (lease["token"] != self.token and not self.module.params["force"]):
            return lease
        if not self.module.check_mode:
            self.swarm.remove_config(config["ID"])
        return None


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            scope={"type": "str", "choices": ["app", "cluster"], "default": "app"},
            name={"type": "str"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            token={"type": "str", "required": True, "no_log": False},
            owner={"type": "str"},
            operation={"type": "str"},
            seconds={"type": "int", "default": _lease.DEFAULT_SECONDS},
            force={"type": "bool", "default": False},
        ),
        required_if=[("scope", "app", ["name"]), ("state", "present", ["owner", "operation"])],
        supports_check_mode=True,
    )
    p = module.params
    what = _lease.what(p["scope"], p["name"])
    error = app_name_error(p["name"]) if p["scope"] == "app" else None
    if p["seconds"] < 1:
        error = f"invalid seconds {p['seconds']}: a lease lasts at least 1 second"
    if error:
        module.fail_json(msg=f"Error with the lease of {what}: {error}")
    try:
        result = Lease(module, Swarm(module)).run()
    except LeaseError as exc:
        module.fail_json(msg=str(exc))
    except APIError as exc:
        module.fail_json(msg=f"Error with the lease of {what}: Docker API: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

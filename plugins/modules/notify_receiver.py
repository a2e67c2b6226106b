#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: notify_receiver
short_description: Add, change or remove a receiver of the platform's alerts and operation events
description:
  - A receiver is where the notifier (C(sentinel-notifier), the C(alertmanager) role) delivers Alertmanager's alerts
    and the operations' events, as one JSON payload (C(sentinel.event/v1), docs/notifications.md), to a generic
    webhook, a Slack incoming webhook, or e-mail over SMTP.
  - Each receiver is a Docker secret, C(sentinel-receiver-NAME), labelled with its name, kind and app; the URL or
    the SMTP password is only inside it, so neither appears in a label, the environment, a diff or the output. The
    notifier mounts every receiver's secret; adding, changing or removing one rolls its task (a second or two).
  - A receiver with O(app) gets that app's alerts and events instead of the cluster-wide receivers (those without
    O(app)), which get everything else.
  - A secret cannot be read back, so a change is found by a salted hash of the receiver in a label
    (C(sentinel.config-hash)).
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  name:
    description: The receiver's name, 1-30 lowercase letters, digits and hyphens.
    type: str
    required: true
  state:
    description: V(present) keeps the receiver as given; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  kind:
    description: V(webhook) POSTs the event JSON; V(slack) POSTs C({"text":...}); V(email) sends a mail.
    type: str
    choices: [webhook, slack, email]
  url:
    description: The webhook's (or Slack incoming webhook's) URL, http or https. A secret.
    type: str
  app:
    description: Only this app's alerts and events (instead of the cluster-wide receivers).
    type: str
  email:
    description: The e-mail receiver's settings.
    type: dict
    suboptions:
      to:
        description: Addresses the mail goes to.
        type: list
        elements: str
      from:
        description: The sender's address.
        type: str
      host:
        description: The SMTP server.
        type: str
      port:
        description: Its port.
        type: int
        default: 587
      username:
        description: The SMTP user, when the server wants a login.
        type: str
      password:
        description: The SMTP password. A secret.
        type: str
      starttls:
        description: Upgrade the connection with STARTTLS before logging in.
        type: bool
        default: true
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The receiver's name, kind and app before and after; never its URL or password.
seealso:
  - module: sentinel.paas.notify_receiver_info
  - module: sentinel.paas.notify_event
"""

EXAMPLES = r"""
- name: Tell the on-call webhook everything
  sentinel.paas.notify_receiver:
    name: oncall
    kind: webhook
    url: "{{ vault_oncall_webhook_url }}"

- name: The todo team's Slack channel gets todo's alerts and events
  sentinel.paas.notify_receiver:
    name: todo-team
    kind: slack
    url: "{{ vault_todo_slack_url }}"
    app: todo

- name: Mail the operators
  sentinel.paas.notify_receiver:
    name: ops-mail
    kind: email
    email:
      to: [ops@example.com]
      from: sentinel@example.com
      host: smtp.example.com
      username: sentinel
      password: "{{ vault_smtp_password }}"

- name: Remove a receiver
  sentinel.paas.notify_receiver:
    name: oncall
    state: absent
"""

RETURN = r"""
receiver:
  description: The receiver now (name, kind, app), null when absent.
  returned: always
  type: dict
  sample: {name: oncall, kind: webhook, app: null}
notifier:
  description: Whether the notifier runs on this cluster, and so mounts the change now (else it does when it starts).
  returned: always
  type: bool
changes:
  description: V(receiver) when it was added, changed or removed.
  returned: always
  type: list
  elements: str
diff:
  description: The receiver's name, kind and app before and after.
  returned: when diff mode is on
  type: dict
"""

import json
import secrets as random_secrets

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _notifier
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import password_hash, password_matches
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def labels_of(document: dict, digest: str) -> dict:
    return {
        **_naming.PLATFORM_LABELS,
        _naming.LABEL_RECEIVER: document["name"],
        _naming.LABEL_RECEIVER_KIND: document["kind"],
        _naming.LABEL_RECEIVER_APP: document["app"] or "",
        _naming.LABEL_CONFIG_HASH: digest,
    }


def run(module, swarm):
    p = module.params
    name = _notifier.secret_name(p["name"])
    current = next((s for s in _notifier.receivers(swarm) if s["Spec"]["Name"] == name), None)
    document = _notifier.document(p) if p["state"] == "present" else None
    text = json.dumps(document, sort_keys=True) if document else None
    if document is None:
        changed = current is not None
    else:
        labels = (current or {}).get("Spec", {}).get("Labels") or {}
        same = _notifier.view(current) == {k: document[k] for k in ("name", "kind", "app")}
        changed = not (same and password_matches(text, labels.get(_naming.LABEL_CONFIG_HASH)))
    notifier = swarm.service(_notifier.NOTIFIER) is not None
    if changed and not module.check_mode:
        others = [s for s in _notifier.receivers(swarm) if s["Spec"]["Name"] != name]
        if current is not None:
            # A secret in use cannot be removed: the notifier lets go of it first.
            _notifier.attach(swarm, others)
            swarm.remove_secret(name)
        if document is not None:
            digest = password_hash(text, random_secrets.token_hex(8))
            swarm.create_secret(name, text.encode(), labels_of(document, digest))
            _notifier.attach(swarm, _notifier.receivers(swarm))
    after = {k: document[k] for k in ("name", "kind", "app")} if document else None
    result = {"changed": changed, "changes": ["receiver"] if changed else [], "receiver": after, "notifier": notifier}
    if module._diff:
        result["diff"] = {"before": {"receiver": _notifier.view(current)}, "after": {"receiver": after}}
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            name={"type": "str", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            kind={"type": "str", "choices": list(_notifier.KINDS)},
            url={"type": "str", "no_log": True},
            app={"type": "str"},
            email={
                "type": "dict",
                "options": {
                    "to": {"type": "list", "elements": "str"},
                    "from": {"type": "str"},
                    "host": {"type": "str"},
                    "port": {"type": "int", "default": 587},
                    "username": {"type": "str"},
                    "password": {"type": "str", "no_log": True},
                    "starttls": {"type": "bool", "default": True},
                },
            },
        ),
        required_if=[("state", "present", ["kind"]), ("kind", "email", ["email"])],
        supports_check_mode=True,
    )
    name = module.params["name"]
    verb = "keeping" if module.params["state"] == "present" else "removing"
    present = module.params["state"] == "present"
    error = _notifier.receiver_error(module.params) if present else _notifier.name_error(name)
    if error:
        module.fail_json(msg=f"Error {verb} receiver {name}: {error}")
    try:
        result = run(module, Swarm(module))
    except APIError as exc:
        module.fail_json(msg=f"Error {verb} receiver {name}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: notify_event
short_description: Tell the receivers about an operation (deploy, canary, node), or test them
description:
  - Hands one event (C(sentinel.event/v1), docs/notifications.md) to the platform's notifier (C(sentinel-notifier)),
    which delivers it to the receivers (M(sentinel.paas.notify_receiver)) on its own, later, in the order it took
    the events. The module waits at most 2 seconds for the notifier to take it, never for a receiver, and never
    fails. An event that could not be handed over is reported in RV(sent) and a warning, and the operation goes on.
  - With O(test=true), it instead delivers a C(notify.test) event at once to O(receiver) (or to every receiver)
    and returns what each answered; that fails when a receiver did not take it.
  - Run it on the host where the notifier's task runs (the first manager); it runs C(python3) inside that task
    (C(docker exec)).
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  type:
    description: What happened, as a dotted name (C(deploy), C(config.changed), C(canary.started), C(node.drained)).
    type: str
  app:
    description: The app it happened to; omitted for the cluster (a node).
    type: str
  summary:
    description: One line for people (Slack, the mail's subject).
    type: str
  details:
    description: More about it, as the payload's other keys (never a secret).
    type: dict
    default: {}
  test:
    description: Deliver a C(notify.test) event now and report each receiver's answer (O(type) is then not used).
    type: bool
    default: false
  receiver:
    description: With O(test=true), the receiver to test; omitted, every receiver.
    type: str
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
    details: Sends nothing.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run sends one event.
seealso:
  - module: sentinel.paas.notify_receiver
"""

EXAMPLES = r"""
- name: Tell the receivers todo was deployed
  sentinel.paas.notify_event:
    type: deploy
    app: todo
    summary: release v3 (todo:2) is live
    details:
      release: 3
      image: todo:2

- name: Test the oncall receiver
  sentinel.paas.notify_event:
    test: true
    receiver: oncall
"""

RETURN = r"""
event:
  description: The event handed over (without O(test)).
  returned: always
  type: dict
sent:
  description:
    - Whether the notifier took the event (or, with O(test), every receiver did); false without a notifier on the
      cluster (the monitoring is off), where there is no receiver to tell.
  returned: always
  type: bool
queued:
  description: The receivers the notifier queued the event for.
  returned: always
  type: list
  elements: str
answers:
  description: With O(test), each receiver's answer, C(ok) or C(error ...).
  returned: always
  type: dict
"""

import re
from datetime import datetime, timezone
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _events, _notifier
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import Swarm, docker_argument_spec

_TYPE = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*"


def test(module, notifier):
    receiver = module.params["receiver"]
    path = "/test" + (f"?receiver={quote(receiver)}" if receiver else "")
    try:
        answers = notifier.post(path, {}, timeout=_notifier.TEST_TIMEOUT)["results"]
    except (_notifier.NotifierError, KeyError, TypeError) as exc:
        module.fail_json(msg=f"Error testing the receivers: {exc}")
    failed = {name: answer for name, answer in answers.items() if answer != "ok"}
    if failed or not answers:
        why = "; ".join(f"{n}: {a}" for n, a in failed.items()) or "there is no receiver (sentinel notify add)"
        module.fail_json(msg=f"Error testing the receivers: {why}", answers=answers)
    module.exit_json(changed=False, event=None, sent=True, queued=sorted(answers), answers=answers)


def tell(module, payload):
    """_notifier.tell, an engine that does not answer the connection included: never the operation's failure."""
    try:
        swarm = Swarm(module)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the operation goes on
        return None, f"the receivers were not told of {payload['type']}: {exc}"
    return _notifier.tell(swarm, payload)


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            type={"type": "str"},
            app={"type": "str"},
            summary={"type": "str"},
            details={"type": "dict", "default": {}},
            test={"type": "bool", "default": False},
            receiver={"type": "str"},
        ),
        required_if=[("test", False, ["type"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["test"]:
        if module.check_mode:
            module.exit_json(changed=False, event=None, sent=False, queued=[], answers={})
        test(module, _notifier.Notifier(Swarm(module)))
    if not re.fullmatch(_TYPE, p["type"]):
        module.fail_json(msg=f"invalid event type {p['type']!r}: use dotted lowercase words, such as canary.started")
    taken = sorted(set(p["details"]) & {"schema", "type", "app", "at", "summary"})
    if taken:
        module.fail_json(msg=f"details must not name {', '.join(taken)}: the event's own keys")
    at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    extra = {"summary": p["summary"]} if p["summary"] else {}
    payload = _events.event(p["type"], p["app"], at, **p["details"], **extra)
    queued, warning = (None, None) if module.check_mode else tell(module, payload)
    if warning:
        module.warn(warning)
    module.exit_json(changed=False, event=payload, sent=queued is not None, queued=queued or [], answers={})


if __name__ == "__main__":
    main()

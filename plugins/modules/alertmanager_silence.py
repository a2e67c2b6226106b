#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: alertmanager_silence
short_description: Silence the platform's alerts that carry given labels, until told otherwise
description:
  - Keeps one silence in the platform's Alertmanager (C(sentinel-alertmanager), the C(alertmanager) role) for the
    alerts whose labels equal O(matchers), such as every alert of a node while it is drained
    (C(nodename=NODE)). Alerts still fire in Prometheus; Alertmanager just tells nobody.
  - A silence counts as this module's when O(created_by) made it with exactly these matchers, so a silence that a
    person set by hand is never touched.
  - Run it on the host where Alertmanager's task runs (the first manager). It runs C(amtool) inside that task
    (C(docker exec)); Alertmanager publishes no port.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  matchers:
    description:
      - Labels the silenced alerts carry, each matched by equality (V(nodename) and the node's hostname for a
        node's alerts).
      - Label names as Prometheus spells them (letters, digits, underscores, not starting with a digit); values
        not empty.
    type: dict
    required: true
  state:
    description:
      - V(present) keeps a silence for O(matchers) (one is added when none is active); V(absent) expires every
        silence of O(created_by) for exactly O(matchers).
    type: str
    choices: [present, absent]
    default: present
  comment:
    description: Why the alerts are silenced, as Alertmanager shows it (a new silence only).
    type: str
    default: Silenced by Sentinel
  duration:
    description:
      - How long a new silence lasts, as Prometheus writes durations (V(2h), V(30d), V(1y)). Long by default, since
        it is meant to last until O(state=absent) ends it.
    type: str
    default: 365d
  created_by:
    description: The silence's author, by which this module knows its own silences.
    type: str
    default: sentinel
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The silence's matchers, author, comment and end, before and after.
seealso:
  - module: sentinel.paas.cluster_info
"""

EXAMPLES = r"""
- name: Tell nobody about node2's alerts while it is drained
  sentinel.paas.alertmanager_silence:
    matchers:
      nodename: node2
    comment: node2 drained by sentinel cluster drain; sentinel cluster activate node2 ends this

- name: Tell again once it is active
  sentinel.paas.alertmanager_silence:
    matchers:
      nodename: node2
    state: absent
"""

RETURN = r"""
silences:
  description: IDs of this module's silences for O(matchers) after the run (none with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [db7fd0e1-b09e-4f68-982f-d869969a144c]
changes:
  description: V(silence) when a silence was added or expired.
  returned: always
  type: list
  elements: str
diff:
  description: The silence before and after (null when there is none).
  returned: when diff mode is on
  type: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _alertmanager
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    NoLocalTask,
    Swarm,
    docker_argument_spec,
)

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")


def request_error(params) -> str | None:
    """Why the options cannot make a silence, or None."""
    matchers = params["matchers"]
    if not matchers:
        return "matchers must name at least one label, or the silence would hide every alert"
    for name, value in matchers.items():
        if not LABEL_NAME.fullmatch(name):
            return f"invalid label name {name!r}: use letters, digits and underscores, not starting with a digit"
        if not isinstance(value, str) or not value:
            return f"label {name} needs a non-empty text value, got {value!r}"
    if not DURATION.fullmatch(params["duration"]) or not re.search(r"[1-9]", params["duration"]):
        return f"invalid duration {params['duration']!r}: use a Prometheus duration such as 2h, 30d or 1y"
    if not params["created_by"]:
        return "created_by must not be empty: it is how this module knows its own silences"
    return None


def run(module, alertmanager):
    p = module.params
    before = _alertmanager.ours(alertmanager.silences(), p["matchers"], p["created_by"])
    present = p["state"] == "present"
    changed = (not before) if present else bool(before)
    ids = [s["id"] for s in before]
    after = before[0] if before else None
    if changed and present:
        after = {
            "matchers": [{"name": k, "value": v, "isEqual": True, "isRegex": False} for k, v in p["matchers"].items()],
            "createdBy": p["created_by"],
            "comment": p["comment"],
            "endsAt": f"in {p['duration']}",
        }
        if not module.check_mode:
            ids = [alertmanager.add(p["matchers"], p["created_by"], p["comment"], p["duration"])]
    elif changed:
        after = None
        if not module.check_mode:
            alertmanager.expire(ids)
        ids = []
    result = {"changed": changed, "changes": ["silence"] if changed else [], "silences": ids}
    if module._diff:
        result["diff"] = {
            "before": {"silence": _alertmanager.view(before[0] if before else None)},
            "after": {"silence": _alertmanager.view(after)},
        }
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            matchers={"type": "dict", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            comment={"type": "str", "default": "Silenced by Sentinel"},
            duration={"type": "str", "default": "365d"},
            created_by={"type": "str", "default": "sentinel"},
        ),
        supports_check_mode=True,
    )
    labels = ", ".join(f"{k}={v}" for k, v in (module.params["matchers"] or {}).items())
    verb = "silencing" if module.params["state"] == "present" else "ending the silence of"
    error = request_error(module.params)
    if error:
        module.fail_json(msg=f"Error {verb} alerts with {labels or 'no labels'}: {error}")
    try:
        result = run(module, _alertmanager.Alertmanager(Swarm(module)))
    except (NoLocalTask, _alertmanager.AlertmanagerError, APIError) as exc:
        module.fail_json(msg=f"Error {verb} alerts with {labels}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

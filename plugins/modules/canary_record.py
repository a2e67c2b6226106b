#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_record
short_description: Keep the decision record of a canary rollout in the Swarm
description:
  - A rollout's record says who started it and when, the images, its options, each judged step (weight,
    verdict, reasons, and the numbers the judge saw, that is requests, errors, p50/p95/p99 per version and the
    test statistics), the step under way, and how it ended. It lives in the Swarm as a Docker config, so any
    manager answers, and survives the process that drove the rollout (C(sentinel canary resume) reads it).
  - The rollout is the one of O(id) (a text the rollout's run makes once); the first write makes a new one,
    numbered after the app's last. Later writes set the top-level fields in O(set) and keep the others.
  - An O(event) (such as V(step)) goes out through Sentinel's one event function, and into the record's
    events, when the write changes the record.
  - An app keeps its last O(keep) rollouts; older ones are removed when a new one starts.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
options:
  id:
    description: Which rollout of O(name), as its run named it.
    type: str
    required: true
  set:
    description:
      - Top-level fields of the record to set, for example C(status), C(steps) or C(current).
      - The fields C(schema), C(app), C(id), C(number) and C(events) are the module's own and are not changed.
    type: dict
    default: {}
  event:
    description: The event this write is, emitted as C(canary.EVENT) with the record's number and status.
    type: str
    choices: [started, step, promoted, rolled_back, paused, dry_run, failed, resumed]
  keep:
    description: How many rollouts of O(name) to keep, the newest; the one being written is always kept.
    type: int
    default: 20
seealso:
  - module: sentinel.paas.canary_record_info
  - module: sentinel.paas.canary_analysis
"""

EXAMPLES = r"""
- name: Record the judged steps of this run's rollout
  sentinel.paas.canary_record:
    name: todo
    id: "{{ rollout_id }}"
    set:
      status: running
      steps: "{{ judged_steps }}"
    event: step
"""

RETURN = r"""
record:
  description: The record after the write (schema, app, id, number, status, events, and the fields set).
  returned: always
  type: dict
  sample: {schema: 1, app: todo, id: k3f9a0, number: 4, status: running, events: []}
event:
  description:
    - The event emitted by this write (schema C(sentinel.event/v1), type, app, at, rollout, status, canary and
      production images; a C(step) event its step's weight, verdict and reasons; an end its verdict and reason).
    - Null when there was none.
  returned: always
  type: dict
diff:
  description: The record before and after.
  returned: when diff mode is on
  type: dict
"""

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _events, _notifier
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout_record as records
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def write(module, swarm):
    p = module.params
    app, rollout_id = p["name"], p["id"]
    by_id = records.versions(swarm.configs({records.LABEL_APP: app}))
    old = by_id.get(rollout_id, [])
    before = records.record_of(old[0]) if old else None
    number = records.number_of(old[0]) if old else records.next_number(by_id)
    after = records.updated(before or records.new_record(app, rollout_id, number), p["set"])
    changed = after != before
    emitted = None
    if changed and p["event"]:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        emitted = _events.event(f"canary.{p['event']}", app, now, **records.event_details(after, p["event"]))
    # Check mode says what the event would be, and emits nothing.
    if changed and not module.check_mode:
        if emitted:
            after = _events.emit(after, emitted)
        seq = records.seq_of(old[0]) + 1 if old else 1
        swarm.create_config(
            records.config_name(app, number, seq), records.data_of(after), records.labels(app, rollout_id, number, seq)
        )
        # The new version is in; the old ones (or, for a new rollout, those past keep) can go.
        for config in old or records.to_prune(by_id, p["keep"]):
            swarm.remove_config(config["ID"])
        if emitted:
            warning = _notifier.tell(swarm, emitted)[1]
            if warning:
                module.warn(warning)
    result = {"changed": changed, "record": after, "event": emitted}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": after} if changed else {"before": {}, "after": {}}
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            id={"type": "str", "required": True},
            set={"type": "dict", "default": {}},
            event={
                "type": "str",
                "choices": ["started", "step", "promoted", "rolled_back", "paused", "dry_run", "failed", "resumed"],
            },
            keep={"type": "int", "default": records.DEFAULT_KEEP},
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = [app_name_error(p["name"])]
    if not p["id"].strip():
        errors.append("id must not be blank")
    if p["keep"] < 1:
        errors.append(f"keep must be at least 1, got {p['keep']}")
    errors = [e for e in errors if e]
    if errors:
        module.fail_json(msg=f"Error recording the rollout of {p['name']}: {'; '.join(errors)}")
    try:
        module.exit_json(**write(module, Swarm(module)))
    except (APIError, ValueError) as exc:
        module.fail_json(msg=f"Error recording the rollout of {p['name']}: {exc}")


if __name__ == "__main__":
    main()

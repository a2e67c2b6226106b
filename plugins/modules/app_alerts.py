#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_alerts
short_description: An app's own alert thresholds, in place of the platform's
description:
  - Keeps an app's alert thresholds as labels of its production service C(NAME-prod)
    (C(sentinel.alert.p95-seconds), C(sentinel.alert.error-ratio)). The Swarm exporter of the C(prometheus) role
    serves them as C(sentinel_app_alert_threshold{app,threshold}), and the rules C(HighP95Latency) and
    C(AppErrorRateHigh) use an app's own threshold where it has one, the platform's (the role's variables) elsewhere.
  - Only service labels change, so the app's tasks keep running; M(sentinel.paas.swarm_app) leaves these labels as
    they are.
version_added: 0.2.0
author: Sentinel developers (@sentinel)
options:
  thresholds:
    description:
      - The thresholds to change; one left out keeps its current value, one given as null goes back to the
        platform's.
      - V(p95_seconds) - C(HighP95Latency) fires when 95% of production's requests take longer than this many
        seconds (over 5 minutes, for 5 minutes); above 0, at most 600.
      - V(error_ratio) - C(AppErrorRateHigh) fires when more than this share of production's requests answer 5xx
        (over 5 minutes, for 5 minutes); above 0, at most 1 (0.05 is 5%).
    type: dict
    default: {}
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The app's own thresholds before and after.
seealso:
  - module: sentinel.paas.swarm_app
"""

EXAMPLES = r"""
- name: todo is slow above 300 ms and failing above 1% of its requests
  sentinel.paas.app_alerts:
    name: todo
    thresholds:
      p95_seconds: 0.3
      error_ratio: 0.01

- name: Back to the platform's p95 threshold; the error ratio stays
  sentinel.paas.app_alerts:
    name: todo
    thresholds:
      p95_seconds: null

- name: Read them
  sentinel.paas.app_alerts:
    name: todo
  check_mode: true
"""

RETURN = r"""
thresholds:
  description: The app's own thresholds now (a missing one is the platform's).
  returned: always
  type: dict
  sample: {p95_seconds: 0.3, error_ratio: 0.01}
changes:
  description: The thresholds that were (or in check mode would be) set or removed.
  returned: always
  type: list
  elements: str
diff:
  description: The app's own thresholds before and after.
  returned: when diff mode is on
  type: dict
"""

import math

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._diff import changed_keys
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec

# Each threshold: (its label, above this, at most this).
THRESHOLDS = {
    "p95_seconds": (f"{_naming.ALERT_LABEL_PREFIX}p95-seconds", 0, 600),
    "error_ratio": (f"{_naming.ALERT_LABEL_PREFIX}error-ratio", 0, 1),
}


def threshold_error(name: str, value: object) -> str | None:
    """Why ``value`` cannot be the app's ``name`` threshold (None: the platform's), or None when it can."""
    if name not in THRESHOLDS:
        return f"unknown threshold {name!r}: use {' or '.join(THRESHOLDS)}"
    if value is None:
        return None
    _label, above, most = THRESHOLDS[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"invalid {name} {value!r}: give a number"
    if isinstance(value, bool) or not math.isfinite(number) or not above < number <= most:
        return f"invalid {name} {value!r}: give a number above {above} and at most {most}"
    return None


def current(labels: dict) -> dict:
    """The app's own thresholds, read from production's labels."""
    found = {}
    for name, (label, _above, _most) in THRESHOLDS.items():
        if label in labels and not threshold_error(name, labels[label]):
            found[name] = float(labels[label])
    return found


def run(module, swarm):
    app = module.params["name"]
    service = _naming.service_name(app, "prod")
    spec = swarm.service(service)
    if spec is None:
        raise LookupError(f"app {app} has no production service {service}: deploy it first")
    before = current(spec["Spec"].get("Labels") or {})
    after = dict(before)
    for name, value in module.params["thresholds"].items():
        if value is None:
            after.pop(name, None)
        else:
            after[name] = float(value)
    changes = changed_keys(before, after)
    if changes and not module.check_mode:

        def build(labels):
            kept = {k: v for k, v in labels.items() if not k.startswith(_naming.ALERT_LABEL_PREFIX)}
            return {**kept, **{THRESHOLDS[n][0]: repr(v) for n, v in after.items()}}

        swarm.set_service_labels(service, build)
    result = {"changed": bool(changes), "changes": changes, "thresholds": after}
    if module._diff:
        result["diff"] = {"before": {"thresholds": before}, "after": {"thresholds": after}}
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(**app_name_argument(), thresholds={"type": "dict", "default": {}}),
        supports_check_mode=True,
    )
    app = module.params["name"]
    errors = [_naming.app_name_error(app)] + [threshold_error(n, v) for n, v in module.params["thresholds"].items()]
    errors = [e for e in errors if e]
    if errors:
        module.fail_json(msg=f"Error setting the alert thresholds of app {app}: {'; '.join(errors)}")
    try:
        result = run(module, Swarm(module))
    except (APIError, LookupError) as exc:
        module.fail_json(msg=f"Error setting the alert thresholds of app {app}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

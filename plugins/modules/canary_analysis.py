#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_analysis
short_description: Judge one step of a canary rollout from Prometheus (pass, fail or inconclusive)
description:
  - Read-only, changes nothing, and waits. Watches O(name)'s production and canary for O(interval)
    from now, then reads from the platform's Prometheus what each version served in each of the
    O(windows) windows of the step, and judges the canary.
  - Counts come from Traefik's raw counters at the window boundaries, not from C(increase()), since a
    version's counter appears at its first request, and a series absent at a boundary counts 0,
    so a canary's very first requests count (and its first failures with them).
  - B(fail) when the canary's 5xx share is over O(max_error_rate) or its p99 over O(max_p99), or,
    when asked, when it is worse than production by more than O(max_error_rate_increase) or
    O(max_latency_increase) B(and) a one-sided Mann-Whitney U test over the windows says so at
    O(confidence). B(inconclusive) when the canary had fewer than O(min_requests) requests, or an
    increase is not confirmed by the test; then the step is held up to O(max_inconclusive) more
    intervals (judged over the whole step so far) before the module returns. B(pass) otherwise.
  - Asks Prometheus inside its task's container (see M(sentinel.paas.metrics_info)); run it on the
    manager the Prometheus task runs on. Fails when Prometheus cannot be asked, as no verdict is not a pass.
  - For windows to hold samples, Prometheus must scrape Traefik at least once per window
    (O(interval) / O(windows)); the test cluster scrapes every 5 s.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.info_module
options:
  interval:
    description: How long one step is watched; a Prometheus duration of one unit, at least V(10s) (as Flagger's).
    type: str
    default: 30s
  windows:
    description:
      - How many windows the step is cut into, the samples the Mann-Whitney U test compares. With
        fewer than 4 per version, no difference reaches 98% confidence.
    type: int
    default: 5
  max_error_rate:
    description: Largest share (0-1) of the canary's answers that may be 5xx (Flagger's success rate >= 99%).
    type: float
    default: 0.01
  max_p99:
    description: Largest 99th percentile latency of the canary, in seconds (Flagger's 500 ms).
    type: float
    default: 0.5
  max_error_rate_increase:
    description: How many points (share 0-1) the canary's 5xx share may be over production's; unset, not compared.
    type: float
  max_latency_increase:
    description:
      - How much higher the canary's p99 may be than production's, a fraction (V(0.2) is 20%); unset, not compared.
    type: float
  min_requests:
    description: Canary requests a step needs before any verdict; fewer is inconclusive, never pass.
    type: int
    default: 50
  confidence:
    description: Confidence level of the comparisons with production (Kayenta's 98%).
    type: float
    default: 0.98
  max_inconclusive:
    description: More intervals a step is held while inconclusive before the module returns that verdict.
    type: int
    default: 2
  query_timeout:
    description: Seconds C(wget) waits for each answer of Prometheus.
    type: int
    default: 10
  baseline:
    description:
      - Compare the canary with its baseline C(NAME-baseline) (production's image, started with the canary and
        given as much traffic), not with production, as Spinnaker and Argo Rollouts advise; the numbers include
        the baseline's.
    type: bool
    default: false
seealso:
  - module: sentinel.paas.metrics_info
  - module: sentinel.paas.canary_weights
"""

EXAMPLES = r"""
- name: Judge todo's canary over 30 s, held up to two more intervals while inconclusive
  sentinel.paas.canary_analysis:
    name: todo
    interval: 30s
    max_latency_increase: 0.2
  register: step

- name: Stop on a failing canary, with the judge's reasons
  ansible.builtin.assert:
    that: step.verdict != 'fail'
    fail_msg: "{{ step.reasons | join('; ') }}"
"""

RETURN = r"""
verdict:
  description: V(pass), V(fail) or V(inconclusive).
  returned: always
  type: str
  sample: fail
reasons:
  description: Why, in words, with the numbers.
  returned: always
  type: list
  elements: str
  sample: ["canary error rate 25.00% is over 1.00% (30 of 120 requests)"]
held:
  description: Intervals the step was held for while inconclusive (0 to O(max_inconclusive)).
  returned: always
  type: int
started:
  description: When the step began, Unix time.
  returned: always
  type: float
ended:
  description: When the step's last window ended, Unix time.
  returned: always
  type: float
judge_seconds:
  description: How long reading Prometheus and judging took after the step's last interval ended.
  returned: always
  type: float
  sample: 0.21
numbers:
  description:
    - By version (V(prod), V(canary), and V(baseline) with O(baseline)), what it served over the step.
      C(requests), C(errors) (5xx), C(p50), C(p95), C(p99) (seconds, estimated from Traefik's latency
      buckets; null without requests), and C(windows), the same per window (C(requests), C(errors), C(p99)).
  returned: always
  type: dict
comparisons:
  description:
    - The comparisons with production that were asked for (C(error_rate), C(p99)), each with both
      values, the C(limit), whether the canary is C(over) it, the Mann-Whitney U C(statistic), its
      C(p_value) and whether it is C(significant) at O(confidence).
  returned: always
  type: dict
thresholds:
  description: The thresholds the step was judged with.
  returned: always
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _judge, _metrics, _rollout, _samples
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._prometheus import (
    Prometheus,
    Unavailable,
    query_timeout_error,
)
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def measure(prometheus: Prometheus, app: str, started: float, ended: float, windows: int, versions: tuple) -> dict:
    """The versions' numbers over [started, ended], cut into ``windows`` windows."""
    # Whole milliseconds (Prometheus counts the step in them): the boundaries it answers at are
    # exactly the ones read back.
    start_ms, step_ms = round(started * 1000), int((ended - started) * 1000) // windows
    points = [(start_ms + k * step_ms) / 1000 for k in range(windows + 1)]
    step = step_ms / 1000
    queries = _samples.raw_queries(app, versions)
    answers = prometheus.query([queries["requests"], queries["buckets"]], span=(points[0], points[-1], step))
    return _samples.measure_step(app, answers[0], answers[1], points, versions)


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            interval={"type": "str", "default": _rollout.DEFAULT_INTERVAL},
            windows={"type": "int", "default": _rollout.DEFAULT_WINDOWS},
            max_error_rate={"type": "float", "default": _judge.DEFAULTS["max_error_rate"]},
            max_p99={"type": "float", "default": _judge.DEFAULTS["max_p99"]},
            max_error_rate_increase={"type": "float"},
            max_latency_increase={"type": "float"},
            min_requests={"type": "int", "default": _judge.DEFAULTS["min_requests"]},
            confidence={"type": "float", "default": _judge.DEFAULTS["confidence"]},
            max_inconclusive={"type": "int", "default": _rollout.DEFAULT_MAX_INCONCLUSIVE},
            query_timeout={"type": "int", "default": 10},
            baseline={"type": "bool", "default": False},
        ),
        supports_check_mode=True,
    )
    params = module.params
    errors = [app_name_error(params["name"])]
    errors += _rollout.analysis_errors(params["interval"], params["windows"], params["max_inconclusive"])
    errors.append(query_timeout_error(params["query_timeout"]))
    if params["max_error_rate_increase"] is not None or params["max_latency_increase"] is not None:
        errors.append(_rollout.comparison_error(params["windows"], params["confidence"]))
    try:
        limits = _judge.thresholds({k: params[k] for k in _judge.DEFAULTS})
    except _judge.JudgeError as exc:
        errors.append(str(exc))
    errors = [e for e in errors if e]
    if errors:
        module.fail_json(msg=f"Error judging the canary of {params['name']}: {'; '.join(errors)}")

    prometheus = Prometheus(Swarm(module), params["query_timeout"])
    interval = _metrics.window_seconds(params["interval"])
    versions, reference, named = (
        (_metrics.WITH_BASELINE, "baseline", "the baseline")
        if params["baseline"]
        else (_metrics.VERSIONS, "prod", "production")
    )
    started = time.time()
    try:
        prometheus.container()  # before the wait: a missing Prometheus is known at once
        for held in range(params["max_inconclusive"] + 1):
            ended = started + (held + 1) * interval
            time.sleep(max(0.0, ended - time.time()))
            numbers = measure(prometheus, params["name"], started, ended, params["windows"] * (held + 1), versions)
            compared = {"canary": numbers["canary"], "prod": numbers[reference]}
            decision = _judge.judge(compared, limits, named)
            judge_seconds = round(time.time() - ended, 3)
            if decision["verdict"] != "inconclusive":
                break
    except (Unavailable, APIError, _metrics.PrometheusError) as exc:
        module.fail_json(msg=f"Error judging the canary of {params['name']}: {exc}")
    module.exit_json(
        changed=False,
        held=held,
        started=started,
        ended=ended,
        judge_seconds=judge_seconds,
        numbers=numbers,
        thresholds=limits,
        **decision,
    )


if __name__ == "__main__":
    main()

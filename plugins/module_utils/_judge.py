# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canary judge: one step's numbers in, a verdict (pass, fail, inconclusive) and its reasons out.

A step is measured per version as ``{requests, errors, p99, windows: [{requests, errors, p99}]}``
(see ``_samples``). The judge never passes on too little traffic (Flagger's "no values found"
stall): fewer than ``min_requests`` canary requests is *inconclusive*. The absolute thresholds
(Flagger's built-ins) fail the canary on their own. A comparison with production fails it only
when the increase is over what is allowed *and* a one-sided Mann-Whitney U test over the step's
windows says the canary is worse at ``confidence`` (Kayenta's judge); an increase the test cannot
confirm is inconclusive. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils._statistics import mann_whitney_u

VERDICTS = ("pass", "fail", "inconclusive")
# Flagger's built-in checks (request-success-rate >= 99%, request-duration p99 <= 500 ms) and
# Kayenta's confidence. Relative checks are off until asked for.
DEFAULTS = {
    "max_error_rate": 0.01,
    "max_p99": 0.5,
    "max_error_rate_increase": None,
    "max_latency_increase": None,
    "min_requests": 50,
    "confidence": 0.98,
}


class JudgeError(ValueError):
    pass


def thresholds(given: dict) -> dict:
    """DEFAULTS with the ``given`` values that are not None; JudgeError names every bad one."""
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in given.items() if v is not None})
    unknown = sorted(set(merged) - set(DEFAULTS))
    problems = [f"unknown threshold {k}" for k in unknown]
    for name in ("max_error_rate", "max_error_rate_increase"):
        if merged[name] is not None and not 0 <= merged[name] <= 1:
            problems.append(f"{name} must be a share between 0 and 1 (0-100%), got {merged[name]}")
    if not 0 < merged["max_p99"] <= 3600:
        problems.append(f"max_p99 must be over 0 and at most an hour (seconds), got {merged['max_p99']}")
    latency_increase = merged["max_latency_increase"]
    if latency_increase is not None and not 0 <= latency_increase <= 100:
        problems.append(f"max_latency_increase must be 0 to 100 (of production's p99), got {latency_increase}")
    if not 1 <= merged["min_requests"] <= 1000000 or int(merged["min_requests"]) != merged["min_requests"]:
        problems.append(f"min_requests must be a whole number from 1, got {merged['min_requests']}")
    if not 0.5 <= merged["confidence"] < 1:
        problems.append(f"confidence must be at least 0.5 and below 1, got {merged['confidence']}")
    if problems:
        raise JudgeError("; ".join(problems))
    return merged


def error_rate(measure: dict) -> float | None:
    return measure["errors"] / measure["requests"] if measure["requests"] else None


def _window_values(measure: dict, key: str) -> list[float]:
    """One value per window with traffic: its error rate, or its p99 where known."""
    values = []
    for window in measure["windows"]:
        if not window["requests"]:
            continue
        value = error_rate(window) if key == "error_rate" else window["p99"]
        if value is not None:
            values.append(value)
    return values


def _compare(canary: dict, prod: dict, key: str, allowed_increase: float, relative: bool, confidence: float) -> dict:
    """Whether the canary's ``key`` is over production's plus what is allowed, and whether the
    windows say so with confidence. ``relative``: the allowance is a fraction of production's value."""
    canary_value = error_rate(canary) if key == "error_rate" else canary["p99"]
    prod_value = error_rate(prod) if key == "error_rate" else prod["p99"]
    limit = prod_value * (1 + allowed_increase) if relative else prod_value + allowed_increase
    canary_windows, prod_windows = _window_values(canary, key), _window_values(prod, key)
    if canary_windows and prod_windows:
        statistic, p_value = mann_whitney_u(canary_windows, prod_windows, alternative="greater")
    else:
        statistic, p_value = None, None
    return {
        "canary": canary_value,
        "prod": prod_value,
        "limit": limit,
        "over": canary_value > limit,
        "statistic": statistic,
        "p_value": p_value,
        "significant": p_value is not None and p_value < 1 - confidence,
    }


def judge(step: dict, limits: dict, reference: str = "production") -> dict:
    """{verdict, reasons, comparisons} for a step ``{"canary": measure, "prod": measure}``,
    ``limits`` as :func:`thresholds` returns them. ``reference`` names what ``prod`` measured in the
    reasons: a rollout with a baseline compares the canary with it, not with production."""
    canary, prod = step["canary"], step["prod"]
    if canary["requests"] < limits["min_requests"]:
        reason = (
            f"canary had {canary['requests']:g} requests, fewer than the {limits['min_requests']} needed for a verdict"
        )
        return {"verdict": "inconclusive", "reasons": [reason], "comparisons": {}}
    failed, unsure = [], []
    rate = error_rate(canary)
    if rate > limits["max_error_rate"]:
        failed.append(
            f"canary error rate {rate:.2%} is over {limits['max_error_rate']:.2%}"
            f" ({canary['errors']:g} of {canary['requests']:g} requests)"
        )
    if canary["p99"] is None:
        unsure.append("no latency measured for the canary (no latency buckets in Prometheus)")
    elif canary["p99"] > limits["max_p99"]:
        failed.append(f"canary p99 {canary['p99'] * 1000:.0f} ms is over {limits['max_p99'] * 1000:.0f} ms")
    comparisons = {}
    relative_checks = (
        ("error_rate", limits["max_error_rate_increase"], False),
        ("p99", limits["max_latency_increase"], True),
    )
    for key, allowed, relative in relative_checks:
        if allowed is None:
            continue
        if prod["requests"] < limits["min_requests"]:
            unsure.append(f"{reference} had too little traffic ({prod['requests']:g} requests) to compare {key}")
            continue
        if key == "p99" and (prod["p99"] is None or canary["p99"] is None):
            if prod["p99"] is None:
                unsure.append(f"no latency measured for {reference}, to compare p99")
            continue  # the canary's missing latency is said above

        compared = comparisons[key] = _compare(canary, prod, key, allowed, relative, limits["confidence"])
        if not compared["over"]:
            continue
        what = (
            f"canary {key} {compared['canary']:.4g} is over {reference}'s {compared['prod']:.4g}"
            f" plus the allowed increase ({compared['limit']:.4g})"
        )
        if compared["significant"]:
            failed.append(f"{what}, p={compared['p_value']:.3g} (Mann-Whitney U over the windows)")
        else:
            p_text = "no windows to compare" if compared["p_value"] is None else f"p={compared['p_value']:.3g}"
            unsure.append(f"{what}, but not at {limits['confidence']:.0%} confidence ({p_text})")
    if failed:
        return {"verdict": "fail", "reasons": failed + unsure, "comparisons": comparisons}
    if unsure:
        return {"verdict": "inconclusive", "reasons": unsure, "comparisons": comparisons}
    reason = f"canary within every threshold over {canary['requests']:g} requests"
    return {"verdict": "pass", "reasons": [reason], "comparisons": comparisons}

"""The canary judge: thresholds checked, verdicts from a step's numbers (pure logic)."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _judge


def measure(windows: list[tuple[int, int, float]]) -> dict:
    """A version's step from (requests, errors, p99) per window; the step's p99 is the worst window's."""
    return {
        "requests": sum(w[0] for w in windows),
        "errors": sum(w[1] for w in windows),
        "p99": max((w[2] for w in windows if w[0]), default=None),
        "windows": [{"requests": r, "errors": e, "p99": p if r else None} for r, e, p in windows],
    }


HEALTHY = ((100, 0, 0.05), (100, 0, 0.06), (100, 1, 0.05), (100, 0, 0.07), (100, 0, 0.05))


def step(canary, prod=HEALTHY) -> dict:
    return {"canary": measure(canary), "prod": measure(prod)}


def verdict(canary, prod=HEALTHY, **given) -> dict:
    return _judge.judge(step(canary, prod), _judge.thresholds(given))


def test_defaults_are_flaggers_builtins_and_kayentas_confidence():
    assert _judge.thresholds({}) == {
        "max_error_rate": 0.01, "max_p99": 0.5, "max_error_rate_increase": None,
        "max_latency_increase": None, "min_requests": 50, "confidence": 0.98,
    }  # fmt: skip
    assert _judge.thresholds({"max_p99": 0.2, "min_requests": None})["max_p99"] == 0.2


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"max_error_rate": 1.5}, "max_error_rate"),
        ({"max_error_rate": -0.1}, "max_error_rate"),
        ({"max_p99": 0}, "max_p99"),
        ({"max_latency_increase": -1}, "max_latency_increase"),
        ({"max_error_rate_increase": 2}, "max_error_rate_increase"),
        ({"min_requests": 0}, "min_requests"),
        ({"min_requests": 2.5}, "min_requests"),
        ({"confidence": 1}, "confidence"),
        ({"confidence": 0.1}, "confidence"),
        ({"speed": 3}, "unknown threshold speed"),
    ],
)
def test_thresholds_out_of_range_are_refused_by_name(given, named):
    with pytest.raises(_judge.JudgeError, match=named):
        _judge.thresholds(given)


def test_a_healthy_canary_passes():
    result = verdict([(20, 0, 0.05), (20, 0, 0.06), (20, 0, 0.05)])
    assert result["verdict"] == "pass", result
    assert "60 requests" in result["reasons"][0]


def test_too_little_traffic_is_inconclusive_never_pass():
    result = verdict([(10, 0, 0.05), (10, 0, 0.05), (29, 0, 0.05)])
    assert result["verdict"] == "inconclusive"
    assert "49 requests, fewer than the 50" in result["reasons"][0]
    # Even a canary that failed everything it served: too little to say.
    assert verdict([(10, 10, 0.05)], min_requests=11)["verdict"] == "inconclusive"


def test_failing_its_first_requests_fails_the_step():
    result = verdict([(20, 20, 0.01), (20, 0, 0.05), (20, 0, 0.05)])
    assert result["verdict"] == "fail"
    assert "error rate 33.33% is over 1.00% (20 of 60 requests)" in result["reasons"][0]


def test_a_slow_canary_fails_on_p99():
    result = verdict([(30, 0, 0.9), (30, 0, 0.8)])
    assert result["verdict"] == "fail"
    assert result["reasons"] == ["canary p99 900 ms is over 500 ms"]


def test_relative_error_rate_fails_only_when_the_windows_confirm_it():
    worse = [(100, 3, 0.05), (100, 4, 0.05), (100, 3, 0.05), (100, 5, 0.05), (100, 4, 0.05)]
    result = verdict(worse, max_error_rate=0.5, max_error_rate_increase=0.01)
    assert result["verdict"] == "fail", result
    compared = result["comparisons"]["error_rate"]
    assert compared["over"] and compared["significant"] and compared["p_value"] < 0.02
    assert compared["canary"] == pytest.approx(0.038) and compared["prod"] == pytest.approx(0.002)
    # One bad window among good ones: over the allowance in total, but not confirmed.
    one_bad = [(100, 0, 0.05), (100, 0, 0.05), (100, 20, 0.05), (100, 0, 0.05), (100, 0, 0.05)]
    result = verdict(one_bad, max_error_rate=0.5, max_error_rate_increase=0.01)
    assert result["verdict"] == "inconclusive", result
    assert "not at 98% confidence" in result["reasons"][0]


def test_relative_latency_is_a_fraction_of_productions_p99():
    slower = [(100, 0, 0.08), (100, 0, 0.09), (100, 0, 0.085), (100, 0, 0.095), (100, 0, 0.09)]
    assert verdict(slower, max_latency_increase=0.2)["verdict"] == "fail"  # 95 ms > 70 ms * 1.2
    assert verdict(slower, max_latency_increase=0.5)["verdict"] == "pass"  # 95 ms <= 105 ms


def test_the_reasons_name_what_the_canary_is_compared_with():
    slower = [(100, 0, 0.08), (100, 0, 0.09), (100, 0, 0.085), (100, 0, 0.095), (100, 0, 0.09)]
    limits = _judge.thresholds({"max_latency_increase": 0.2})
    assert "over the baseline's" in _judge.judge(step(slower), limits, "the baseline")["reasons"][0]
    assert "over production's" in _judge.judge(step(slower), limits)["reasons"][0]


def test_comparing_with_a_silent_production_is_inconclusive():
    quiet_prod = [(5, 0, 0.05), (5, 0, 0.05)]
    result = verdict([(60, 0, 0.05)], prod=quiet_prod, max_latency_increase=0.2)
    assert result["verdict"] == "inconclusive"
    assert "production had too little traffic (10 requests)" in result["reasons"][0]


def test_absolute_failures_win_over_an_unsure_comparison():
    result = verdict([(60, 30, 0.05)], prod=[(5, 0, 0.05)], max_error_rate_increase=0.01)
    assert result["verdict"] == "fail"
    assert len(result["reasons"]) == 2


def test_a_canary_without_latency_is_never_a_pass():
    no_buckets = {"requests": 60, "errors": 0, "p99": None, "windows": [{"requests": 60, "errors": 0, "p99": None}]}
    result = _judge.judge({"canary": no_buckets, "prod": measure(HEALTHY)}, _judge.thresholds({}))
    assert result["verdict"] == "inconclusive"
    assert result["reasons"] == ["no latency measured for the canary (no latency buckets in Prometheus)"]

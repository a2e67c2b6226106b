"""_samples: per-window counts from raw counters at the boundaries (absent = 0, resets), and
histogram_quantile as Prometheus computes it."""

from __future__ import annotations

import math

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _samples

POINTS = [100.0, 110.0, 120.0, 130.0]


def series(service: str, values: dict[float, float], **labels) -> dict:
    return {"metric": {"service": service, **labels}, "values": [[t, str(v)] for t, v in values.items()]}


@pytest.mark.parametrize(
    ("quantile", "buckets", "expected"),
    [
        (0.5, {0.1: 50, 0.5: 100, math.inf: 100}, 0.1),
        (0.75, {0.1: 50, 0.5: 100, math.inf: 100}, 0.3),
        (0.99, {0.1: 0, 0.5: 0, 1.0: 100, math.inf: 100}, 0.995),
        (0.99, {0.1: 10, 0.5: 10, math.inf: 100}, 0.5),  # in +Inf: the highest finite bound
        (0.5, {0.1: 0, math.inf: 0}, None),
        (0.5, {}, None),
        (0.5, {math.inf: 10}, None),  # no finite bucket: Prometheus says NaN
    ],
)
def test_histogram_quantile_interpolates_as_prometheus_does(quantile, buckets, expected):
    assert _samples.histogram_quantile(quantile, buckets) == (None if expected is None else pytest.approx(expected))


def test_a_counter_born_inside_the_step_counts_its_first_requests():
    requests = [
        series("todo-prod@swarm", {100.0: 500, 110.0: 600, 120.0: 700, 130.0: 800}, code="200", instance="a"),
        # The canary's counters appear at its first requests: 20 failures, then successes.
        series("todo-canary@file", {110.0: 20, 120.0: 20, 130.0: 20}, code="500", instance="a"),
        series("todo-canary@file", {120.0: 30, 130.0: 70}, code="200", instance="a"),
        series("other-prod@swarm", {100.0: 1, 130.0: 99}, code="200", instance="a"),
    ]
    numbers = _samples.measure_step("todo", requests, [], POINTS)
    assert numbers["prod"]["requests"] == 300 and numbers["prod"]["errors"] == 0
    canary = numbers["canary"]
    assert (canary["requests"], canary["errors"]) == (90, 20)
    assert [(w["requests"], w["errors"]) for w in canary["windows"]] == [(20, 20), (30, 0), (40, 0)]
    assert canary["p99"] is None  # no buckets given


def test_a_restarted_traefik_counts_from_zero_again_and_instances_add_up():
    requests = [
        series("todo-prod@swarm", {100.0: 50, 110.0: 80, 120.0: 5, 130.0: 25}, code="200", instance="a"),
        series("todo-prod@swarm", {100.0: 10, 110.0: 20, 120.0: 30, 130.0: 40}, code="200", instance="b"),
    ]
    windows = _samples.measure_step("todo", requests, [], POINTS)["prod"]["windows"]
    assert [w["requests"] for w in windows] == [40, 15, 30]


def test_latency_per_window_and_over_the_step():
    def buckets(le, values):
        return series("todo-canary@file", values, le=le, instance="a")

    answer = [
        buckets("0.1", {100.0: 0, 110.0: 10, 120.0: 10}),
        buckets("1", {100.0: 0, 110.0: 10, 120.0: 20}),
        buckets("+Inf", {100.0: 0, 110.0: 10, 120.0: 20}),
    ]
    canary = _samples.measure_step("todo", [], answer, POINTS[:3])["canary"]
    assert canary["windows"][0]["p99"] == pytest.approx(0.099)  # all under 0.1
    assert canary["windows"][1]["p99"] == pytest.approx(0.1 + 0.9 * 0.99)  # all in (0.1, 1]
    assert canary["p50"] == pytest.approx(0.1) and canary["p99"] == pytest.approx(0.1 + 0.9 * 0.98)


def test_a_missed_scrape_counts_nothing_rather_than_the_whole_counter():
    requests = [series("todo-prod@swarm", {100.0: 1000, 120.0: 1003, 130.0: 1004}, code="500", instance="a")]
    windows = _samples.measure_step("todo", requests, [], POINTS)["prod"]["windows"]
    assert [w["requests"] for w in windows] == [0, 3, 1]


def test_boundaries_in_whole_milliseconds_match_what_prometheus_answers():
    """30 s in 7 windows: 4285 ms each, as Prometheus counts the step; the answers' timestamps
    are those boundaries, written as seconds with 3 decimals."""
    start_ms, step_ms = 1733160000123, 30000 // 7
    points = [(start_ms + k * step_ms) / 1000 for k in range(8)]
    values = {float(f"{(start_ms + k * step_ms) / 1000:.3f}"): 10 * k for k in range(8)}
    requests = [series("todo-canary@file", values, code="200", instance="a")]
    windows = _samples.measure_step("todo", requests, [], points)["canary"]["windows"]
    assert [w["requests"] for w in windows] == [10] * 7


def test_a_baseline_is_measured_only_when_asked_for():
    requests = [
        series("todo-canary@file", {100.0: 0, 130.0: 30}, code="200", instance="a"),
        series("todo-baseline@file", {100.0: 0, 130.0: 27}, code="200", instance="a"),
    ]
    assert set(_samples.measure_step("todo", requests, [], POINTS)) == {"prod", "canary"}
    with_baseline = _samples.measure_step("todo", requests, [], POINTS, ("prod", "canary", "baseline"))
    assert with_baseline["baseline"]["requests"] == 27 and with_baseline["canary"]["requests"] == 30
    assert (
        "todo-(prod|canary|baseline)@(?:file|swarm)"
        in _samples.raw_queries("todo", ("prod", "canary", "baseline"))["requests"]
    )

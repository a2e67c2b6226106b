"""_rollout: a rollout's options checked before anything starts (steps, timing, thresholds)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout


@pytest.mark.parametrize(
    ("given", "steps"),
    [("5,10,25,50", [5, 10, 25, 50]), ([1, 100], [1, 100]), (" 20 , 40 ", [20, 40]), (["5", 10.0], [5, 10])],
)
def test_steps_from_a_list_or_text(given, steps):
    assert _rollout.parse_steps(given) == steps


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "give the canary's weights in order"),
        ([], "give the canary's weights in order"),
        ("10,5", "strictly increasing"),
        ("10,10", "strictly increasing"),
        ("0,10", "at least 1%"),
        ("50,150", "invalid step '150'"),
        ("5,x", "invalid step 'x'"),
        ([True], "invalid step True"),
    ],
)
def test_bad_steps_are_refused_with_the_reason(given, message):
    with pytest.raises(ValueError, match=message):
        _rollout.parse_steps(given)


def test_nothing_given_is_valid_and_blank_counts_as_not_given():
    assert _rollout.rollout_errors({}) == []
    assert _rollout.rollout_errors({"steps": "", "interval": " ", "max_p99": None}) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "5s"}, "interval must be at least 10s"),
        ({"interval": "1m30s"}, "invalid window '1m30s'"),
        ({"windows": 1}, "windows must be at least 2"),
        ({"interval": "10s", "windows": 20}, "20 windows of 10s would last under 1 s each"),
        ({"max_inconclusive": -1}, "max_inconclusive must be 0 or more"),
        ({"on_inconclusive": "wait"}, "on_inconclusive must be one of rollback, pause"),
        ({"max_error_rate": "2"}, "max_error_rate must be a share between 0 and 1"),
        ({"max_p99": "fast"}, "max_p99 must be a number"),
        ({"steps": "50,25"}, "strictly increasing"),
        ({"windows": 5.9}, "windows must be a whole number"),
        ({"windows": True}, "windows must be a whole number"),
        ({"windows": 3, "max_latency_increase": 0.2}, "3 windows can never show a difference at 98% confidence"),
        ({"interval": "1h", "windows": 3000, "max_inconclusive": 3}, "over Prometheus' 11000 points"),
        ({"load": "api:20"}, "invalid load 'api:20': give PATH:RPS"),
        ({"load": "/api:0"}, "1 to 500 requests a second"),
        ({"load": "/api:501"}, "1 to 500 requests a second"),
        ({"load": "/a b:5"}, "invalid load"),
        ({"load": 20}, "invalid load 20"),
        ({"baseline": True, "steps": "10,50"}, "with a baseline the canary's steps go up to 33, got 50"),
        ({"baseline": True}, "a baseline is only compared through max_error_rate_increase or max_latency_increase"),
        ({"baseline": "maybe"}, "baseline must be true or false, got 'maybe'"),
    ],
)
def test_each_bad_option_is_named(options, message):
    errors = _rollout.rollout_errors(options)
    assert any(message in error for error in errors), errors


def test_every_problem_is_reported_at_once():
    assert len(_rollout.rollout_errors({"steps": "9,1", "interval": "1s", "confidence": 2})) == 3


def test_three_windows_are_enough_at_95_percent_and_without_comparisons():
    assert _rollout.rollout_errors({"windows": 3, "max_latency_increase": 0.2, "confidence": 0.95}) == []
    assert _rollout.rollout_errors({"windows": 3}) == []


def test_the_lease_outlasts_the_longest_rollout():
    assert _rollout.rollout_seconds({}) == 4 * 30 * 3 + 900
    assert _rollout.rollout_seconds({"steps": "10,50", "interval": "5m", "max_inconclusive": "0"}) == 2 * 300 + 900
    assert _rollout.given_steps("  ") == [5, 10, 25, 50]


def test_resolved_options_fill_in_every_default_as_the_record_keeps_them():
    options = _rollout.resolved(
        {"steps": "10,50", "interval": "1m", "min_requests": "20", "windows": " ", "load": "/api/todos?x=1:20"}
    )
    assert options["steps"] == [10, 50]
    assert options["load"] == {"path": "/api/todos?x=1", "rps": 20}
    assert _rollout.resolved({})["load"] is None
    assert _rollout.resolved({})["baseline"] is False and _rollout.resolved({"baseline": "true"})["baseline"] is True
    with_baseline = {"baseline": "yes", "max_latency_increase": 0.2}
    assert _rollout.rollout_errors(with_baseline) == []
    assert _rollout.resolved(with_baseline)["steps"] == [5, 10, 25]  # the default steps a baseline leaves room for
    assert (options["interval_seconds"], options["step_seconds"]) == (60, 180)
    assert (options["windows"], options["min_requests"], options["max_p99"]) == (5, 20, 0.5)
    assert _rollout.resolved(options) == options  # a record's options are valid input again
    assert _rollout.rollout_seconds(options) == 2 * 180 + 900


@pytest.mark.parametrize(
    ("judged", "dry_run", "on_inconclusive", "passed", "left", "verdict"),
    [
        ([], False, "rollback", 0, [5, 10, 25], "pass"),
        (["pass"], False, "rollback", 1, [10, 25], "pass"),
        (["pass", "inconclusive"], False, "pause", 1, [10, 25], "pass"),  # a paused step is judged again
        (["pass", "inconclusive"], False, "rollback", 2, [], "inconclusive"),  # it stands: roll back
        (["pass", "fail"], False, "pause", 2, [], "fail"),  # a fail stands, never judged again
        (["fail"], True, "rollback", 1, [10, 25], "fail"),  # a dry run goes on past a fail, and keeps it
        (["pass", "inconclusive"], True, "pause", 2, [25], "inconclusive"),
        (["pass", "pass", "pass"], False, "rollback", 3, [], "pass"),
    ],
)
def test_what_a_rollout_has_left_from_its_record(judged, dry_run, on_inconclusive, passed, left, verdict):
    steps = [{"weight": weight, "verdict": verdict} for weight, verdict in zip([5, 10, 25], judged, strict=False)]
    options = {"steps": [5, 10, 25], "on_inconclusive": on_inconclusive}
    found = _rollout.left({"options": options, "dry_run": dry_run, "steps": steps})
    assert (len(found["passed"]), found["steps"], found["verdict"]) == (passed, left, verdict)
    # What is judged again is kept aside, so the record still shows why it paused.
    assert found["passed"] + found["superseded"] == steps


def test_a_deadline_counts_from_the_rollouts_start():
    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert _rollout.overdue("2026-12-02T10:00:00+00:00", "30m", now)
    assert not _rollout.overdue("2026-12-02T10:00:00+00:00", "2h", now)
    assert not _rollout.overdue("2026-12-02T10:00:00+00:00", None, now)
    assert not _rollout.overdue("2026-12-02T10:00:00+00:00", "", now)
    with pytest.raises(ValueError, match="invalid deadline"):
        _rollout.overdue("2026-12-02T10:00:00+00:00", "soon", now)

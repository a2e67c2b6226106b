# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of a progressive canary rollout, checked once: by canary_analysis for one step and
by the rollout_errors filter before a rollout starts anything. Private to this collection.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from ansible_collections.sentinel.paas.plugins.module_utils import _judge, _metrics
from ansible_collections.sentinel.paas.plugins.module_utils._load import MAX_RPS
from ansible_collections.sentinel.paas.plugins.module_utils._split import MAX_WEIGHT_WITH_BASELINE, parse_weight

DEFAULT_STEPS = (5, 10, 25, 50)
DEFAULT_INTERVAL = "30s"
# Five windows a step: with fewer than four a side, no difference reaches 98% confidence.
DEFAULT_WINDOWS = 5
DEFAULT_MAX_INCONCLUSIVE = 2
# Flagger's minimum interval; a window shorter than a second holds no scrape of its own.
MIN_INTERVAL_SECONDS = 10
MIN_WINDOW_SECONDS = 1
# Prometheus answers a range query with at most 11,000 points: windows of a step, held ones included.
MAX_POINTS = 11000
ON_INCONCLUSIVE = ("rollback", "pause")
_LOAD = re.compile(r"(/\S*):([0-9]+)")


def parse_steps(value: object) -> list[int]:
    """The canary's weights, step by step, from a list or ``"5,10,25,50"``; ValueError says why not."""
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or items == [""]:
        raise ValueError(f"invalid steps {value!r}: give the canary's weights in order, such as 5,10,25,50")
    steps = []
    for item in items:
        try:
            steps.append(parse_weight(item))
        except ValueError:
            raise ValueError(f"invalid step {item!r} in steps: each is a weight from 1 to 100") from None
    if steps[0] < 1:
        raise ValueError(f"invalid steps {value!r}: the first step must give the canary at least 1%")
    if any(later <= earlier for earlier, later in zip(steps, steps[1:])):  # noqa: B905 (Python 3.9)
        raise ValueError(f"invalid steps {value!r}: weights must be strictly increasing")
    return steps


def parse_load(value: object) -> dict | None:
    """``"PATH:RPS"`` (``/api/todos:20``) as {path, rps}, as the record keeps it (and takes back); None
    when not given; ValueError says why not."""
    if _blank(value):
        return None
    if isinstance(value, dict) and set(value) == {"path", "rps"}:
        value = f"{value['path']}:{value['rps']}"
    match = _LOAD.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or not 1 <= int(match[2]) <= MAX_RPS:
        raise ValueError(
            f"invalid load {value!r}: give PATH:RPS, a path from / and 1 to {MAX_RPS} requests a second,"
            " such as /api/todos:20"
        )
    return {"path": match[1], "rps": int(match[2])}


def parse_flag(name: str, value: object) -> bool:
    """A yes/no option as an extra var gives it (true, "true", "yes", "1", blank: no); ValueError says why not."""
    if _blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "false", "no", "0"):
        return text in ("true", "yes", "1")
    raise ValueError(f"{name} must be true or false, got {value!r}")


def given_steps(value: object, baseline: bool = False) -> list[int]:
    """:func:`parse_steps`, with the default steps when none (or blank) are given: those a baseline
    leaves room for, with one."""
    if _blank(value):
        value = [step for step in DEFAULT_STEPS if not baseline or step <= MAX_WEIGHT_WITH_BASELINE]
    return parse_steps(value)


def analysis_errors(interval: object, windows: int, max_inconclusive: int) -> list[str]:
    """What is wrong with the timing of a step's analysis; [] when nothing is."""
    errors = []
    window_error = _metrics.window_error(interval)
    if window_error:
        errors.append(window_error)
    elif _metrics.window_seconds(interval) < MIN_INTERVAL_SECONDS:
        errors.append(f"interval must be at least {MIN_INTERVAL_SECONDS}s, got {interval}")
    elif windows >= 2 and _metrics.window_seconds(interval) / windows < MIN_WINDOW_SECONDS:
        errors.append(f"{windows} windows of {interval} would last under {MIN_WINDOW_SECONDS} s each")
    if windows < 2:
        errors.append(f"windows must be at least 2 (the samples the test compares), got {windows}")
    if max_inconclusive < 0:
        errors.append(f"max_inconclusive must be 0 or more, got {max_inconclusive}")
    elif windows * (max_inconclusive + 1) + 1 > MAX_POINTS:
        errors.append(f"{windows} windows held up to {max_inconclusive} times is over Prometheus' {MAX_POINTS} points")
    return errors


def comparison_error(windows: int, confidence: float) -> str | None:
    """Why comparisons with production could never be significant with this many windows a side:
    the smallest one-sided p-value of n against n values is 1 / C(2n, n)."""
    if windows >= 1 and 1 / math.comb(2 * windows, windows) >= 1 - confidence:
        return (
            f"{windows} windows can never show a difference at {confidence:.0%} confidence:"
            " give more windows (5 is the default) or a lower confidence"
        )
    return None


def _whole(value: object) -> int:
    """An integer, or its text; ValueError for anything else (5.9, True)."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def rollout_errors(options: dict) -> list[str]:
    """Everything wrong with a rollout's options (steps, interval, windows, max_inconclusive,
    on_inconclusive, load, baseline and the judge's thresholds); those left out (None, or blank as an AWX survey
    sends them) take their defaults."""
    given = {k: v for k, v in options.items() if not _blank(v)}
    errors = []
    try:
        baseline = parse_flag("baseline", given.get("baseline"))
    except ValueError as exc:
        errors.append(str(exc))
        baseline = False
    try:
        steps = given_steps(given.get("steps"), baseline)
        if baseline and steps[-1] > MAX_WEIGHT_WITH_BASELINE:
            errors.append(
                f"with a baseline the canary's steps go up to {MAX_WEIGHT_WITH_BASELINE}, got {steps[-1]}:"
                " the baseline takes as much traffic as the canary, and production keeps the largest share"
            )
    except ValueError as exc:
        errors.append(str(exc))
    numbers = {}
    for name in ("windows", "max_inconclusive", *_judge.DEFAULTS):
        if name in given:
            whole = name in ("windows", "max_inconclusive")
            try:
                numbers[name] = _whole(given[name]) if whole else float(given[name])
            except (TypeError, ValueError):
                errors.append(f"{name} must be a {'whole ' if whole else ''}number, got {given[name]!r}")
    timing = (numbers.get("windows", DEFAULT_WINDOWS), numbers.get("max_inconclusive", DEFAULT_MAX_INCONCLUSIVE))
    errors += analysis_errors(given.get("interval", DEFAULT_INTERVAL), *timing)
    try:
        parse_load(given.get("load"))
    except ValueError as exc:
        errors.append(str(exc))
    if given.get("on_inconclusive", "rollback") not in ON_INCONCLUSIVE:
        errors.append(f"on_inconclusive must be one of {', '.join(ON_INCONCLUSIVE)}, got {given['on_inconclusive']!r}")
    try:
        limits = _judge.thresholds({k: numbers.get(k) for k in _judge.DEFAULTS})
    except _judge.JudgeError as exc:
        errors.append(str(exc))
    else:
        compared = limits["max_error_rate_increase"] is not None or limits["max_latency_increase"] is not None
        if compared:
            errors.append(comparison_error(timing[0], limits["confidence"]))
        elif baseline:
            errors.append(
                "a baseline is only compared through max_error_rate_increase or max_latency_increase: give one"
            )
    return [e for e in errors if e]


def resolved(options: dict) -> dict:
    """Every option of a rollout with (valid) ``options``, the defaults filled in, as its record keeps
    them; ``interval_seconds`` and ``step_seconds`` (the longest a step may be held) are derived."""
    given = {k: v for k, v in options.items() if not _blank(v)}
    interval = given.get("interval", DEFAULT_INTERVAL)
    held = _whole(given.get("max_inconclusive", DEFAULT_MAX_INCONCLUSIVE))
    seconds = _metrics.window_seconds(interval)
    limits = _judge.thresholds({k: float(given[k]) for k in _judge.DEFAULTS if k in given})
    baseline = parse_flag("baseline", given.get("baseline"))
    return {
        "steps": given_steps(given.get("steps"), baseline),
        "interval": interval,
        "interval_seconds": seconds,
        "step_seconds": seconds * (held + 1),
        "windows": _whole(given.get("windows", DEFAULT_WINDOWS)),
        "max_inconclusive": held,
        "on_inconclusive": given.get("on_inconclusive", ON_INCONCLUSIVE[0]),
        "load": parse_load(given.get("load")),
        "baseline": baseline,
        **limits,
        "min_requests": int(limits["min_requests"]),
    }


def rollout_seconds(options: dict) -> int:
    """The longest a rollout with these (valid) options can take: every step held as long as it
    may be, and a quarter of an hour for starting the canary and promoting it."""
    options = resolved(options)
    return int(len(options["steps"]) * options["step_seconds"]) + 900


def left(record: dict) -> dict:
    """What a rollout's ``record`` has left to do.

    ``passed``: the judged steps that stand; ``steps``: the weights still to judge; ``verdict``: the
    worst verdict that stands; ``superseded``: the judged steps that will be judged again. A step
    that paused (inconclusive, with ``on_inconclusive: pause``) is judged again; a step that failed,
    or was inconclusive with nothing to wait for, stands: nothing is left, the rollout rolls back.
    A dry run keeps every judged step and goes on after the last one.
    """
    judged = record.get("steps") or []
    weights = record["options"]["steps"]
    if record.get("dry_run"):
        return {"passed": judged, "steps": weights[len(judged) :], "verdict": worst(judged), "superseded": []}
    passes = 0
    while passes < len(judged) and judged[passes].get("verdict") == "pass":
        passes += 1
    stopped = judged[passes] if passes < len(judged) else None
    if stopped and (stopped.get("verdict") == "fail" or record["options"].get("on_inconclusive") != "pause"):
        return {"passed": judged[: passes + 1], "steps": [], "verdict": stopped.get("verdict"), "superseded": []}
    return {"passed": judged[:passes], "steps": weights[passes:], "verdict": "pass", "superseded": judged[passes:]}


def worst(steps: list[dict]) -> str:
    """The worst verdict of judged ``steps``: fail, then inconclusive, then pass (also for none)."""
    verdicts = {step.get("verdict") for step in steps}
    return next((v for v in ("fail", "inconclusive") if v in verdicts), "pass")


def overdue(started: str, deadline: object, now: datetime | None = None) -> bool:
    """Whether a rollout that ``started`` (ISO 8601) has run past ``deadline`` (a duration such as
    ``30m``); never when no deadline is given. ValueError when the deadline is not a duration."""
    if _blank(deadline):
        return False
    error = _metrics.window_error(deadline)
    if error:
        raise ValueError(error.replace("window", "deadline"))
    elapsed = (now or datetime.now(timezone.utc)) - datetime.fromisoformat(started)
    return elapsed.total_seconds() > _metrics.window_seconds(deadline)


def _blank(value: object) -> bool:
    """Not given: None, or blank text as an AWX survey sends it."""
    return value is None or (isinstance(value, str) and not value.strip())

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each version of an app served in each window of a canary step, from Traefik's raw counters.

Not ``increase()``: Traefik creates a version's counters at its first request, so ``increase()``
misses every request before the second scrape of a new series (a canary failing its first 20
requests would look clean). Here the raw counters are read at each window boundary (a range
query with the window as its step) and a series absent at a boundary counts 0 there: its
first requests count in full. A value lower than the one before is a restarted Traefik, whose
counter began again at 0. Counters are kept per Traefik instance, so one instance restarting
does not spoil the others. Private to this collection.
"""

from __future__ import annotations

import math

from ansible_collections.sentinel.paas.plugins.module_utils import _metrics

QUANTILES = {f"p{round(q * 100)}": q for q in _metrics.QUANTILES}


def _milliseconds(seconds) -> int:
    return round(float(seconds) * 1000)


def _deltas(series: dict, points: list[float]) -> list[float]:
    """What one counter grew by in each window, from ``{"values": [[time, "value"], ...]}``.

    Absent before its first value: 0 (not created yet). Absent after it (a missed scrape, a
    stale series): its last value carried forward, so a gap counts nothing rather than it all.
    """
    at = {_milliseconds(t): float(v) for t, v in series["values"] if not math.isnan(float(v))}
    values, last = [], 0.0
    for point in points:
        last = at.get(_milliseconds(point), last)
        values.append(last)
    return [b - a if b >= a else b for a, b in zip(values, values[1:])]  # noqa: B905 (Python 3.9)


def histogram_quantile(quantile: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' histogram_quantile() over cumulative ``{upper bound: count}`` (with +Inf):
    linear within the bucket the rank falls in; the highest finite bound when it is +Inf's."""
    bounds = sorted(buckets)
    total = buckets.get(math.inf, 0.0)
    if total <= 0 or len(bounds) < 2:  # Prometheus: NaN without a finite bucket
        return None
    rank = quantile * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def _empty(windows: int) -> dict:
    return {"requests": [0.0] * windows, "errors": [0.0] * windows, "buckets": [{} for _window in range(windows)]}


def measure_step(
    app: str, requests: list[dict], buckets: list[dict], points: list[float], versions: tuple = _metrics.VERSIONS
) -> dict:
    """{version: {requests, errors, p50, p95, p99, windows: [{requests, errors, p99}]}} of both
    versions (or ``versions``), from the range answers of the raw request counters (by code) and latency buckets
    (by le), read at ``points`` (the window boundaries, first to last)."""
    windows = len(points) - 1
    counted = {v: _empty(windows) for v in versions}
    for series in requests:
        version = _metrics.version_of(app, series["metric"], versions)
        if version is None:
            continue
        deltas = _deltas(series, points)
        is_error = series["metric"].get("code", "").startswith("5")
        for k, delta in enumerate(deltas):
            counted[version]["requests"][k] += delta
            if is_error:
                counted[version]["errors"][k] += delta
    for series in buckets:
        version = _metrics.version_of(app, series["metric"], versions)
        if version is None:
            continue
        bound = float(series["metric"]["le"])
        for k, delta in enumerate(_deltas(series, points)):
            window = counted[version]["buckets"][k]
            window[bound] = window.get(bound, 0.0) + delta
    result = {}
    for version, count in counted.items():
        step_buckets: dict[float, float] = {}
        for window in count["buckets"]:
            for bound, value in window.items():
                step_buckets[bound] = step_buckets.get(bound, 0.0) + value
        measure = {"requests": round(sum(count["requests"]), 3), "errors": round(sum(count["errors"]), 3)}
        measure.update({name: histogram_quantile(q, step_buckets) for name, q in QUANTILES.items()})
        measure["windows"] = [
            {"requests": round(r, 3), "errors": round(e, 3), "p99": histogram_quantile(0.99, b)}
            for r, e, b in zip(count["requests"], count["errors"], count["buckets"])  # noqa: B905 (Python 3.9)
        ]
        result[version] = measure
    return result


def raw_queries(app: str, versions: tuple = _metrics.VERSIONS) -> dict[str, str]:
    """{name: PromQL} of the raw counters :func:`measure_step` reads, per Traefik instance."""
    return {"requests": _metrics.raw_requests(app, versions), "buckets": _metrics.raw_buckets(app, versions)}

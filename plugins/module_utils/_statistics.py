# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The statistics of the canary judge, in plain Python: it runs on managers and AWX execution
environments, which have no SciPy. Checked against ``scipy.stats`` in the unit tests.

``mann_whitney_u`` is SciPy's ``mannwhitneyu`` with its defaults (continuity correction, the
exact distribution for small samples without ties, else the normal approximation with the
tie correction). Private to this collection.
"""

from __future__ import annotations

import math
from functools import lru_cache

ALTERNATIVES = ("two-sided", "greater", "less")
# SciPy's choice: the exact distribution while one sample has at most 8 values and no ties.
EXACT_MAX_SIZE = 8


def ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """Ranks from 1, ties sharing their average rank; and the size of each group of ties."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    ties = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        ties.append(end - start + 1)
        start = end + 1
    return result, ties


@lru_cache(maxsize=64)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many orderings of m values of x and n of y give each U of x (0..m*n), without ties.

    They are the coefficients of the Gaussian binomial [m+n over m] in q, the product over
    i = 1..m of (1 - q^(n+i)) / (1 - q^i): a few passes over a list of m*n+1 integers. Kept
    modulo q^(m*n+1), which is exact because the result has no higher power.
    """
    top = m * n
    counts = [1] + [0] * top
    for i in range(1, m + 1):
        for k in range(top, n + i - 1, -1):  # times (1 - q^(n+i))
            counts[k] -= counts[k - n - i]
        for k in range(i, top + 1):  # divided by (1 - q^i) = times (1 + q^i + q^2i + ...)
            counts[k] += counts[k - i]
    return tuple(counts)


def _exact_sf(u: float, m: int, n: int) -> float:
    """P(U >= u) under the null hypothesis."""
    counts = _u_counts(min(m, n), max(m, n))
    return sum(counts[math.ceil(u) :]) / sum(counts)


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_whitney_u(x: list[float], y: list[float], alternative: str = "two-sided") -> tuple[float, float]:
    """U of x and the p-value for ``alternative`` ("greater": x tends to be larger than y).

    All values equal (no variance): p = 1.0, no evidence of a difference (SciPy gives NaN).
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, not {alternative!r}")
    m, n = len(x), len(y)
    if not m or not n:
        raise ValueError("both samples need at least one value")
    all_ranks, ties = ranks(list(x) + list(y))
    u_x = sum(all_ranks[:m]) - m * (m + 1) / 2
    u_y = m * n - u_x
    u, factor = {"greater": (u_x, 1), "less": (u_y, 1), "two-sided": (max(u_x, u_y), 2)}[alternative]

    tied = any(size > 1 for size in ties)
    if (m <= EXACT_MAX_SIZE or n <= EXACT_MAX_SIZE) and not tied:
        p = _exact_sf(u, m, n)
    else:
        total = m + n
        tie_term = sum(size**3 - size for size in ties)
        variance = m * n / 12 * ((total + 1) - tie_term / (total * (total - 1)))
        if variance <= 0:
            return u_x, 1.0
        p = _normal_sf((u - m * n / 2 - 0.5) / math.sqrt(variance))
    return u_x, min(1.0, max(0.0, p * factor))

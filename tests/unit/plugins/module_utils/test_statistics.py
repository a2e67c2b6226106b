"""The canary judge's Mann-Whitney U test, checked against SciPy's on the same samples."""

from __future__ import annotations

import random

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._statistics import ALTERNATIVES, mann_whitney_u, ranks

scipy_stats = pytest.importorskip("scipy.stats", reason="SciPy is the reference (a test dependency)")


def samples(seed: int, m: int, n: int, shift: float, tied: bool) -> tuple[list[float], list[float]]:
    """Two samples like a step's sub-windows: latencies (ms), or rounded so that values tie."""
    rng = random.Random(seed)
    x = [rng.lognormvariate(4 + shift, 0.5) for _value in range(m)]
    y = [rng.lognormvariate(4, 0.5) for _value in range(n)]
    if tied:
        x, y = [round(v, -1) for v in x], [round(v, -1) for v in y]
    return x, y


CASES = [
    (m, n, shift, tied)
    for m, n in [(1, 1), (2, 3), (5, 5), (6, 8), (8, 40), (3, 200), (9, 9), (12, 30), (60, 60)]
    for shift in (0.0, 0.3, -0.8)
    for tied in (False, True)
]


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("m", "n", "shift", "tied"), CASES)
def test_agrees_with_scipy(m, n, shift, tied, alternative):
    x, y = samples(m * 1000 + n, m, n, shift, tied)
    if len(set(x + y)) == 1:
        pytest.skip("all values equal: SciPy answers NaN (see the test below)")
    expected = scipy_stats.mannwhitneyu(x, y, alternative=alternative)
    u, p = mann_whitney_u(x, y, alternative)
    assert u == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


def test_both_paths_are_exercised():
    """The cases reach SciPy's exact distribution and its normal approximation both."""
    exact = [(m, n) for m, n, _shift, tied in CASES if (m <= 8 or n <= 8) and not tied]
    assert exact and len(exact) < len(CASES)


def test_a_clearly_slower_canary_is_significant_and_an_equal_one_is_not():
    slow, base = samples(7, 12, 12, shift=1.0, tied=False)
    assert mann_whitney_u(slow, base, "greater")[1] < 0.02
    same, base = samples(8, 12, 12, shift=0.0, tied=False)
    assert mann_whitney_u(same, base, "greater")[1] > 0.02


def test_all_values_equal_is_no_evidence():
    assert mann_whitney_u([0.0] * 10, [0.0] * 12, "greater") == (60.0, 1.0)


def test_ranks_average_ties_like_scipy():
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    average, ties = ranks(values)
    assert average == list(scipy_stats.rankdata(values))
    assert sorted(ties) == [1, 1, 1, 1, 2, 2, 3]  # 2, 4, 6, 9 alone; 1 and 3 twice; 5 three times


@pytest.mark.parametrize(
    ("x", "y", "alternative", "message"),
    [
        ([], [1.0], "greater", "at least one value"),
        ([1.0], [], "greater", "at least one value"),
        ([1.0], [2.0], "bigger", "alternative must be one of"),
    ],
)
def test_bad_input_is_refused(x, y, alternative, message):
    with pytest.raises(ValueError, match=message):
        mann_whitney_u(x, y, alternative)

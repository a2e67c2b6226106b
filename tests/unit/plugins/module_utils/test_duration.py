"""Go durations, the one parser behind swarm_app's durations and swarm_app_logs' since."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils._duration import go_duration_seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("10m", 600),
        ("1h30m", 5400),
        ("90s", 90),
        ("1.5h", 5400),
        (".5s", 0.5),
        ("250ms", 0.25),
        ("1m30s500ms", 90.5),
        ("3us", 3e-6),
        ("3µs", 3e-6),
        ("2ns", 2e-9),
        ("1.m", 60),  # Go takes a dot without fraction digits
    ],
)
def test_go_durations(value, seconds):
    assert go_duration_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["10", "10d", "m", ".m", "-10m", "+10m", "10 m", "10M", "1h-30m", "", "10m\n", "１0s", None]
)
def test_not_durations(value):
    assert go_duration_seconds(value) is None

"""The filters of plugins/filter/rollout.py as canary_rollout.yml and canary_resume.yml call them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sentinel.paas.plugins.filter import rollout

FILTERS = rollout.FilterModule().filters()


def test_the_filters_are_registered():
    assert set(FILTERS) == {"rollout_left", "rollout_options", "rollout_overdue", "rollout_seconds", "rollout_steps"}


def test_blank_takes_the_defaults():
    assert FILTERS["rollout_steps"]("") == [5, 10, 25, 50]
    assert FILTERS["rollout_steps"]("20, 60") == [20, 60]
    assert FILTERS["rollout_options"]({"steps": "", "interval": None})["steps"] == [5, 10, 25, 50]
    assert FILTERS["rollout_seconds"](None) == 4 * 30 * 3 + 900


def test_the_docs_example_of_what_is_left():
    paused = {"weight": 10, "verdict": "inconclusive"}
    record = {"options": {"steps": [5, 10, 25], "on_inconclusive": "pause"},
              "steps": [{"weight": 5, "verdict": "pass"}, paused]}  # fmt: skip
    assert FILTERS["rollout_left"](record) == {
        "passed": [{"weight": 5, "verdict": "pass"}], "steps": [10, 25], "verdict": "pass", "superseded": [paused]
    }  # fmt: skip


def test_a_bad_deadline_fails_the_task_with_the_reason():
    assert FILTERS["rollout_overdue"]("2026-12-02T10:00:00+00:00", "1h") is True  # long past
    assert FILTERS["rollout_overdue"]("2026-12-02T10:00:00+00:00", None) is False
    with pytest.raises(AnsibleFilterError, match="invalid deadline 'soon'"):
        FILTERS["rollout_overdue"]("2026-12-02T10:00:00+00:00", "soon")

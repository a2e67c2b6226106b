"""alerts NAME: the extra vars it gives its playbook and what it prints, the playbook run replaced."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli


@pytest.fixture
def runs(monkeypatch):
    calls = []

    def fake_run(self, playbook, extravars, title):
        calls.append((playbook, extravars))
        return {"thresholds": {"p95_seconds": 0.3, "error_ratio": 0.01}, "changed": True}

    monkeypatch.setattr(Context, "run", fake_run)
    return calls


def test_numbers_percentages_and_default(runs):
    result = CliRunner().invoke(cli, ["alerts", "todo", "--p95", "0.3", "--error-ratio", "1%"])
    assert result.exit_code == 0, result.output
    assert runs == [("alerts.yml", {"app": "todo", "p95_seconds": 0.3, "error_ratio": 0.01})]
    assert result.output == "todo: its own thresholds\n  error_ratio = 0.01\n  p95_seconds = 0.3\n"
    CliRunner().invoke(cli, ["alerts", "todo", "--p95", "default"])
    assert runs[-1][1] == {"app": "todo", "p95_seconds": "default", "error_ratio": None}


@pytest.mark.parametrize("value", ["fast", "0", "-1", "0%"])
def test_what_is_not_a_positive_number_is_refused_before_any_playbook(runs, value):
    assert CliRunner().invoke(cli, ["alerts", "todo", "--p95", value]).exit_code == 2 and runs == []

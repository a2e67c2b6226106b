"""maintenance on|off: the extra vars each gives its playbook and what it prints, the playbook run replaced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli

ON = {"app": "todo", "maintenance": True, "message": "Back soon", "retry_after": 300, "domains": ["todo.example.com"]}


@pytest.fixture
def runs(monkeypatch):
    calls = []

    def fake_run(self, playbook, extravars, title):
        calls.append((playbook, extravars))
        return {**ON, "changed": True} if extravars["maintenance"] == "on" else {"maintenance": False, "changed": False}

    monkeypatch.setattr(Context, "run", fake_run)
    return calls


def test_on_passes_message_and_retry_after_and_says_how_to_end_it(runs):
    result = CliRunner().invoke(cli, ["maintenance", "on", "todo", "-m", "Back soon", "--retry-after", "300"])
    assert result.exit_code == 0, result.output
    assert runs == [
        ("maintenance.yml", {"app": "todo", "maintenance": "on", "message": "Back soon", "retry_after": 300})
    ]
    assert "todo.example.com answer 503 (Retry-After 300 s)" in result.output
    assert "sentinel maintenance off todo" in result.output


def test_omitted_options_are_not_given(runs):
    assert CliRunner().invoke(cli, ["maintenance", "on", "todo"]).exit_code == 0
    assert runs[0][1] == {"app": "todo", "maintenance": "on", "message": None, "retry_after": None}


def test_off_and_json(runs):
    result = CliRunner().invoke(cli, ["maintenance", "off", "todo", "-o", "json"])
    assert result.exit_code == 0 and runs == [("maintenance.yml", {"app": "todo", "maintenance": "off"})]
    assert json.loads(result.output) == {"ok": True, "maintenance": False, "changed": False}


@pytest.mark.parametrize("seconds", ["0", "86401", "soon"])
def test_a_bad_retry_after_is_refused_before_any_playbook(runs, seconds):
    result = CliRunner().invoke(cli, ["maintenance", "on", "todo", "--retry-after", seconds])
    assert result.exit_code == 2 and runs == []

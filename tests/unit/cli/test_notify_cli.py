"""notify add|list|remove|test: what each gives its playbook and prints, the playbook run replaced."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli

RECEIVERS = [
    {"name": "oncall", "kind": "webhook", "app": None, "attached": True},
    {"name": "team", "kind": "slack", "app": "todo", "attached": False},
]


@pytest.fixture
def runs(monkeypatch):
    calls = []

    def fake_run(self, playbook, extravars, title):
        calls.append((playbook, extravars))
        return {"changed": True, "receivers": RECEIVERS, "notifier": True, "answers": {"oncall": "ok"}}

    monkeypatch.setattr(Context, "run", fake_run)
    return calls


def test_add_a_webhook_with_its_url_from_standard_input(runs):
    result = CliRunner().invoke(cli, ["notify", "add", "oncall", "--webhook", "-"], input="https://h.example/T0K\n")
    assert result.exit_code == 0, result.output
    assert runs == [
        (
            "notify.yml",
            {"action": "add", "name": "oncall", "kind": "webhook", "app": None, "url": "https://h.example/T0K"},
        )
    ]
    assert "T0K" not in result.output and "sentinel notify test oncall" in result.output


def test_add_an_email_receiver_for_one_app(runs, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    args = ["notify", "add", "ops", "--email", "a@example.com, b@example.com", "--from", "s@example.com"]
    args += [
        "--smtp",
        "smtp.example.com:2525",
        "--smtp-user",
        "s",
        "--smtp-password-env",
        "SMTP_PASSWORD",
        "--app",
        "todo",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert runs[0][1] == {
        "action": "add", "name": "ops", "kind": "email", "app": "todo", "email_to": ["a@example.com", "b@example.com"],
        "email_from": "s@example.com", "smtp_host": "smtp.example.com", "smtp_port": 2525, "smtp_username": "s",
        "smtp_password": "hunter2", "smtp_starttls": True,
    }  # fmt: skip
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["notify", "add", "x"],
        ["notify", "add", "x", "--webhook", "https://a.example", "--slack", "https://b.example"],
        ["notify", "add", "x", "--email", "a@example.com"],
        ["notify", "add", "x", "--email", "a@example.com", "--from", "s@example.com", "--smtp", "h:port"],
        [
            "notify",
            "add",
            "x",
            "--email",
            "a@example.com",
            "--from",
            "s@e.com",
            "--smtp",
            "h",
            "--smtp-password-env",
            "NOPE",
        ],
    ],
)
def test_incomplete_receivers_are_refused_before_any_playbook(runs, args, monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    assert CliRunner().invoke(cli, args).exit_code == 2 and runs == []


def test_list_remove_and_test(runs):
    listed = CliRunner().invoke(cli, ["notify", "list"])
    assert listed.exit_code == 0 and runs[-1] == ("notify.yml", {"action": "list"})
    assert "oncall  webhook  (all)  yes" in listed.output and "team    slack    todo   no" in listed.output
    assert CliRunner().invoke(cli, ["notify", "remove", "team"]).exit_code == 0
    assert runs[-1] == ("notify.yml", {"action": "remove", "name": "team"})
    tested = CliRunner().invoke(cli, ["notify", "test"])
    assert tested.exit_code == 0 and runs[-1] == ("notify.yml", {"action": "test", "name": None})
    assert tested.output.strip() == "oncall: ok"

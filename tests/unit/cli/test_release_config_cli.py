"""releases, rollback and config send their playbooks what the user gave, and read as a user types them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli

RELEASES = {"live": 3, "releases": [{"release": n, "image": f"todo:{n}", "live": n == 3} for n in (3, 2, 1)]}


@pytest.fixture
def calls(monkeypatch):
    made = []

    def fake_run(self, playbook, extravars, title):
        made.append((playbook, extravars))
        return RELEASES if playbook == "releases.yml" else {"to": 2, "release": 4, "changed": True}

    monkeypatch.setattr(Context, "run", fake_run)
    return made


def invoke(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.mark.parametrize(
    "args", [["config", "todo"], ["config", "-o", "json", "todo"], ["config", "todo", "-o", "json"]]
)
def test_config_name_shows_whatever_the_global_options_place(calls, args):
    assert invoke(*args).exit_code == 0
    assert calls == [("config.yml", {"app": "todo", "values": False})]


def test_config_set_sends_the_pairs_and_secrets_and_never_echoes_a_secret(calls):
    result = invoke("config", "set", "todo", "A=1", "B=x=y", "--secret", "TOKEN=s3cret-value")
    assert result.exit_code == 0, result.output
    assert calls == [
        ("config_set.yml", {"app": "todo", "set": {"A": "1", "B": "x=y"}, "secret": {"TOKEN": "s3cret-value"}})
    ]
    assert "s3cret-value" not in result.output


def test_config_set_needs_something_to_set(calls):
    assert invoke("config", "set", "todo").exit_code == 2 and calls == []


def test_rollback_without_to_names_the_release_before_the_live_one_and_asks(calls):
    result = invoke("rollback", "todo", input="n\n")
    assert "Roll todo back from v3 to v2 (todo:2)?" in result.output and result.exit_code == 1
    assert calls == [("releases.yml", {"app": "todo"})]
    assert invoke("rollback", "todo", input="y\n").exit_code == 0
    assert calls[-1] == ("release_rollback.yml", {"app": "todo", "to": "2"})


def test_rollback_to_a_release_asks_then_sends_it(calls):
    assert invoke("rollback", "todo", "--to", "v1", "--yes").exit_code == 0
    assert calls == [("release_rollback.yml", {"app": "todo", "to": "v1"})]

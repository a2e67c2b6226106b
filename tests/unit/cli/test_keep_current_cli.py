"""deploy and canary deploy send only what the user gave: the playbooks keep the rest."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.main import cli


@pytest.fixture
def calls(monkeypatch):
    made = []

    def fake_run(self, playbook, extravars, title):
        made.append((playbook, extravars))
        return {"urls": ["http://todo.example.com"], "changed": True}

    monkeypatch.setattr(Context, "run", fake_run)
    return made


def invoke(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_deploy_with_an_image_sends_the_image_alone(calls):
    invoke("deploy", "todo", "--image", "todo:2")
    assert calls == [("deploy.yml", {"app": "todo", "image": "todo:2"})]


def test_deploy_sends_every_given_option(calls):
    invoke(
        "deploy", "todo", "--image", "todo:1", "--domain", "a.example.com", "--domain", "b.example.com",
        "--postgres", "--postgres-image", "postgres:16", "--db-node", "node2", "--run-as", "10001", "--env", "A=1",
        "--replicas", "0", "--port", "9000", "--health-path", "/healthz", "--no-tls", "--no-hsts",
    )  # fmt: skip
    assert calls[0][1] == {
        "app": "todo",
        "image": "todo:1",
        "domains": ["a.example.com", "b.example.com"],
        "postgres": True,
        "postgres_image": "postgres:16",
        "db_node": "node2",
        "run_as": "10001",
        "env": {"A": "1"},
        "replicas": 0,
        "app_port": 9000,
        "health_path": "/healthz",
        "tls": False,
        "hsts": False,
    }


def test_canary_deploy_sends_only_what_is_given(calls):
    invoke("canary", "deploy", "todo", "--image", "todo:2")
    assert calls == [("canary.yml", {"app": "todo", "image": "todo:2"})]


def test_the_smoke_test_goes_to_the_canary_the_rollout_and_deploy_alike(calls):
    smoke = (
        "--smoke-test", "smoke:2", "--smoke-test-cmd", "wget -q -O- $SENTINEL_TARGET/healthz",
        "--smoke-test-timeout", "60",
    )  # fmt: skip
    invoke("canary", "deploy", "todo", "--image", "todo:2", *smoke)
    invoke("canary", "deploy", "todo", "--image", "todo:2", "--auto", *smoke)
    invoke("deploy", "todo", "--image", "todo:2", *smoke)
    expected = {
        "smoke_test": "smoke:2",
        "smoke_test_command": "wget -q -O- $SENTINEL_TARGET/healthz",
        "smoke_test_timeout": 60,
    }
    assert [playbook for playbook, _ in calls] == ["canary.yml", "canary_rollout.yml", "deploy.yml"]
    assert all(extravars.items() >= expected.items() for _, extravars in calls), calls


def test_deploy_help_says_what_a_new_app_gets():
    text = invoke("deploy", "--help").output
    assert "Only what you give changes" in text and "a new app gets 1" in text


def test_init_help_names_the_real_acme_variable():
    assert "control_plane_traefik_acme_email" in invoke("init", "--help").output


@pytest.mark.parametrize("command", [("deploy", "todo"), ("canary", "deploy", "todo", "--image", "todo:2")])
def test_secret_env_is_sent_as_given_or_from_the_environment(calls, monkeypatch, command):
    monkeypatch.setenv("SMTP_PASSWORD", "from-the-env")
    invoke(*command, "--secret-env", "API_KEY=k=1", "--secret-env", "SMTP_PASSWORD")
    assert calls[0][1]["secret_env"] == {"API_KEY": "k=1", "SMTP_PASSWORD": "from-the-env"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("NOT_SET", "set $NOT_SET for --secret-env NOT_SET"),
        ("API_KEY=", "API_KEY needs a value"),
        ("=s3cret", "give KEY=VALUE"),
        ("s3cret-typed-without-its-key", "give KEY=VALUE"),
    ],
)
def test_bad_secret_env_is_refused_before_any_playbook(calls, monkeypatch, given, message):
    monkeypatch.delenv("NOT_SET", raising=False)
    result = CliRunner().invoke(cli, ["deploy", "todo", "--secret-env", given])
    assert result.exit_code == 2 and message in result.output and calls == []
    assert "s3cret" not in result.output

"""App secrets through `--secret-env KEY=VALUE` (issue "Production never goes down", item 9).

The CLI on the real test Swarm: a value reaches the app's containers as /run/secrets/KEY (with
KEY_FILE in their environment) and nowhere else: not in the CLI's output at -vvv with --diff,
not in the service's spec, not in inspect. A new value rolls out under load through Traefik with no
failed request; the old version stays while a kept release names it, so that a rollback brings it
back, and goes with the last such release. A canary's own value reaches production on promote. Bad
input is refused with the cluster as it was.
"""

from __future__ import annotations

import secrets
import sys

import pytest

from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state, task_container

pytestmark = pytest.mark.cluster

APP = "vault"
DOMAIN = "vault.sentinel.test"


def secret_value() -> str:
    return f"s3cret-{secrets.token_hex(12)}"


def read_secret(platform, service: str, key: str = "API_KEY") -> tuple[str, dict]:
    """What a running task of ``service`` reads at /run/secrets/KEY, and its environment."""
    container = task_container(platform, service)
    # A secret here is never empty; an empty answer is an exec whose output the busy engine lost
    # (seen once in a run of this file), so it is asked again.
    for _ in range(3):
        code, output = container.exec_run(["cat", f"/run/secrets/{key}"])
        assert code == 0, output
        if output:
            break
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    return output.decode(), env


def app_secrets(platform) -> list[str]:
    return sorted(s.name for s in platform.manager.client.secrets.list() if s.name.startswith(f"sentinel-{APP}-env-"))


def service_specs(platform) -> str:
    client = platform.manager.client
    return repr([s.attrs for s in client.services.list() if s.name.startswith(f"{APP}-")])


@pytest.fixture(scope="module")
def first(platform, sentinel):
    """The app deployed with one secret at -vvv with --diff: (value, the CLI's run)."""
    value = secret_value()
    run = sentinel(
        "-vvv", "--diff", "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN,
        "--no-tls", "--secret-env", f"API_KEY={value}",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    yield value, run
    sentinel("destroy", APP, "--yes")


def test_a_secret_reaches_the_app_and_nowhere_else(platform, sentinel, first):
    value, run = first
    read, env = read_secret(platform, f"{APP}-prod")
    assert read == value and env["API_KEY_FILE"] == "/run/secrets/API_KEY"
    # -vvv and --diff did print the change, by name only.
    assert f"sentinel-{APP}-env-API_KEY-1" in run.stdout + run.stderr
    assert value not in run.stdout + run.stderr
    assert value not in service_specs(platform)
    inspect = sentinel("-vvv", "inspect", "app", APP)
    assert inspect.returncode == 0, inspect.error
    assert inspect.data["app"]["services"]["prod"]["secret_env"] == {"API_KEY": f"sentinel-{APP}-env-API_KEY-1"}
    assert value not in inspect.stdout + inspect.stderr
    assert app_secrets(platform) == [f"sentinel-{APP}-env-API_KEY-1"]


def test_a_new_value_rolls_out_under_load_and_the_old_version_stays_for_a_rollback(platform, sentinel, first):
    value = secret_value()
    with Load(Edge(platform.manager.ip, DOMAIN), clients=2) as load:
        run = sentinel("deploy", APP, "--secret-env", f"API_KEY={value}")
    print(f"\nfault table: {load.summary('secret rotated by a redeploy')}", file=sys.stderr)
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, load.failures
    assert read_secret(platform, f"{APP}-prod")[0] == value
    assert app_secrets(platform) == [f"sentinel-{APP}-env-API_KEY-{n}" for n in (1, 2)], "release v1 names -1"
    # The same value again changes nothing.
    again = sentinel("deploy", APP, "--secret-env", f"API_KEY={value}")
    assert again.returncode == 0 and again.data["changed"] is False, again.data


def test_a_canarys_own_secret_reaches_production_on_promote(platform, sentinel, first):
    prod_value = read_secret(platform, f"{APP}-prod")[0]
    value = secret_value()
    run = sentinel(
        "canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "10",
        "--secret-env", f"API_KEY={value}",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    assert read_secret(platform, f"{APP}-canary")[0] == value
    assert read_secret(platform, f"{APP}-prod")[0] == prod_value, "production keeps its own until promoted"
    promoted = sentinel("canary", "promote", APP, "--yes")
    assert promoted.returncode == 0, promoted.error
    assert read_secret(platform, f"{APP}-prod")[0] == value
    assert app_secrets(platform) == [f"sentinel-{APP}-env-API_KEY-{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--secret-env", "pgpass=x"], "invalid secret_env name 'pgpass'"),
        (["--env", "API_KEY_FILE=/elsewhere", "--secret-env", "API_KEY=x"], "env API_KEY_FILE is set by the module"),
    ],
)
def test_bad_secret_env_is_refused_and_changes_nothing(platform, sentinel, first, args, message):
    before = cluster_state(platform)
    run = sentinel("deploy", APP, *args)
    assert run.returncode != 0 and message in run.error, run.error
    assert cluster_state(platform) == before


# -- sentinel config (issue: "Releases, config, rollback to any release") -----------------------
def test_config_set_rolls_out_under_load_and_the_app_sees_it(platform, sentinel, first):
    with Load(Edge(platform.manager.ip, DOMAIN)) as load:
        run = sentinel("config", "set", APP, "GREETING=hello there", "COLOR=blue")
    print(f"\nfault table: {load.summary('config set, two variables')}", file=sys.stderr)
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, load.failures
    env = read_secret(platform, f"{APP}-prod")[1]
    assert env["GREETING"] == "hello there" and env["COLOR"] == "blue"
    assert run.data["summary"] == "config set COLOR, GREETING"
    assert sentinel("releases", APP).data["releases"][0]["reason"] == "config set COLOR, GREETING"

    shown = sentinel("config", APP)
    assert shown.data["env_keys"] == ["COLOR", "GREETING"] and shown.data["secret_keys"] == ["API_KEY"]
    assert "env" not in shown.data and "hello there" not in shown.stdout
    assert sentinel("config", "show", APP, "--values").data["env"]["GREETING"] == "hello there"

    run = sentinel("config", "unset", APP, "COLOR")
    assert run.returncode == 0, run.error
    assert "COLOR" not in read_secret(platform, f"{APP}-prod")[1]
    assert sentinel("config", "unset", APP, "COLOR").returncode == 1, "COLOR is gone"


def test_config_set_secret_is_mounted_and_shown_nowhere(platform, sentinel, first):
    kept = read_secret(platform, f"{APP}-prod")[0]
    value = secret_value()
    run = sentinel("-vvv", "--diff", "config", "set", APP, "--secret", f"TOKEN={value}")
    assert run.returncode == 0, run.error
    read, env = read_secret(platform, f"{APP}-prod", "TOKEN")
    assert read == value and env["TOKEN_FILE"] == "/run/secrets/TOKEN" and value not in repr(env)
    assert read_secret(platform, f"{APP}-prod")[0] == kept, "the other secret stays"
    outputs = [run.stdout + run.stderr, service_specs(platform)]
    outputs += [sentinel("-vvv", *args).stdout for args in (["releases", APP], ["config", APP, "--values"])]
    assert not [i for i, text in enumerate(outputs) if value in text]
    assert sentinel("config", APP).data["secret_keys"] == ["API_KEY", "TOKEN"]

    assert sentinel("config", "unset", APP, "TOKEN").returncode == 0
    assert "TOKEN_FILE" not in read_secret(platform, f"{APP}-prod")[1]
    assert [s for s in app_secrets(platform) if "-TOKEN-" in s] == [f"sentinel-{APP}-env-TOKEN-1"], "a release names it"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"set": "NOEQUALS"}, "malformed pair 'NOEQUALS'"),
        ({"set": {"PGHOST": "elsewhere"}}, "reserved key PGHOST"),
        ({"set": {"SENTINEL_X": "1"}}, "reserved key SENTINEL_X"),
        ({"set": "=x"}, "empty key"),
        ({"unset": "NOT_THERE"}, "NOT_THERE is not set"),
        ({"set": ""}, "nothing to change"),
    ],
)
def test_bad_config_changes_are_refused_and_change_nothing(platform, ansible, first, change, message):
    before = cluster_state(platform)
    play = ansible.playbook("config_set.yml", {"app": APP, **change})
    assert not play.ok and message in " ".join(play.failures), play.failures
    assert cluster_state(platform) == before


def test_the_cli_refuses_a_pair_without_its_value(platform, sentinel, first):
    before = cluster_state(platform)
    run = sentinel("config", "set", APP, "NOEQUALS", json_output=False)
    assert run.returncode == 2 and "is not KEY=VALUE" in run.stderr
    assert cluster_state(platform) == before


def test_config_is_refused_while_a_canary_runs_and_changes_nothing(platform, sentinel, first):
    """A promote would hand production the canary's environment and undo the change."""
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "0")
    assert run.returncode == 0, run.error
    try:
        before = cluster_state(platform)
        refused = sentinel("config", "set", APP, "GREETING=later")
        assert refused.returncode == 1 and "has a canary" in refused.error, refused.error
        assert cluster_state(platform) == before
    finally:
        assert sentinel("canary", "rollback", APP, "--yes").returncode == 0


def test_rollback_brings_back_a_releases_secrets_under_load_and_pruning_drops_them(platform, sentinel, ansible, first):
    value = first[0]
    v1 = [r for r in sentinel("releases", APP).data["releases"] if r["release"] == 1]
    assert v1 and v1[0]["secret_env"] == {"API_KEY": f"sentinel-{APP}-env-API_KEY-1"}, v1
    with Load(Edge(platform.manager.ip, DOMAIN)) as load:
        run = sentinel("rollback", APP, "--to", "v1", "--yes")
    print(f"\nfault table: {load.summary('rollback to v1, secrets included')}", file=sys.stderr)
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, load.failures
    read, env = read_secret(platform, f"{APP}-prod")
    assert read == value and "TOKEN_FILE" not in env and "GREETING" not in env, env
    assert value not in run.stdout + run.stderr

    # One release kept: every version but the live one's is named by nothing any more, and goes.
    play = ansible.playbook("config_set.yml", {"app": APP, "set": "PRUNED=1", "sentinel_releases_kept": 1})
    assert play.ok, play.failures
    assert app_secrets(platform) == [f"sentinel-{APP}-env-API_KEY-1"]
    assert [r["release"] for r in sentinel("releases", APP).data["releases"]] == [run.data["release"] + 1]

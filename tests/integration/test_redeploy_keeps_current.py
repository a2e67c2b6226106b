"""A redeploy changes only what the user names (issue: "Deploy changes only what you name").

An app with 3 replicas, env A=1, two domains and PostgreSQL on a non-default image is deployed
by the CLI; `sentinel deploy NAME --image v2` under continuous load through the real Traefik
must change the production image alone: both service specs before and after are compared field
by field, and every request counted.
"""

from __future__ import annotations

import json

import pytest

from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state
from tests.integration.test_canary_flow import SMOKE

pytestmark = pytest.mark.cluster

APP = "keep"
DOMAINS = ("keep.sentinel.test", "www.keep.sentinel.test")
TODO_UID = "10001"
# What a new release writes on the service besides the image: its number, nothing the user set.
RELEASE_RECORD = {"sentinel.release"}


def flatten(value, path=""):
    """{dotted path: leaf} of a service Spec, so two specs compare field by field."""
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in flatten(sub, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {k: v for i, sub in enumerate(value) for k, v in flatten(sub, f"{path}[{i}]").items()}
    return {path: value}


def spec_changes(before: dict, after: dict) -> dict:
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


def specs(platform) -> dict:
    client = platform.manager.client
    return {role: flatten(client.services.get(f"{APP}-{role}").attrs["Spec"]) for role in ("prod", "db")}


@pytest.fixture(scope="module")
def keep(platform, sentinel):
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--no-tls",
        "--domain", DOMAINS[0], "--domain", DOMAINS[1], "--replicas", "3", "--env", "A=1",
        "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:15"), "--run-as", TODO_UID,
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAINS[1])
    edge.wait_until("keep through Traefik", lambda e: e.get("/healthz").status_code == 200, timeout=60)
    yield edge
    sentinel("destroy", APP, "--delete-data", "--yes")


def test_deploy_with_only_an_image_changes_only_the_image_under_load(platform, sentinel, keep):
    before = specs(platform)
    image_v2 = platform.image("sentinel-test/todo:2")
    with Load(keep) as load:
        run = sentinel("deploy", APP, "--image", image_v2)
    assert run.returncode == 0, run.error
    after = specs(platform)

    prod = spec_changes(before["prod"], after["prod"])
    print(f"\nproduction spec changes: {prod}\nrequests: {len(load.results)}, failed: {dict(load.failures)}")
    image_key = "TaskTemplate.ContainerSpec.Image"
    assert prod.pop(image_key)[1].startswith(image_v2 + "@sha256:")
    assert {key.removeprefix("Labels.") for key in prod} == RELEASE_RECORD, prod
    assert spec_changes(before["db"], after["db"]) == {}, "the database service is untouched"
    assert after["prod"]["UpdateConfig.Monitor"] == 2 * 10**9  # the cluster's sentinel_rolling_update

    load.assert_went_on()
    assert not load.failures, f"failed requests during the deploy: {load.failures}"
    assert {Edge(platform.manager.ip, d).version() for d in DOMAINS} == {"2"}
    assert run.data["urls"] == [f"http://{d}" for d in DOMAINS]


def test_deploy_again_with_nothing_given_changes_nothing(platform, sentinel, keep):
    before = specs(platform)
    run = sentinel("deploy", APP)
    assert run.returncode == 0, run.error
    assert run.data["changed"] is False and run.data["ok"] is True
    assert specs(platform) == before


def test_another_postgres_major_is_refused_and_changes_nothing(platform, sentinel, keep):
    before = specs(platform)
    run = sentinel("deploy", APP, "--postgres-image", platform.image("sentinel-test/postgres:16"))
    assert run.returncode == 1
    assert "PostgreSQL 15" in run.error and "PostgreSQL 16" in run.error and "pg_upgrade" in run.error
    assert specs(platform) == before


def test_a_blank_survey_answer_keeps_the_current_value(platform, ansible, keep):
    """AWX sends a blank survey field as "" (or null): the playbook treats it as not given."""
    before = specs(platform)
    blanks = {"app": APP, "image": "", "replicas": "", "domains": "", "postgres_image": None, "tls": None, "env": ""}
    play = ansible.playbook("deploy.yml", {**blanks, "health_path": "", "hsts": None})
    assert play.ok, play.failures
    assert specs(platform) == before

    # A health path is set by its value and turned off by the word none (blank keeps it, as above).
    key = f"traefik.http.services.{APP}-prod.loadbalancer.healthcheck.path"
    assert ansible.playbook("deploy.yml", {"app": APP, "health_path": "/healthz"}).ok
    assert platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["Labels"][key] == "/healthz"
    assert ansible.playbook("deploy.yml", {**blanks, "health_path": ""}).ok
    assert platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["Labels"][key] == "/healthz"
    assert ansible.playbook("deploy.yml", {"app": APP, "health_path": "none"}).ok
    assert key not in platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["Labels"]


def test_a_new_app_needs_an_image_and_a_domain(platform, sentinel, keep):
    client = platform.manager.client
    before = sorted(s.name for s in client.services.list())
    run = sentinel("deploy", "fresh")
    assert run.returncode == 1
    assert "app fresh is new: give an image (-e image=REF or -e build=PATH) and a domain (-e domains=HOST)" in run.error
    assert sorted(s.name for s in client.services.list()) == before


def test_a_deploy_failing_its_smoke_test_changes_nothing_under_load(platform, sentinel, keep):
    """The new version runs unrouted beside production and fails its smoke test: production stays
    as it was, every request is answered by it, and the tested version is gone."""
    before, state, production = specs(platform), cluster_state(platform), keep.version()
    other = "1" if production == "2" else "2"
    with Load(keep) as load:
        run = sentinel(
            "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"),
            "--env", "TODO_FAIL_EVERY=1", "--smoke-test-cmd", SMOKE,
        )  # fmt: skip
    print(f"\nfault table: {load.summary('deploy failing its smoke test')}")
    assert run.returncode == 1
    assert "deploy of keep stopped before production changed" in run.error and "exited 1" in run.error, run.error
    assert len(load.results) >= 100 and not load.failures, load.failures
    assert {version for _, version in load.results} == {production}
    assert specs(platform) == before and cluster_state(platform) == state


def test_a_deploy_passing_its_smoke_test_rolls_production(platform, sentinel, keep):
    other = "1" if keep.version() == "2" else "2"
    run = sentinel("deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--smoke-test-cmd", SMOKE)
    assert run.returncode == 0, run.error
    assert keep.versions(30) == {other: 30}
    assert f"{APP}-canary" not in {s.name for s in platform.manager.client.services.list()}


def test_a_new_app_failing_its_smoke_test_is_removed_and_never_routed(platform, sentinel, keep):
    state = cluster_state(platform)
    run = sentinel(
        "deploy", "smoked", "--image", platform.image("sentinel-test/todo:2"), "--domain", "smoked.sentinel.test",
        "--no-tls", "--env", "TODO_FAIL_EVERY=1", "--smoke-test-cmd", SMOKE,
    )  # fmt: skip
    assert run.returncode == 1
    assert "new app smoked failed its smoke test and was removed, nothing was routed" in run.error, run.error
    assert cluster_state(platform) == state
    assert Edge(platform.manager.ip, "smoked.sentinel.test").get("/healthz").status_code == 404


# -- releases (issue: "Releases, config, rollback to any release") ----------------------------
def releases(sentinel) -> dict:
    run = sentinel("releases", APP)
    assert run.returncode == 0, run.error
    return run.data


def test_every_release_is_recorded_and_rollback_to_v1_serves_its_digest_under_load(platform, sentinel, keep):
    run = sentinel("deploy", APP, "--env", "A=hunter2-value", "--reason", "A changes")
    assert run.returncode == 0, run.error
    shown = releases(sentinel)
    numbers = [r["release"] for r in shown["releases"]]
    assert len(numbers) >= 3 and numbers == sorted(numbers, reverse=True) and numbers[-1] == 1, numbers
    newest, first = shown["releases"][0], shown["releases"][-1]
    assert newest["live"] and shown["live"] == newest["release"]
    assert (newest["changes"], newest["env_keys"], newest["reason"]) == (["env"], ["A"], "A changes")
    assert "@" in newest["by"] and newest["time"].endswith("+00:00")
    assert (
        first["image"].startswith(platform.image("sentinel-test/todo:1") + "@sha256:") and first["reason"] == "deploy"
    )
    assert "hunter2-value" not in sentinel("releases", APP, json_output=False).stdout
    assert "hunter2-value" not in repr(shown), "values are shown on request only"

    with Load(keep) as load:
        run = sentinel("rollback", APP, "--to", "v1", "--yes")
    print(f"\nfault table: {load.summary('rollback --to v1')}")
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, load.failures
    prod = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert prod["Image"] == first["image"] and "A=1" in prod["Env"]
    assert keep.versions(30) == {"1": 30}
    after = releases(sentinel)
    assert after["live"] == newest["release"] + 1 == run.data["release"] and run.data["to"] == 1
    assert after["releases"][0]["reason"] == "rollback to v1" and after["releases"][0]["image"] == first["image"]


@pytest.mark.parametrize(
    ("to", "message"),
    [("v999", "has no release v999"), ("abc", "invalid release abc"), ("v0", "invalid release v0")],
)
def test_a_rollback_to_a_release_that_is_not_there_changes_nothing(platform, sentinel, keep, to, message):
    state = cluster_state(platform)
    run = sentinel("rollback", APP, "--to", to, "--yes")
    assert run.returncode != 0 and message in run.error, run.error
    assert cluster_state(platform) == state


def test_a_rollback_to_an_image_gone_from_the_registry_is_refused_before_anything_changes(platform, sentinel, keep):
    """A release whose image the registry no longer has (its record written here, as an old release's would be)."""
    client = platform.manager.client
    gone = platform.image("sentinel-test/gone") + "@sha256:" + "0" * 64
    record = {"schema": 1, "app": APP, "release": 900, "time": "2026-01-01T00:00:00+00:00", "image": gone,
              "env": {"A": "1"}, "secret_env": {}, "changes": ["image"], "by": "test", "reason": "deploy"}  # fmt: skip
    config = client.configs.create(
        name=f"sentinel-release-{APP}-900", data=json.dumps(record).encode(),
        labels={"sentinel.release.app": APP, "sentinel.release.number": "900"},
    )  # fmt: skip
    try:
        state, serving = cluster_state(platform), keep.version()
        run = sentinel("rollback", APP, "--to", "v900", "--yes")
        assert run.returncode != 0 and "sentinel-test/gone" in run.error, run.error
        assert cluster_state(platform) == state
        assert keep.versions(10) == {serving: 10}
    finally:
        config.remove()

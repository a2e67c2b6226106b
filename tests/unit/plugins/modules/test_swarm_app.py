"""swarm_app's main() against an in-memory engine (memory_swarm): what it plans, writes and reports.

These prove the module's own logic: bad input refused before the engine is touched, the four
steps (check, apply, check, apply), omitted options keeping current values, refusals that
write nothing. That the real engine takes the specs and runs the tasks is proven in
tests/integration/test_swarm_app_on_cluster.py.
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _release_record as releases
from ansible_collections.sentinel.paas.plugins.modules import swarm_app
from memory_swarm import OTHER_NODE_ID, MemorySwarm
from module_harness import fail, run

APP = {"name": "todo", "image": "registry:5000/todo:1", "postgres": True, "pgpass_uid": "10001"}


@pytest.fixture(autouse=True)
def engine(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(swarm_app, "Swarm", MemorySwarm)
    return MemorySwarm


def writes(kind: str | None = None) -> list:
    return [w for w in MemorySwarm.writes if kind is None or w[0] == kind]


def prod_spec() -> dict:
    return MemorySwarm.services["todo-prod"]["Spec"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Bad_Name", "image": "todo:1"}, "Error deploying app Bad_Name: invalid app name"),
        ({"name": "edge", "image": "todo:1"}, "reserved by the platform"),
        ({"name": "todo", "image": "Not An Image"}, "invalid image reference"),
        ({"name": "todo", "image": "todo:1\n"}, "invalid image reference"),
        ({"name": "todo", "image": "todo:1", "replicas": -1}, "replicas must be 0 or more"),
        ({"name": "todo", "image": "todo:1", "labels": {"traefik.enable": "false"}}, "reserved prefix"),
        ({"name": "todo", "image": "todo:1", "limits": {"memory": "lots"}}, "limits.memory"),
        ({"name": "-x", "state": "absent"}, "Error removing app -x: invalid app name"),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_bad_input_fails_before_the_engine(monkeypatch, args, message, check):
    def no_engine(module):
        raise AssertionError("the engine was contacted before the input was validated")

    monkeypatch.setattr(swarm_app, "Swarm", no_engine)
    result = fail(swarm_app, {**args, "_ansible_check_mode": check})
    assert message in result["msg"] and result["changed"] is False


def test_password_is_no_log():
    assert swarm_app.argument_spec()["postgres_password"]["no_log"] is True


def test_check_apply_check_apply():
    check = run(swarm_app, {**APP, "_ansible_diff": True}, check=True)
    assert check["changed"] and writes() == []
    applied = run(swarm_app, {**APP, "_ansible_diff": True})
    assert applied["changed"] and applied["changes"] == check["changes"]
    assert applied["diff"]["after"].keys() == check["diff"]["after"].keys()
    assert {name for kind, name in writes("create service")} == {"todo-db", "todo-prod"}
    assert ("create network", "sentinel-todo") in writes() and ("create volume", "sentinel-todo-db") in writes()
    # The database is up before the app starts against it.
    assert writes().index(("wait", "todo-db")) < writes().index(("create service", "todo-prod"))
    count = len(writes())
    again = run(swarm_app, APP, check=True)
    assert not again["changed"] and again["changes"] == []
    assert not run(swarm_app, APP)["changed"]
    assert len(writes()) == count, "an unchanged app is not written"


@pytest.mark.parametrize("encrypted", [True, False])
def test_a_new_app_network_is_encrypted_as_the_edge_is(encrypted):
    MemorySwarm().create_network("sentinel-edge", encrypted=encrypted)
    assert not run(swarm_app, APP).get("failed")
    assert ("encrypted" in MemorySwarm.networks["sentinel-todo"]["Options"]) is encrypted


def test_diff_only_in_diff_mode():
    assert "diff" not in run(swarm_app, APP, check=True)
    assert "diff" in run(swarm_app, {**APP, "_ansible_diff": True}, check=True)


def test_the_password_is_in_no_result_or_label():
    result = run(swarm_app, {**APP, "postgres_password": "s3cret-Passw0rd", "_ansible_diff": True})
    assert "s3cret-Passw0rd" not in repr(result)
    labels = [s["Spec"]["Labels"] for s in MemorySwarm.services.values()]
    labels += [s["Spec"]["Labels"] for s in MemorySwarm.secrets_by_name.values()]
    assert "s3cret-Passw0rd" not in repr(labels)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"image": "registry:5000/todo:2"}, "image"),
        ({"replicas": 3}, "replicas"),
        ({"env": {"A": "2"}}, "env"),
        ({"port": 9000}, "labels"),
        ({"health_path": "/healthz"}, "labels"),
    ],
)
def test_omitted_options_keep_the_current_values(given, field):
    run(swarm_app, {**APP, "replicas": 2, "env": {"A": "1"}, "postgres_image": "postgres:16"})
    before = spec.current_view(prod_spec(), MemorySwarm().network_names())
    db_before = MemorySwarm.services["todo-db"]["Version"]
    result = run(swarm_app, {"name": "todo", **given})
    # A change that starts new tasks is a new release, recorded.
    record = ["release sentinel-release-todo-2"] if field in spec.TASK_FIELDS else []
    assert result["changes"] == [f"todo-prod.{field}", *record]
    after = spec.current_view(prod_spec(), MemorySwarm().network_names())
    assert spec.changed_keys(before, after) == [field]
    assert MemorySwarm.services["todo-db"]["Version"] == db_before, "the database is untouched"


def test_the_database_keeps_its_image_and_refuses_another_major():
    run(swarm_app, {**APP, "postgres_image": "postgres:16.1"})
    assert not run(swarm_app, {"name": "todo", "image": "registry:5000/todo:2"})["changes"].count("todo-db.image")
    count = len(writes())
    refused = fail(swarm_app, {"name": "todo", "postgres_image": "postgres:17"})
    assert "PostgreSQL 16" in refused["msg"] and "PostgreSQL 17" in refused["msg"]
    assert refused["changed"] is False and len(writes()) == count
    minor = run(swarm_app, {"name": "todo", "postgres_image": "postgres:16.4"})
    assert minor["changes"] == ["todo-db.image"]


def test_db_node_moves_the_database_task_alone_in_four_steps():
    run(swarm_app, APP)
    db_before = MemorySwarm.services["todo-db"]["Spec"]
    args = {"name": "todo", "db_node": OTHER_NODE_ID}
    checked = run(swarm_app, {**args, "_ansible_check_mode": True})
    assert checked["changes"] == ["todo-db.constraints"] and MemorySwarm.services["todo-db"]["Spec"] == db_before
    assert run(swarm_app, args)["changes"] == ["todo-db.constraints"]
    placement = MemorySwarm.services["todo-db"]["Spec"]["TaskTemplate"]["Placement"]
    assert placement["Constraints"] == [f"node.id=={OTHER_NODE_ID}"]
    assert writes()[-1] == ("wait", "todo-db")
    assert not run(swarm_app, {**args, "_ansible_check_mode": True})["changed"]
    assert not run(swarm_app, args)["changed"]
    # Omitted, it stays where it was moved to.
    run(swarm_app, {"name": "todo", "replicas": 2})
    assert MemorySwarm.services["todo-db"]["Spec"]["TaskTemplate"]["Placement"] == placement


def test_a_db_node_that_is_not_in_the_swarm_is_refused_with_nothing_written():
    run(swarm_app, APP)
    count = len(writes())
    refused = fail(swarm_app, {"name": "todo", "db_node": "nosuch"})
    assert "db_node nosuch is not a node ID of this Swarm" in refused["msg"] and len(writes()) == count


def test_destroying_the_data_of_a_database_on_another_node_leaves_its_volume_there_with_a_warning():
    run(swarm_app, APP)
    run(swarm_app, {"name": "todo", "db_node": OTHER_NODE_ID})
    MemorySwarm.volumes.clear()  # this node has no volume of it: it is on the other one
    result = run(swarm_app, {"name": "todo", "state": "absent", "delete_data": True})
    assert "todo-db" in result["changes"] and not any(c.startswith("volume") for c in result["changes"])
    assert any("is on another node" in w for w in result["warnings"])


def test_release_counts_task_changes_only():
    first = run(swarm_app, APP)["app"]["release"]
    assert run(swarm_app, {"name": "todo", "replicas": 3})["app"]["release"] == first
    assert run(swarm_app, {"name": "todo", "image": "registry:5000/todo:2"})["app"]["release"] == first + 1


def test_force_update_restarts_without_a_new_release():
    release = run(swarm_app, APP)["app"]["release"]
    counter = prod_spec()["TaskTemplate"]["ForceUpdate"]
    forced = run(swarm_app, {"name": "todo", "force_update": True})
    assert forced["changes"] == ["todo-prod.force_update"] and forced["app"]["release"] == release
    assert prod_spec()["TaskTemplate"]["ForceUpdate"] == counter + 1
    assert writes()[-1] == ("wait", "todo-prod")


def test_route_labels_are_kept_on_update():
    run(swarm_app, APP)
    MemorySwarm.services["todo-prod"]["Spec"]["Labels"]["traefik.http.routers.todo.rule"] = "Host(`a.example.com`)"
    assert not run(swarm_app, APP)["changed"]
    run(swarm_app, {"name": "todo", "replicas": 2})
    assert prod_spec()["Labels"]["traefik.http.routers.todo.rule"] == "Host(`a.example.com`)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "todo", "postgres": False}, "turning the database off is not supported"),
        ({"name": "todo", "env": {"PGHOST": "elsewhere"}}, "env PGHOST is set by the module"),
        ({"name": "todo", "image": "registry:5000/missing:1"}, "does not exist in its registry"),
        ({"name": "todo", "postgres_password": "another"}, "changing the database password is not supported"),
    ],
)
def test_refusals_write_nothing(args, message):
    run(swarm_app, APP)
    MemorySwarm.missing_images = {"registry:5000/missing:1"}
    before = (repr(MemorySwarm.services), repr(MemorySwarm.secrets_by_name), len(writes()))
    refused = fail(swarm_app, args)
    assert message in refused["msg"] and refused["changed"] is False
    assert (repr(MemorySwarm.services), repr(MemorySwarm.secrets_by_name), len(writes())) == before


def test_a_new_app_needs_an_image():
    assert "image is required to create todo-prod" in fail(swarm_app, {"name": "todo"})["msg"]
    assert writes() == []


def test_canary_starts_from_production_and_absent_removes_it_alone():
    run(swarm_app, {**APP, "env": {"A": "1"}, "replicas": 3})
    canary = run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2"})
    assert canary["changed"]
    canary_view = spec.current_view(MemorySwarm.services["todo-canary"]["Spec"], MemorySwarm().network_names())
    assert canary_view["env"]["A"] == "1" and canary_view["replicas"] == 1
    assert not run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2"})["changed"]
    assert run(swarm_app, {"name": "todo", "role": "canary", "state": "absent"})["changes"] == ["todo-canary"]
    assert set(MemorySwarm.services) == {"todo-prod", "todo-db"}


def test_absent_keeps_the_data_unless_asked_four_steps():
    run(swarm_app, APP)
    absent = {"name": "todo", "state": "absent"}
    check = run(swarm_app, absent, check=True)
    assert check["changed"] and MemorySwarm.services
    assert run(swarm_app, absent)["changes"] == check["changes"]
    assert not run(swarm_app, absent, check=True)["changed"] and not run(swarm_app, absent)["changed"]
    assert MemorySwarm.services == {} and "sentinel-todo-db" in MemorySwarm.volumes
    assert len(MemorySwarm.secrets_by_name) == 2, "the password is kept with the data"
    deleted = run(swarm_app, {**absent, "delete_data": True})
    assert deleted["changes"] == [
        "secret sentinel-todo-db-password",
        "secret sentinel-todo-db-pgpass",
        "volume sentinel-todo-db",
    ]
    assert MemorySwarm.volumes == {} and MemorySwarm.secrets_by_name == {}


def test_one_update_setting_keeps_the_others():
    run(swarm_app, {**APP, "update": {"parallelism": 2, "monitor": "20s"}})
    changed = run(swarm_app, {"name": "todo", "update": {"order": "stop-first"}})
    assert changed["changes"] == ["todo-prod.rollback", "todo-prod.update"]
    update = MemorySwarm.services["todo-prod"]["Spec"]["UpdateConfig"]
    assert (update["Parallelism"], update["Monitor"], update["Order"]) == (2, 20 * 10**9, "stop-first")


def test_a_health_path_asks_traefik_to_check_every_task_and_blank_turns_it_off():
    prefix = "traefik.http.services.todo-prod.loadbalancer.healthcheck"
    check = run(swarm_app, {**APP, "health_path": "/healthz"}, check=True)
    assert check["changed"] and MemorySwarm.services == {}
    run(swarm_app, {**APP, "health_path": "/healthz"})
    labels = prod_spec()["Labels"]
    assert {k: v for k, v in labels.items() if k.startswith(prefix)} == {
        f"{prefix}.path": "/healthz",
        f"{prefix}.interval": "2s",
        f"{prefix}.timeout": "1s",
    }
    assert not run(swarm_app, {"name": "todo"}, check=True)["changed"]
    assert not run(swarm_app, {"name": "todo"})["changed"], "omitted, the path stays"
    off = run(swarm_app, {"name": "todo", "health_path": ""})
    assert off["changes"] == ["todo-prod.labels"]
    assert not [k for k in prod_spec()["Labels"] if k.startswith(prefix)]


@pytest.mark.parametrize("path", ["healthz", "/health z", "/a`)", "/x\n"])
def test_a_bad_health_path_is_refused_before_the_engine(path):
    refused = fail(swarm_app, {**APP, "health_path": path})
    assert "invalid health_path" in refused["msg"] and writes() == []


# -- secret_env ------------------------------------------------------------------------------
SECRETS = {"API_KEY": "k-0ne-Secret", "SMTP_PASSWORD": "sm7p-Secret"}


def secret_refs(service: str = "todo-prod") -> dict:
    container = MemorySwarm.services[service]["Spec"]["TaskTemplate"]["ContainerSpec"]
    return {s["File"]["Name"]: s["SecretName"] for s in container["Secrets"] if s["File"]["Name"] != "pgpass"}


def secret_data() -> dict:
    return {name: s["data"].decode() for name, s in MemorySwarm.secrets_by_name.items() if "-env-" in name}


def test_secret_env_four_steps_and_the_values_only_in_the_secrets():
    args = {**APP, "secret_env": SECRETS, "env": {"A": "1"}, "_ansible_diff": True}
    check = run(swarm_app, args, check=True)
    assert check["changed"] and writes() == []
    applied = run(swarm_app, args)
    assert applied["changes"] == check["changes"]
    assert {"secret sentinel-todo-env-API_KEY-1", "secret sentinel-todo-env-SMTP_PASSWORD-1"} <= set(applied["changes"])
    assert secret_refs() == {
        "API_KEY": "sentinel-todo-env-API_KEY-1",
        "SMTP_PASSWORD": "sentinel-todo-env-SMTP_PASSWORD-1",
    }
    assert applied["app"]["secret_env"] == secret_refs()
    assert secret_data() == {secret_refs()[k]: v for k, v in SECRETS.items()}
    env = prod_spec()["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "API_KEY_FILE=/run/secrets/API_KEY" in env and "A=1" in env
    count = len(writes())
    assert not run(swarm_app, args, check=True)["changed"]
    assert not run(swarm_app, args)["changed"] and len(writes()) == count
    # Nowhere but in the secrets' data: not in results, diffs, labels, env.
    shown = repr([check, applied, MemorySwarm.services])
    shown += repr([{k: v for k, v in s.items() if k != "data"} for s in MemorySwarm.secrets_by_name.values()])
    assert not any(value in shown for value in SECRETS.values())


def test_a_changed_secret_is_a_new_version_and_the_old_one_goes_after_the_switch():
    # One release kept: the old version is named by no service and no kept release once production moved.
    run(swarm_app, {**APP, "secret_env": SECRETS, "releases_kept": 1})
    release = prod_spec()["Labels"]["sentinel.release"]
    rotated = {"name": "todo", "secret_env": {**SECRETS, "API_KEY": "rotated-Secret"}, "releases_kept": 1}
    changed = run(swarm_app, rotated)
    assert changed["changes"] == [
        "secret sentinel-todo-env-API_KEY-2",
        "todo-prod.secrets",
        "release sentinel-release-todo-2",
        "secret sentinel-todo-env-API_KEY-1",
    ]
    assert secret_refs()["API_KEY"] == "sentinel-todo-env-API_KEY-2"
    assert int(prod_spec()["Labels"]["sentinel.release"]) == int(release) + 1
    order = [w for w in writes() if w[0] != "wait"]
    assert order.index(("update service", "todo-prod")) < order.index(("remove secret", "sentinel-todo-env-API_KEY-1"))
    assert secret_data()["sentinel-todo-env-API_KEY-2"] == "rotated-Secret"
    assert "sentinel-todo-env-API_KEY-1" not in MemorySwarm.secrets_by_name
    # Omitted: kept. Given without a key: that secret goes.
    assert not run(swarm_app, {"name": "todo", "image": "registry:5000/todo:1"})["changed"]
    fewer = run(swarm_app, {"name": "todo", "secret_env": {"API_KEY": "rotated-Secret"}, "releases_kept": 1})
    assert "secret sentinel-todo-env-SMTP_PASSWORD-1" in fewer["changes"] and list(secret_refs()) == ["API_KEY"]
    assert "SMTP_PASSWORD_FILE=/run/secrets/SMTP_PASSWORD" not in prod_spec()["TaskTemplate"]["ContainerSpec"]["Env"]


def test_a_canary_takes_production_secrets_and_a_promotion_takes_the_canarys():
    run(swarm_app, {**APP, "secret_env": SECRETS, "releases_kept": 1})
    run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2"})
    assert secret_refs("todo-canary") == secret_refs()
    run(swarm_app, {"name": "todo", "role": "canary", "secret_env": {**SECRETS, "API_KEY": "new-Secret"}})
    assert secret_refs("todo-canary")["API_KEY"] == "sentinel-todo-env-API_KEY-2"
    assert "sentinel-todo-env-API_KEY-1" in MemorySwarm.secrets_by_name, "production still names it"
    promote = {"name": "todo", "image": "registry:5000/todo:2", "secret_env_from": "canary", "releases_kept": 1}
    promoted = run(swarm_app, promote)
    assert secret_refs() == secret_refs("todo-canary") and "secret sentinel-todo-env-API_KEY-1" in promoted["changes"]
    removed = run(swarm_app, {"name": "todo", "role": "canary", "state": "absent"})
    assert not [c for c in removed["changes"] if c.startswith("secret")], "production names the canary's secrets"
    assert set(secret_data()) == set(secret_refs().values())


def test_a_rolled_back_canary_takes_its_own_secrets_and_destroy_takes_them_all():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2", "secret_env": {"API_KEY": "x"}})
    removed = run(swarm_app, {"name": "todo", "role": "canary", "state": "absent"})
    assert [c for c in removed["changes"] if c.startswith("secret")] == ["secret sentinel-todo-env-API_KEY-2"]
    destroyed = run(swarm_app, {"name": "todo", "state": "absent"})
    assert secret_data() == {} and "secret sentinel-todo-env-API_KEY-1" in destroyed["changes"]
    assert len(MemorySwarm.secrets_by_name) == 2, "the database password stays with the data"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"secret_env": {"9LIVES": "v4lue-Secret"}}, "invalid secret_env name '9LIVES'"),
        ({"secret_env": {"pgpass": "v4lue-Secret"}}, "invalid secret_env name 'pgpass'"),
        ({"secret_env": {"K" * 50: "v4lue-Secret"}}, "is too long for app todo"),
        ({"secret_env": {"API_KEY": ""}}, "secret_env API_KEY must be a text of 1 byte"),
        (
            {"secret_env": {"API_KEY": "v4lue-Secret"}, "env": {"API_KEY_FILE": "/x"}},
            "env API_KEY_FILE is set by the module",
        ),
        ({"secret_env": {"API_KEY": "v4lue-Secret"}, "secret_env_from": "canary"}, "mutually exclusive"),
    ],
)
def test_bad_secret_env_is_refused_naming_no_value(args, message):
    run(swarm_app, APP)
    count = len(writes())
    refused = fail(swarm_app, {"name": "todo", **args})
    assert message in refused["msg"] and not refused.get("changed") and len(writes()) == count
    assert "v4lue-Secret" not in repr(refused)


def test_secret_env_from_a_service_that_is_not_there_is_refused():
    run(swarm_app, APP)
    refused = fail(swarm_app, {"name": "todo", "image": "registry:5000/todo:2", "secret_env_from": "canary"})
    assert "has no canary service to take the secrets of" in refused["msg"] and refused["changed"] is False


def test_secret_env_is_no_log():
    assert swarm_app.argument_spec()["secret_env"]["no_log"] is True


def test_an_update_that_does_not_converge_keeps_the_version_a_rollback_needs(monkeypatch):
    run(swarm_app, {**APP, "secret_env": SECRETS})

    def rolled_back(self, name, timeout):
        raise swarm_app.ServiceNotConverged("rolled back")

    monkeypatch.setattr(MemorySwarm, "wait_converged", rolled_back)
    failed = fail(swarm_app, {"name": "todo", "secret_env": {**SECRETS, "API_KEY": "rotated-Secret"}})
    assert "did not converge" in failed["msg"] and failed["changed"] is True
    assert "sentinel-todo-env-API_KEY-1" in MemorySwarm.secrets_by_name


def test_an_interrupted_update_keeps_the_old_version_until_it_converges(monkeypatch):
    rotated = {"name": "todo", "secret_env": {**SECRETS, "API_KEY": "rotated-Secret"}, "releases_kept": 1}
    run(swarm_app, {**APP, "secret_env": SECRETS, "releases_kept": 1})
    run(swarm_app, {**rotated, "wait": False})
    assert "sentinel-todo-env-API_KEY-1" in MemorySwarm.secrets_by_name, "without wait nothing says it took"
    MemorySwarm.services["todo-prod"]["UpdateStatus"] = {"State": "updating"}
    order = []
    monkeypatch.setattr(MemorySwarm, "wait_converged", lambda self, name, timeout: order.append("converged"))
    monkeypatch.setattr(MemorySwarm, "remove_secret", lambda self, name: order.append(f"remove {name}"))
    again = run(swarm_app, rotated)
    assert again["changes"] == ["secret sentinel-todo-env-API_KEY-1"]
    assert order == ["converged", "remove sentinel-todo-env-API_KEY-1"]


def test_an_env_key_file_of_the_app_is_not_overwritten_by_a_secret():
    run(swarm_app, {**APP, "env": {"API_KEY_FILE": "/etc/app/key"}})
    count = len(writes())
    refused = fail(swarm_app, {"name": "todo", "secret_env": {"API_KEY": "x"}})
    assert "env API_KEY_FILE is set by the module for secret_env" in refused["msg"] and len(writes()) == count


def test_a_foreign_service_with_a_side_roles_name_does_not_stop_production():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    MemorySwarm.services["todo-baseline"] = {"ID": "x", "Version": {"Index": 1}, "Spec": {"Name": "todo-baseline"}}
    assert run(swarm_app, {"name": "todo", "secret_env": SECRETS})["changed"] is False


# -- release records ------------------------------------------------------------------------
def records() -> dict:
    """{number: record} of the app's release records in the engine."""
    configs = MemorySwarm().configs({releases.LABEL_APP: "todo"})
    return {releases.number_of(c): releases.record_of(c) for c in configs}


def test_each_release_of_production_is_recorded_once_in_four_steps():
    args = {**APP, "env": {"A": "1"}, "secret_env": SECRETS, "release_by": "ann@laptop", "release_reason": "deploy"}
    assert run(swarm_app, args, check=True)["changed"] and records() == {}
    assert "release sentinel-release-todo-1" in run(swarm_app, args)["changes"]
    assert not run(swarm_app, args, check=True)["changed"]
    assert not run(swarm_app, args)["changed"] and list(records()) == [1]
    record = records()[1]
    assert record["image"].startswith("registry:5000/todo:1@sha256:") and record["env"] == {"A": "1"}
    assert record["secret_env"] == {k: f"sentinel-todo-env-{k}-1" for k in SECRETS}
    assert (record["by"], record["reason"], record["release"]) == ("ann@laptop", "deploy", 1)
    assert record["changes"] == ["created"]
    assert not any(value in repr(record) for value in SECRETS.values())


def test_a_change_without_new_tasks_is_no_release_and_a_canary_has_no_record():
    run(swarm_app, APP)
    assert not [c for c in run(swarm_app, {"name": "todo", "replicas": 3})["changes"] if c.startswith("release")]
    run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2"})
    assert list(records()) == [1]


def test_records_are_pruned_to_the_newest_kept_and_go_with_the_app():
    for n in range(1, 6):
        run(swarm_app, {**APP, "env": {"N": str(n)}, "releases_kept": 3})
    assert sorted(records()) == [3, 4, 5] and records()[5]["env"] == {"N": "5"}
    assert prod_spec()["Labels"]["sentinel.release"] == "5"
    run(swarm_app, {"name": "todo", "state": "absent"})
    assert records() == {}


def test_secret_env_merge_changes_only_the_named_secrets_in_four_steps():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    merge = {
        "name": "todo",
        "secret_env": {"TOKEN": "t0ken-Secret", "SMTP_PASSWORD": None},
        "secret_env_merge": True,
        "releases_kept": 1,
    }
    assert run(swarm_app, merge, check=True)["changed"]
    applied = run(swarm_app, merge)
    assert secret_refs() == {"API_KEY": "sentinel-todo-env-API_KEY-1", "TOKEN": "sentinel-todo-env-TOKEN-1"}
    assert "sentinel-todo-env-SMTP_PASSWORD-1" not in MemorySwarm.secrets_by_name, "unused once production moved"
    assert not run(swarm_app, merge, check=True)["changed"] and not run(swarm_app, merge)["changed"]
    assert "t0ken-Secret" not in repr(applied)


def test_a_removed_secret_without_merge_is_refused():
    msg = fail(swarm_app, {**APP, "secret_env": {"TOKEN": None}})["msg"]
    assert "secret_env TOKEN must be a text" in msg


def test_a_release_is_recorded_once_even_without_its_label():
    run(swarm_app, APP)
    del MemorySwarm.services["todo-prod"]["Spec"]["Labels"]["sentinel.release"]
    assert not run(swarm_app, APP)["changed"] and list(records()) == [1]


def test_a_new_canary_merges_into_productions_secrets():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    canary = {"name": "todo", "role": "canary", "image": "registry:5000/todo:2", "secret_env_merge": True}
    run(swarm_app, {**canary, "secret_env": {"TOKEN": "t0ken-Secret"}})
    assert set(secret_refs("todo-canary")) == {"API_KEY", "SMTP_PASSWORD", "TOKEN"}


def test_releases_kept_below_one_is_refused():
    assert "releases_kept must be at least 1" in fail(swarm_app, {**APP, "releases_kept": 0})["msg"]


def test_old_versions_stay_while_a_kept_release_names_them_and_a_rollback_takes_them_back():
    run(swarm_app, {**APP, "secret_env": SECRETS, "env": {"A": "1"}})
    rotated = {"name": "todo", "secret_env": {"API_KEY": "rotated-Secret"}, "env": {"A": "2"}}
    run(swarm_app, rotated)
    assert secret_refs() == {"API_KEY": "sentinel-todo-env-API_KEY-2"}
    assert set(secret_data()) == {f"sentinel-todo-env-{k}-1" for k in SECRETS} | {"sentinel-todo-env-API_KEY-2"}
    # A canary that goes leaves what release 1 names.
    run(swarm_app, {"name": "todo", "role": "canary", "image": "registry:5000/todo:2", "secret_env": {"API_KEY": "x"}})
    run(swarm_app, {"name": "todo", "role": "canary", "state": "absent"})
    assert "sentinel-todo-env-API_KEY-1" in secret_data() and "sentinel-todo-env-API_KEY-3" not in secret_data()

    back = {"name": "todo", "env": records()[1]["env"], "secret_env_release": 1, "release_reason": "rollback to v1"}
    count = len(writes())
    assert run(swarm_app, back, check=True)["changed"] and len(writes()) == count
    applied = run(swarm_app, back)
    assert secret_refs() == records()[1]["secret_env"] and records()[3]["secret_env"] == records()[1]["secret_env"]
    assert "A=1" in prod_spec()["TaskTemplate"]["ContainerSpec"]["Env"]
    assert not any(v in repr(applied) for v in [*SECRETS.values(), "rotated-Secret"])
    assert not run(swarm_app, back, check=True)["changed"] and not run(swarm_app, back)["changed"]
    assert "sentinel-todo-env-API_KEY-2" in secret_data(), "release 2 still names it"


def test_versions_go_with_the_last_release_that_names_them():
    for value in ("one-Secret", "two-Secret", "three-Secret"):
        run(swarm_app, {**APP, "secret_env": {"API_KEY": value}, "releases_kept": 2})
    assert sorted(records()) == [2, 3]
    assert sorted(secret_data()) == ["sentinel-todo-env-API_KEY-2", "sentinel-todo-env-API_KEY-3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"secret_env_release": 7}, "app todo has no release v7"),
        ({"secret_env_release": 1, "role": "canary"}, "secret_env_release is for production"),
        ({"secret_env_release": 1, "secret_env": {"API_KEY": "v4lue-Secret"}}, "mutually exclusive"),
    ],
)
def test_a_release_that_cannot_give_its_secrets_is_refused_and_changes_nothing(args, message):
    run(swarm_app, {**APP, "secret_env": SECRETS})
    before = repr([MemorySwarm.services, MemorySwarm.secrets_by_name, records()])
    assert message in fail(swarm_app, {"name": "todo", **args})["msg"]
    assert repr([MemorySwarm.services, MemorySwarm.secrets_by_name, records()]) == before


def test_a_version_gone_from_the_swarm_gives_way_to_productions_with_a_warning():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    run(swarm_app, {"name": "todo", "secret_env": {"API_KEY": "rotated-Secret"}})
    # As with a record written before versions were kept with their releases.
    del MemorySwarm.secrets_by_name["sentinel-todo-env-API_KEY-1"]
    back = run(swarm_app, {"name": "todo", "secret_env_release": 1})
    assert secret_refs() == {
        "API_KEY": "sentinel-todo-env-API_KEY-2",
        "SMTP_PASSWORD": "sentinel-todo-env-SMTP_PASSWORD-1",
    }
    assert back["warnings"] == [
        "the secret sentinel-todo-env-API_KEY-1 of release v1 is gone: API_KEY keeps sentinel-todo-env-API_KEY-2"
    ]


def test_a_gone_version_that_production_cannot_stand_in_for_is_refused():
    run(swarm_app, {**APP, "secret_env": SECRETS})
    run(swarm_app, {"name": "todo", "secret_env": {"API_KEY": "rotated-Secret"}})
    del MemorySwarm.secrets_by_name["sentinel-todo-env-SMTP_PASSWORD-1"]
    before = repr([MemorySwarm.services, MemorySwarm.secrets_by_name])
    msg = fail(swarm_app, {"name": "todo", "secret_env_release": 1})["msg"]
    assert "the secret sentinel-todo-env-SMTP_PASSWORD-1 of release v1 is gone and production has no" in msg
    assert "sentinel config set todo --secret SMTP_PASSWORD" in msg
    assert repr([MemorySwarm.services, MemorySwarm.secrets_by_name]) == before


def test_a_rollback_to_a_release_without_secrets_drops_them():
    run(swarm_app, APP)
    run(swarm_app, {"name": "todo", "secret_env": SECRETS})
    run(swarm_app, {"name": "todo", "secret_env_release": 1})
    assert secret_refs() == {} and records()[3]["secret_env"] == {}
    assert set(secret_data()) == {f"sentinel-todo-env-{k}-1" for k in SECRETS}, "release 2 still names them"

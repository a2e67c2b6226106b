"""The pure side of swarm_app: validation, desired views, normalising the engine's spec, comparing."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _naming

IMAGE = "registry:5000/sentinel-test/todo:1"
DIGEST = "sha256:" + "a" * 64


def params(**overrides):
    base = {
        "name": "todo",
        "state": "present",
        "role": "prod",
        "image": IMAGE,
        "replicas": 1,
        "env": {},
        "port": 8000,
        "healthcheck": None,
        "limits": None,
        "labels": {},
        "postgres": False,
        "postgres_image": "postgres:15",
        "postgres_password": None,
        "pgpass_uid": "0",
        "update": None,
        "stop_grace_period": 10,
    }
    base.update(overrides)
    return base


NETWORKS = {"id-app": "sentinel-todo", "id-edge": "sentinel-edge"}
NETWORK_IDS = {v: k for k, v in NETWORKS.items()}
SECRET_IDS = {_naming.db_pgpass_secret("todo"): "sid-pgpass", _naming.db_password_secret("todo"): "sid-pw"}


def engine_round_trip(view, labels=None, image_ref=None):
    """What inspect_service returns for a service created from ``view``, engine defaults added."""
    kwargs = spec.service_spec(
        "todo-prod", view, labels or view["labels"], image_ref or view["image"], NETWORK_IDS, SECRET_IDS
    )
    template = kwargs["task_template"]
    template["ContainerSpec"]["Isolation"] = "default"  # fields the engine fills in
    template["ForceUpdate"] = 0
    template["Runtime"] = "container"
    template["Placement"]["Platforms"] = [{"Architecture": "amd64", "OS": "linux"}]
    return {
        "Name": kwargs["name"],
        "Labels": kwargs["labels"],
        "TaskTemplate": template,
        "Mode": kwargs["mode"],
        "UpdateConfig": kwargs["update_config"],
        "RollbackConfig": kwargs["rollback_config"],
        "EndpointSpec": kwargs["endpoint_spec"],
    }


# -- parsing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [(10, 10.0), ("10", 10.0), ("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), (0.25, 0.25)],
)
def test_parse_duration(value, expected):
    assert spec.parse_duration(value, "x") == expected


@pytest.mark.parametrize("value", ["ten", "10x", "s", "-5", -1, True, "10s junk"])
def test_parse_duration_rejects(value):
    with pytest.raises(spec.AppSpecError, match="x:"):
        spec.parse_duration(value, "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("256M", 256 * 1024**2), ("1g", 1024**3), ("512MiB", 512 * 1024**2), ("1024", 1024), (2048, 2048)],
)
def test_parse_memory(value, expected):
    assert spec.parse_memory(value, "m") == expected


@pytest.mark.parametrize("value", ["lots", "0", "-1M", "12Q"])
def test_parse_memory_rejects(value):
    with pytest.raises(spec.AppSpecError):
        spec.parse_memory(value, "m")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"{IMAGE}@{DIGEST}", IMAGE),
        (IMAGE, IMAGE),
        (f"todo@{DIGEST}", "todo"),
        ("localhost:5000/todo", "localhost:5000/todo"),  # a port is not a digest
    ],
)
def test_strip_digest(image, expected):
    assert spec.strip_digest(image) == expected


# -- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad_Name"}, "invalid app name"),
        ({"name": "-x"}, "invalid app name"),
        ({"name": "a" * 40}, "invalid app name"),
        ({"name": "edge"}, "reserved"),
        ({"image": "Not A/Image"}, "invalid image reference"),
        ({"image": "todo:1\n"}, "invalid image reference"),
        ({"image": "todo:versión"}, "invalid image reference"),  # \w would take it without re.ASCII
        ({"name": "todo\n"}, "invalid app name"),
        ({"env": {"KEY\n": "x"}}, "invalid environment variable name"),
        ({"replicas": 101}, "more than the limit of 100"),
        ({"replicas": 11, "max_replicas": 10}, "more than the limit of 10 "),
        ({"replicas": -1}, "replicas must be 0 or more"),
        ({"port": 0}, "port must be between"),
        ({"port": 70000}, "port must be between"),
        ({"env": {"1BAD": "x"}}, "invalid environment variable name"),
        ({"env": {"PGHOST": "elsewhere"}, "postgres": True}, "set by the module"),
        ({"labels": {"sentinel.release": "9"}}, "reserved prefix"),
        ({"labels": {"traefik.http.routers.x.rule": "Host(`x`)"}}, "reserved prefix"),
        ({"limits": {"cpus": 0, "memory": None}}, "limits.cpus"),
        ({"limits": {"cpus": None, "memory": "lots"}}, "limits.memory"),
        ({"healthcheck": {"test": [], "interval": None}}, "healthcheck.test"),
        ({"healthcheck": {"test": "true", "interval": "often"}}, "healthcheck.interval"),
        ({"update": {"order": "sideways"}}, "update.order"),
        ({"update": {"failure_action": "panic"}}, "update.failure_action"),
        ({"stop_grace_period": "forever"}, "stop_grace_period"),
        ({"postgres_image": "UPPER/case"}, "invalid image reference"),
    ],
)
def test_validate_rejects(overrides, message):
    with pytest.raises(spec.AppSpecError, match=message):
        spec.validate(params(**overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"replicas": 0},
        {"image": f"{IMAGE}@{DIGEST}"},
        {"image": "postgres"},
        {"env": {"PGHOST": "external-db"}},  # without postgres the app may point anywhere
        {"labels": {"team": "web", "com.example.tier": "front"}},
        {"limits": {"cpus": 0.5, "memory": "256M"}},
        {"healthcheck": {"test": ["curl", "-f", "http://localhost/"], "interval": "5s", "retries": 3}},
    ],
)
def test_validate_accepts(overrides):
    spec.validate(params(**overrides))


def test_validate_accepts_omitted_options():
    # Omitted options keep the service's current values: nothing to validate.
    omitted = dict.fromkeys(spec.CREATE_DEFAULTS)
    spec.validate(params(**{**omitted, "image": None}))


def test_validate_absent_needs_only_a_name():
    spec.validate(params(state="absent", image=None, replicas=-5))
    with pytest.raises(spec.AppSpecError, match="invalid app name"):
        spec.validate(params(state="absent", name="Bad_Name"))


# -- desired views ------------------------------------------------------------------------
def test_view_labels_follow_the_conventions():
    labels = spec.build_view(params(port=9000, labels={"team": "web"}), with_db=False)["labels"]
    assert labels == {
        "team": "web",
        "sentinel.app": "todo",
        "sentinel.role": "prod",
        "traefik.enable": "true",
        "traefik.swarm.network": "sentinel-edge",
        "traefik.http.services.todo-prod.loadbalancer.server.port": "9000",
    }


def test_canary_view_names_its_own_traefik_service():
    view = spec.build_view(params(role="canary"), with_db=False)
    assert view["labels"]["sentinel.role"] == "canary"
    assert "traefik.http.services.todo-canary.loadbalancer.server.port" in view["labels"]
    assert view["networks"] == ["sentinel-edge", "sentinel-todo"]


def test_database_wiring_never_carries_the_password():
    view = spec.build_view(params(postgres=True, pgpass_uid="10001", env={"A": "1"}), with_db=True)
    assert view["env"] == {
        "A": "1",
        "PGHOST": "todo-db",
        "PGPORT": "5432",
        "PGUSER": "todo",
        "PGDATABASE": "todo",
        "PGPASSFILE": "/run/secrets/pgpass",
    }
    assert view["secrets"] == [{"name": "sentinel-todo-db-pgpass", "target": "pgpass", "uid": "10001", "mode": 0o400}]


def test_db_view():
    view = spec.db_view("todo", "postgres:15", ["node.id==abc"])
    assert view["env"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db-password"
    assert view["networks"] == ["sentinel-todo"]  # never on the edge network
    assert view["mounts"] == [{"type": "volume", "source": "sentinel-todo-db", "target": spec.DB_DATA}]
    assert view["update"]["order"] == "stop-first"  # two servers on one data directory corrupt it
    assert view["endpoint_mode"] == "dnsrr"
    assert view["labels"] == {"sentinel.app": "todo", "sentinel.role": "db"}


def test_healthcheck_forms():
    assert spec.healthcheck_view({"test": "pg_isready"}) == {"test": ["CMD-SHELL", "pg_isready"]}
    assert spec.healthcheck_view({"test": ["curl", "-f", "x"]}) == {"test": ["CMD", "curl", "-f", "x"]}
    assert spec.healthcheck_view({"test": ["CMD", "true"], "interval": "2s", "retries": 0}) == {
        "test": ["CMD", "true"],
        "interval": 2.0,
        "retries": 0,
    }
    assert spec.healthcheck_view(None) is None


# -- normalise and compare ----------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"replicas": 3, "env": {"B": "2", "A": "1"}},
        {"limits": {"cpus": 0.5, "memory": "256M"}},
        {"healthcheck": {"test": "true", "interval": "5s", "timeout": "2s", "retries": 2, "start_period": "1s"}},
        {"update": {"parallelism": 2, "delay": "5s", "order": "stop-first", "failure_action": "pause", "monitor": 30}},
        {"stop_grace_period": "1m", "labels": {"team": "web"}},
        {"postgres": True, "pgpass_uid": "10001"},
    ],
)
def test_round_trip_through_the_engine_is_unchanged(overrides):
    p = params(**overrides)
    desired = spec.build_view(p, with_db=p["postgres"])
    current = spec.current_view(engine_round_trip(desired, image_ref=f"{IMAGE}@{DIGEST}"), NETWORKS)
    assert spec.changed_fields(desired, current, "todo") == []


def test_db_round_trip_is_unchanged():
    desired = spec.db_view("todo", "postgres:15", ["node.id==abc"])
    current = spec.current_view(engine_round_trip(desired), NETWORKS)
    assert spec.changed_fields(desired, current, "todo") == []


def test_server_owned_fields_are_ignored():
    desired = spec.build_view(params(), with_db=False)
    engine = engine_round_trip(desired)
    engine.update(Version={"Index": 99}, CreatedAt="2026-01-01T00:00:00Z", ID="abc")
    engine["Labels"] = {**engine["Labels"], "sentinel.release": "7", "sentinel.history": "[]"}
    assert spec.changed_fields(desired, spec.current_view(engine, NETWORKS), "todo") == []


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"image": "registry:5000/sentinel-test/todo:2"}, ["image"]),
        ({"replicas": 3}, ["replicas"]),
        ({"env": {"A": "1"}}, ["env"]),
        ({"port": 9000}, ["labels"]),
        ({"labels": {"team": "web"}}, ["labels"]),
        ({"limits": {"cpus": 1.0, "memory": None}}, ["limits"]),
        ({"stop_grace_period": 30}, ["stop_grace_period"]),
        ({"update": {"parallelism": 2}}, ["rollback", "update"]),
        ({"healthcheck": {"test": "true"}}, ["healthcheck"]),
        ({"replicas": 0, "image": "other:1"}, ["image", "replicas"]),
    ],
)
def test_changes_are_named(overrides, fields):
    current = spec.current_view(engine_round_trip(spec.build_view(params(), with_db=False)), NETWORKS)
    assert spec.changed_fields(spec.build_view(params(**overrides), with_db=False), current, "todo") == fields


def test_turning_the_database_on_changes_env_and_secrets():
    current = spec.current_view(engine_round_trip(spec.build_view(params(), with_db=False)), NETWORKS)
    desired = spec.build_view(params(postgres=True), with_db=True)
    assert spec.changed_fields(desired, current, "todo") == ["env", "secrets"]


def test_a_new_service_changes_every_field():
    desired = spec.build_view(params(), with_db=False)
    assert spec.changed_fields(desired, None, "todo") == sorted(desired)


# -- labels of traefik_route are left alone -----------------------------------------------
ROUTE_LABELS = {
    "traefik.http.routers.todo.rule": "Host(`todo.example.com`)",
    "traefik.http.routers.todo.entrypoints": "websecure",
    "traefik.http.routers.todo-http.rule": "Host(`todo.example.com`)",
    "traefik.http.middlewares.todo-redirect.redirectscheme.scheme": "https",
}


def test_route_labels_are_not_a_change():
    desired = spec.build_view(params(), with_db=False)
    engine = engine_round_trip(desired, labels={**desired["labels"], **ROUTE_LABELS})
    assert spec.changed_fields(desired, spec.current_view(engine, NETWORKS), "todo") == []


def test_route_labels_are_split_out_exactly():
    labels = {"sentinel.app": "todo", "traefik.enable": "true", **ROUTE_LABELS}
    assert spec.route_labels(labels, "todo") == ROUTE_LABELS
    assert spec.owned_labels(labels, "todo") == {"sentinel.app": "todo", "traefik.enable": "true"}


def test_route_labels_of_another_app_are_ours_to_remove():
    # todo2's router on todo-prod is not traefik_route's business for app todo: a stray label.
    stray = {"traefik.http.routers.todo2.rule": "Host(`x`)"}
    assert spec.route_labels(stray, "todo") == {}


def test_user_label_removed_is_a_change():
    desired = spec.build_view(params(), with_db=False)
    engine = engine_round_trip(desired, labels={**desired["labels"], "team": "web"})
    assert spec.changed_fields(desired, spec.current_view(engine, NETWORKS), "todo") == ["labels"]


def test_update_keeps_fields_sentinel_does_not_manage():
    desired = spec.with_restart(spec.build_view(params(), with_db=False), {"force_update": 3}, restart=False)
    base = {"ContainerSpec": {"Image": "old", "Isolation": "default", "Hostname": "kept"}, "ForceUpdate": 3}
    kwargs = spec.service_spec("todo-prod", desired, desired["labels"], IMAGE, NETWORK_IDS, {}, base)
    assert kwargs["task_template"]["ContainerSpec"]["Hostname"] == "kept"
    assert kwargs["task_template"]["ForceUpdate"] == 3
    assert kwargs["task_template"]["ContainerSpec"]["Image"] == IMAGE
    assert base["ContainerSpec"]["Image"] == "old"  # the current spec is not mutated


def test_a_restart_is_one_more_force_update_and_no_release():
    current = {"force_update": 3}
    desired = spec.with_restart(spec.build_view(params(), with_db=False), current, restart=True)
    assert desired["force_update"] == 4
    assert not spec.needs_release(["force_update"])
    assert "force_update" in spec.RESTART_FIELDS


@pytest.mark.parametrize(
    ("current", "wanted", "refused"),
    [
        ("postgres:15", "postgres:16", True),
        ("postgres:15@sha256:" + "a" * 64, "postgres:16.2-bookworm", True),
        ("registry:5000/postgres:15.4", "postgres:15.6", False),
        ("postgres:15", "postgres:15-alpine", False),
        ("sentinel-test/postgres:latest", "sentinel-test/postgres:latest", False),
    ],
)
def test_a_new_postgres_major_is_refused(current, wanted, refused):
    error = spec.postgres_upgrade_error(current, wanted)
    assert bool(error) is refused
    if refused:
        assert "cannot open data" in error and "pg_upgrade" in error


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("sentinel-test/postgres:latest", "postgres:16"), ("postgres:15", "postgres"), ("postgres:15", "postgres:alpine")],
)
def test_a_move_between_images_of_unknown_major_is_refused(current, wanted):
    assert "cannot tell the PostgreSQL major version" in spec.postgres_upgrade_error(current, wanted)


def test_removed_healthcheck_is_removed_from_the_spec():
    desired = spec.build_view(params(), with_db=False)
    base = {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"]}}}
    kwargs = spec.service_spec("todo-prod", desired, {}, IMAGE, NETWORK_IDS, {}, copy.deepcopy(base))
    assert "Healthcheck" not in kwargs["task_template"]["ContainerSpec"]


# -- releases -----------------------------------------------------------------------------
def test_first_release():
    assert spec.release_number(None, ["*"]) == 1
    assert spec.release_number(None, ["*"], recorded=7) == 8  # records outlived the service's label


@pytest.mark.parametrize(
    ("changes", "bumped"),
    [
        (["image"], True),
        (["env"], True),
        (["healthcheck", "replicas"], True),
        (["replicas"], False),
        (["labels"], False),
        (["update", "rollback"], False),
    ],
)
def test_release_increments_on_task_changes_only(changes, bumped):
    assert spec.release_number({"sentinel.release": "4"}, changes, recorded=4) == (5 if bumped else 4)


# -- password -----------------------------------------------------------------------------
def test_password_hash_compares_without_revealing():
    stored = spec.password_hash("s3cret", "salt")
    assert "s3cret" not in stored
    assert spec.password_matches("s3cret", stored)
    assert not spec.password_matches("other", stored)
    assert not spec.password_matches("s3cret", None)
    assert not spec.password_matches("s3cret", "garbage")


@pytest.mark.parametrize(
    ("password", "line"),
    [("abc", "*:*:*:*:abc\n"), ("a:b", "*:*:*:*:a\\:b\n"), ("a\\b", "*:*:*:*:a\\\\b\n")],
)
def test_pgpass_line_escapes(password, line):
    assert spec.pgpass_line(password) == line


# -- omitted options ----------------------------------------------------------------------
def current_of(p: dict, with_db: bool = False) -> dict:
    view = spec.build_view(p, with_db=with_db)
    return spec.current_view(engine_round_trip(view, image_ref=f"{p['image']}@{DIGEST}"), NETWORKS)


OMITTED = {**dict.fromkeys(spec.CREATE_DEFAULTS), "image": None}


def test_new_service_takes_create_defaults():
    effective = spec.effective_params(params(**{**OMITTED, "image": IMAGE}), None)
    assert {k: effective[k] for k in spec.CREATE_DEFAULTS} == spec.CREATE_DEFAULTS


def test_omitted_options_keep_the_current_service():
    deployed = params(
        replicas=3,
        env={"A": "1"},
        port=9000,
        labels={"team": "web"},
        limits={"cpus": 0.5, "memory": "256M"},
        healthcheck={"test": "true", "interval": "5s"},
        update={"parallelism": 2, "order": "stop-first"},
        stop_grace_period=30,
        postgres=True,
        pgpass_uid="10001",
    )
    current = current_of(deployed, with_db=True)
    # scale.yml sends only name and replicas: everything else stays, so only replicas changes.
    effective = spec.effective_params(params(**{**OMITTED, "replicas": 5}), current)
    desired = spec.build_view(effective, with_db=True)
    assert spec.changed_fields(desired, current, "todo") == ["replicas"]
    assert effective["env"] == {"A": "1"}  # the module's database variables are not the user's
    assert effective["image"] == IMAGE


def test_given_options_win_over_the_current_service():
    current = current_of(params(env={"A": "1"}, labels={"team": "web"}))
    effective = spec.effective_params(params(**{**OMITTED, "env": {}, "labels": {}}), current)
    desired = spec.build_view(effective, with_db=False)
    assert spec.changed_fields(desired, current, "todo") == ["env", "labels"]


def test_route_labels_are_not_taken_for_user_labels():
    desired = spec.build_view(params(), with_db=False)
    engine = engine_round_trip(desired, labels={**desired["labels"], **ROUTE_LABELS})
    known = spec.params_of_view(spec.current_view(engine, NETWORKS), "todo", "prod")
    assert known["labels"] == {}


def test_new_canary_starts_from_production_but_not_its_image_or_replicas():
    prod = current_of(params(replicas=4, env={"A": "1"}, port=9000, pgpass_uid="10001", postgres=True), True)
    canary = params(**{**OMITTED, "role": "canary", "image": "registry:5000/sentinel-test/todo:2"})
    effective = spec.effective_params(canary, None, prod)
    assert effective["replicas"] == 1
    assert effective["image"] == "registry:5000/sentinel-test/todo:2"
    assert (effective["env"], effective["port"], effective["pgpass_uid"]) == ({"A": "1"}, 9000, "10001")
    view = spec.build_view(effective, with_db=True)
    assert "traefik.http.services.todo-canary.loadbalancer.server.port" in view["labels"]


@pytest.mark.parametrize(
    ("env", "has_db", "expected"),
    [
        ({"A": "1", "PGHOST": "todo-db"}, True, {"A": "1"}),
        ({"A": "1", "PGHOST": "elsewhere"}, False, {"A": "1", "PGHOST": "elsewhere"}),
    ],
)
def test_user_env(env, has_db, expected):
    assert spec.user_env(env, has_db) == expected


OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


def test_a_pinned_image_compares_by_digest_and_a_tag_by_tag():
    desired = {"image": "todo:1", "env": {}, "labels": {}}
    current = {"image": "todo:1", "env": {}, "labels": {}}
    # The canary's image: production's tag, rebuilt.
    wanted, running = spec.compare_digests(desired, current, f"todo:1@{NEW}", f"todo:1@{OLD}")
    assert spec.changed_fields(wanted, running, "todo") == ["image"]
    same = spec.compare_digests(desired, current, f"todo:1@{OLD}", f"todo:1@{OLD}")
    assert spec.changed_fields(*same, "todo") == []
    # A tag alone: the digest the engine pinned at deploy time is not a difference.
    assert spec.compare_digests(desired, current, "todo:1", f"todo:1@{OLD}") == (desired, current)
    assert spec.compare_digests(desired, None, f"todo:1@{NEW}", None) == (desired, None)

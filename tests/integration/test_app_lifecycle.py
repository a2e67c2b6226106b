"""Apps end to end through the real CLI: deploy with Postgres, scale, inspect, logs, destroy.

Everything goes through `sentinel` (and so through the playbooks) against the 3-node test
Swarm with the platform's real Traefik; answers are real HTTP requests by Host header.
"""

from __future__ import annotations

import json
import time

import docker.errors
import pytest

from tests.harness.http import Edge

pytestmark = pytest.mark.cluster

APP = "todo"
DOMAIN = "todo.sentinel.test"
TODO_UID = "10001"  # the todo image runs as this user; its pgpass secret must be readable by it


def cluster_state(cluster) -> dict:
    """What a failed command must leave exactly as it was."""
    client = cluster.manager.client
    return {
        "services": {s.name: s.attrs["Version"]["Index"] for s in client.services.list()},
        "networks": sorted(n.name for n in client.networks.list()),
        "secrets": sorted(s.name for s in client.secrets.list()),
    }


def task_container(cluster, service: str):
    """A running task container of ``service`` on whichever node runs it."""
    client = cluster.manager.client
    for task in client.services.get(service).tasks(filters={"desired-state": "running"}):
        if task["Status"]["State"] != "running":
            continue
        hostname = client.nodes.get(task["NodeID"]).attrs["Description"]["Hostname"]
        node = next(n for n in cluster.nodes if n.name == hostname)
        return node.client.containers.get(task["Status"]["ContainerStatus"]["ContainerID"])
    raise AssertionError(f"no running task of {service}")


def served_by(edge: Edge, n: int) -> set[str]:
    return {edge.get().headers.get("X-Served-By") for _ in range(n)}


@pytest.fixture(scope="module")
def todo(platform, sentinel):
    """The todo app (v1, two replicas) with its own PostgreSQL, deployed by the CLI."""
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:latest"),
        "--run-as", TODO_UID, "--replicas", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until("todo through Traefik", lambda e: e.get("/healthz").status_code == 200, timeout=60)
    yield run.data
    sentinel("destroy", APP, "--delete-data", "--yes")


def test_deploy_serves_the_app_with_its_database_through_traefik(platform, todo):
    assert todo["urls"] == [f"http://{DOMAIN}"]
    edge = Edge(platform.manager.ip, DOMAIN)
    page = edge.get()
    assert page.status_code == 200 and page.headers["X-App-Version"] == "1"
    created = edge.post_json("/api/todos", {"title": "write the closing note"})
    assert created.status_code == 201, created.text
    titles = [t["title"] for t in edge.get("/api/todos").json()]
    assert "write the closing note" in titles
    assert Edge(platform.manager.ip, "other.sentinel.test").get().status_code == 404


def test_deploying_again_changes_nothing(platform, sentinel, todo):
    before = cluster_state(platform)
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:latest"),
        "--run-as", TODO_UID, "--replicas", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    assert run.data["changed"] is False
    assert cluster_state(platform) == before


def test_scale_to_four_and_back_keeps_the_data(platform, sentinel, todo):
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.post_json("/api/todos", {"title": "survive scaling"})

    run = sentinel("scale", APP, "4")
    assert run.returncode == 0, run.error
    hosts = edge.wait_until("four tasks answering", lambda e: len(s := served_by(e, 40)) == 4 and s, timeout=60)
    assert len(hosts) == 4
    nodes = {t["NodeID"] for t in platform.manager.client.services.get(f"{APP}-prod").tasks(
        filters={"desired-state": "running"})}  # fmt: skip
    assert len(nodes) > 1, "four tasks should spread over more than one node"

    assert sentinel("scale", APP, "1").returncode == 0
    edge.wait_until("one task answering", lambda e: len(served_by(e, 20)) == 1, timeout=60)
    assert "survive scaling" in [t["title"] for t in edge.get("/api/todos").json()]


def test_a_restarted_app_still_has_its_data(platform, todo):
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.post_json("/api/todos", {"title": "survive a restart"})
    service = platform.manager.client.services.get(f"{APP}-prod")
    before = served_by(edge, 20)
    service.force_update()
    edge.wait_until("new tasks answering", lambda e: served_by(e, 20).isdisjoint(before), timeout=90)
    assert "survive a restart" in [t["title"] for t in edge.get("/api/todos").json()]


def test_inspect_app_shows_services_tasks_nodes_and_url(platform, sentinel, todo):
    run = sentinel("inspect", "app", APP)
    assert run.returncode == 0, run.error
    services = run.data["app"]["services"]
    assert set(services) == {"prod", "db"}
    assert services["prod"]["image"].startswith(platform.image("sentinel-test/todo:1"))
    node_names = {n.name for n in platform.nodes}
    assert {t["node"] for t in services["prod"]["tasks"]} <= node_names
    assert run.data["app"]["route"]["domains"] == [DOMAIN]

    text = sentinel("inspect", "app", APP, json_output=False)
    assert text.returncode == 0
    assert f"http://{DOMAIN}" in text.stdout and f"{APP}-prod" in text.stdout and f"{APP}-db" in text.stdout


def test_logs_show_the_requests(platform, sentinel, todo):
    Edge(platform.manager.ip, DOMAIN).get("/version")
    run = sentinel("inspect", "logs", APP, "--tail", "50")
    assert run.returncode == 0, run.error
    assert any("/version" in line for line in run.data["lines"])


def test_apps_lists_the_app(sentinel, todo):
    run = sentinel("apps")
    assert run.returncode == 0, run.error
    assert APP in [a["name"] for a in run.data["apps"]]


def test_no_secret_in_specs_env_labels_or_output(platform, sentinel, ansible, todo):
    db = task_container(platform, f"{APP}-db")
    password = db.exec_run(["cat", "/run/secrets/db-password"]).output.decode().strip()
    assert len(password) >= 16

    client = platform.manager.client
    specs = json.dumps([s.attrs for s in client.services.list()])
    app_env = json.dumps(task_container(platform, f"{APP}-prod").attrs["Config"]["Env"])
    play = ansible.playbook("inspect.yml", {"app": APP})
    places = {
        "service specs": specs,
        "app env": app_env,
        "inspect output": sentinel("inspect", "app", APP).stdout,
        "apps output": sentinel("apps").stdout,
        "logs output": sentinel("inspect", "logs", APP).stdout,
        "playbook output": json.dumps(play.output) + play.stderr,
    }
    for where, text in places.items():
        assert password not in text, f"the database password leaks in {where}"
    # The app reads it through libpq's pgpass file, readable by its user only.
    mode = task_container(platform, f"{APP}-prod").exec_run(["stat", "-c", "%a %u", "/run/secrets/pgpass"])
    assert mode.output.decode().split() == ["400", TODO_UID]


# -- bad input: a clear message, and nothing changes -----------------------------------
BAD_DEPLOYS = [
    pytest.param(["Bad_Name"], "invalid app name 'Bad_Name'", id="uppercase-name"),
    pytest.param(["--", "-x"], "invalid app name '-x'", id="leading-hyphen"),
    pytest.param(["a" * 40], "invalid app name", id="too-long"),
    pytest.param(["edge"], "reserved", id="reserved-name"),
    pytest.param(["evil", "--domain", "a.sentinel.test`) || Host(`b.test"], "invalid domain", id="rule-injection"),
    pytest.param(["evil", "--domain", "bad domain.test"], "invalid domain", id="space-in-domain"),
    pytest.param(["evil", "--domain", "localhost"], "needs at least one dot", id="bare-host"),
    pytest.param(["evil", "--domain", DOMAIN.upper()], f"domain {DOMAIN} is routed by app {APP}", id="taken-domain"),
    pytest.param(["evil", "--replicas", "101"], "more than the limit of 100", id="too-many-replicas"),
    pytest.param(["evil", "--image", "todo:versión"], "invalid image reference", id="non-ascii-image"),
]


@pytest.mark.parametrize("args, message", BAD_DEPLOYS)
def test_bad_deploy_input_is_refused_and_changes_nothing(platform, sentinel, todo, args, message):
    before = cluster_state(platform)
    image = platform.image("sentinel-test/todo:1")
    extra = [] if "--domain" in args else ["--domain", "ok.sentinel.test"]
    extra += [] if "--image" in args else ["--image", image]
    run = sentinel("deploy", *extra, *args)
    assert run.returncode == 1
    assert message in run.error
    assert "Traceback" not in run.stderr
    assert cluster_state(platform) == before


def test_an_image_that_does_not_exist_is_refused_and_changes_nothing(platform, sentinel, todo):
    before = cluster_state(platform)
    missing = platform.image("sentinel-test/does-not-exist:1")
    run = sentinel("deploy", "ghost", "--image", missing, "--domain", "ghost.sentinel.test", "--no-tls")
    assert run.returncode == 1
    assert "does-not-exist" in run.error
    assert cluster_state(platform) == before


def test_negative_replicas_are_refused(platform, sentinel, ansible, todo):
    before = cluster_state(platform)
    run = sentinel("scale", APP, "-1", json_output=False)
    assert run.returncode == 2 and "-1" in run.stderr  # Click's own range check
    play = ansible.playbook("scale.yml", {"app": APP, "replicas": -1})
    assert not play.ok and "invalid replicas -1" in " ".join(play.failures)
    assert cluster_state(platform) == before


@pytest.mark.parametrize(
    "args",
    [["scale", "nope", "2"], ["inspect", "app", "nope"], ["inspect", "logs", "nope"], ["destroy", "nope", "--yes"]],
    ids=["scale", "inspect", "logs", "destroy"],
)
def test_unknown_apps_are_refused(platform, sentinel, todo, args):
    before = cluster_state(platform)
    run = sentinel(*args)
    assert run.returncode == 1
    assert "app nope not found" in run.error
    assert cluster_state(platform) == before


def test_a_conflicting_spec_is_refused(platform, sentinel, todo):
    before = cluster_state(platform)
    run = sentinel("deploy", APP, "--no-postgres")
    assert run.returncode == 1
    assert "has a database" in run.error
    assert cluster_state(platform) == before


def test_destroy_keeps_the_data_unless_asked(platform, sentinel):
    name = "brief"
    edge = Edge(platform.manager.ip, "brief.sentinel.test")

    def deploy():
        run = sentinel(
            "deploy", name, "--image", platform.image("sentinel-test/todo:1"), "--domain", "brief.sentinel.test",
            "--no-tls", "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:latest"),
            "--run-as", TODO_UID,
        )  # fmt: skip
        assert run.returncode == 0, run.error

    deploy()
    edge.post_json("/api/todos", {"title": "outlive a destroy"})
    db_node = task_container(platform, f"{name}-db").client
    client = platform.manager.client

    run = sentinel("destroy", name, "--yes")
    assert run.returncode == 0, run.error
    assert not [s for s in client.services.list() if s.name.startswith(f"{name}-")]
    db_node.volumes.get(f"sentinel-{name}-db")  # kept: no --delete-data
    assert sentinel("destroy", name, "--yes").returncode == 1  # gone now: an unknown app

    deploy()  # the same app again finds its data
    assert "outlive a destroy" in [t["title"] for t in edge.get("/api/todos").json()]

    assert sentinel("destroy", name, "--delete-data", "--yes").returncode == 0
    assert not [s for s in client.secrets.list() if s.name.startswith(f"sentinel-{name}-")]
    deadline = time.monotonic() + 30
    while True:
        try:
            db_node.volumes.get(f"sentinel-{name}-db")
        except docker.errors.NotFound:
            break
        assert time.monotonic() < deadline, "the volume should be gone with --delete-data"
        time.sleep(1)

"""Canary deployments end to end through the real CLI and real Traefik.

Counts which version answered real HTTP requests; promote and rollback run under a
continuous (bounded) load and must not fail a single request.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state

pytestmark = pytest.mark.cluster

APP = "shop"
DOMAIN = "shop.sentinel.test"
TODO_UID = "10001"
# A smoke test in the todo image: the to-do list must answer, straight from the service under test.
SMOKE = "python3 -c \"import os, urllib.request; urllib.request.urlopen(os.environ['SENTINEL_TARGET'] + '/api/todos')\""


def running_task_ids(cluster, service: str) -> list[str]:
    tasks = cluster.manager.client.services.get(service).tasks(filters={"desired-state": "running"})
    return sorted(t["ID"] for t in tasks if t["Status"]["State"] == "running")


def services_of(cluster) -> set[str]:
    return {s.name for s in cluster.manager.client.services.list() if s.name.startswith(f"{APP}-")}


@pytest.fixture(scope="module")
def shop(platform, sentinel):
    """Production v1 (2 replicas) with Postgres; every test starts without a canary."""
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:latest"),
        "--run-as", TODO_UID, "--replicas", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until("shop through Traefik", lambda e: e.get("/healthz").status_code == 200, timeout=60)
    yield edge
    sentinel("destroy", APP, "--delete-data", "--yes")


@pytest.fixture
def no_canary(platform, sentinel, shop):
    yield shop
    if f"{APP}-canary" in services_of(platform):
        sentinel("canary", "rollback", APP, "--yes")


def test_split_stickiness_and_live_traffic_changes(platform, sentinel, no_canary):
    edge = no_canary
    edge.post_json("/api/todos", {"title": "made by production"})

    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "10")
    assert run.returncode == 0, run.error
    assert run.data["weights"] == {"prod": 90, "canary": 10}

    counts = edge.versions(200)
    assert abs(counts["2"] - 20) <= 4 and counts["1"] + counts["2"] == 200, counts

    # Sticky: a user who keeps the cookie stays on one version, on either side.
    seen = set()
    for _ in range(30):
        session = requests.Session()
        first = edge.version(session)
        if first in seen:
            continue
        seen.add(first)
        assert {edge.version(session) for _ in range(100)} == {first}
        if seen == {"1", "2"}:
            break
    assert seen == {"1", "2"}, "30 new users should have met both versions"

    # The canary reaches production's database.
    canary_user = requests.Session()
    while edge.version(canary_user) != "2":
        canary_user = requests.Session()
    titles = [t["title"] for t in edge.get("/api/todos", session=canary_user).json()]
    assert "made by production" in titles

    # New weights: no restart of Traefik or any task.
    before = {s: running_task_ids(platform, s) for s in ("sentinel-traefik", f"{APP}-prod", f"{APP}-canary")}
    run = sentinel("canary", "traffic", APP, "--weight", "30")
    assert run.returncode == 0, run.error
    counts = edge.versions(200)
    assert abs(counts["2"] - 60) <= 4, counts
    after = {s: running_task_ids(platform, s) for s in before}
    assert after == before, "changing weights must not restart anything"

    status = sentinel("canary", "status", APP)
    assert status.returncode == 0 and status.data["weights"] == {"prod": 70, "canary": 30}


def test_a_dark_launch_reaches_only_who_asks_for_it(platform, sentinel, no_canary):
    """At weight 0 the canary takes no user; the header, or the cookie a link sets, reaches it
    anyway, and 'never' keeps a user on production at any weight. Plain users meet production only,
    under load, from before the canary starts until after it is gone."""
    edge = no_canary
    always, never = {"X-Sentinel-Canary": "always"}, {"X-Sentinel-Canary": "never"}
    with Load(edge) as load:
        run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "0")
        assert run.returncode == 0, run.error
        assert run.data["preview"] == {
            "header": "X-Sentinel-Canary: always",
            "link": f"http://{DOMAIN}/?sentinel-canary=1",
        }
        assert edge.versions(100, headers=always) == {"2": 100}
        assert edge.versions(100) == {"1": 100}

        # A link sets the cookie and sends the browser back without its parameter.
        tester = requests.Session()
        link = edge.get("/?a=1&sentinel-canary=1", session=tester, allow_redirects=False)
        assert link.status_code == 302 and link.headers["Location"] == f"http://{DOMAIN}/?a=1&", link.headers
        assert tester.cookies.get("sentinel-canary") == "always"
        assert edge.versions(50, session=tester) == {"2": 50}
        assert edge.versions(20, session=tester, headers=never) == {"1": 20}  # the header beats the cookie

        status = sentinel("canary", "status", APP)
        assert status.data["preview"]["header"] == "X-Sentinel-Canary: always"

        run = sentinel("canary", "rollback", APP, "--yes")
        assert run.returncode == 0, run.error
        assert edge.versions(50, headers=always) == {"1": 50}, "no canary, no preview"
    print(f"\nfault table: {load.summary('dark launch at weight 0, previewed, rolled back')}")
    assert not load.failures and {version for _, version in load.results} == {"1"}


def test_never_keeps_a_user_on_production_at_any_weight(platform, sentinel, no_canary):
    edge = no_canary
    image = platform.image("sentinel-test/todo:2")
    run = sentinel("canary", "deploy", APP, "--image", image, "--weight", "100", "--preview-header", "X-QA")
    assert run.returncode == 0, run.error
    assert run.data["preview"]["header"] == "X-QA: always"
    assert edge.versions(50) == {"2": 50}
    assert edge.versions(50, headers={"X-QA": "never"}) == {"1": 50}
    pinned = requests.Session()
    assert edge.get("/?sentinel-canary=0", session=pinned, allow_redirects=False).status_code == 302
    assert edge.versions(50, session=pinned) == {"1": 50}


def test_a_bad_preview_header_is_refused_before_anything_changes(platform, sentinel, no_canary):
    before = cluster_state(platform)
    run = sentinel(
        "canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--preview-header", "X Bad"
    )  # fmt: skip
    assert run.returncode != 0 and "invalid preview header 'X Bad'" in run.error
    assert cluster_state(platform) == before


def test_promote_under_load_fails_no_request(platform, sentinel, no_canary):
    edge = no_canary
    image_v2 = platform.image("sentinel-test/todo:2")
    assert sentinel("canary", "deploy", APP, "--image", image_v2, "--weight", "20").returncode == 0
    with Load(edge) as load:
        run = sentinel("canary", "promote", APP, "--yes")
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, f"failed requests during promote: {load.failures}"
    assert edge.versions(100) == {"2": 100}
    assert f"{APP}-canary" not in services_of(platform)
    prod_image = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert prod_image["Image"].startswith(image_v2)


def test_rollback_under_load_fails_no_request(platform, sentinel, no_canary):
    edge = no_canary
    production = edge.version()
    other = "1" if production == "2" else "2"
    run = sentinel("canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "50")
    assert run.returncode == 0, run.error
    with Load(edge) as load:
        run = sentinel("canary", "rollback", APP, "--yes")
    assert run.returncode == 0, run.error
    load.assert_went_on()
    assert not load.failures, f"failed requests during rollback: {load.failures}"
    assert edge.versions(100) == {production: 100}
    assert f"{APP}-canary" not in services_of(platform)


def test_an_unhealthy_canary_is_refused_and_production_keeps_serving(platform, sentinel, no_canary):
    edge = no_canary
    production = edge.version()
    with Load(edge, clients=1) as load:
        run = sentinel(
            "canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "50",
            "--env", "TODO_UNHEALTHY=1",
        )  # fmt: skip
    assert run.returncode == 1
    assert "did not become healthy" in run.error and "production is untouched" in run.error
    assert not load.failures
    assert f"{APP}-canary" not in services_of(platform)
    assert edge.versions(50) == {production: 50}


def jobs_of(cluster) -> list[str]:
    return [s.name for s in cluster.manager.client.services.list(filters={"label": f"sentinel.job={APP}"})]


def test_a_canary_failing_its_smoke_test_is_removed_before_any_user_reaches_it(platform, sentinel, no_canary):
    """Healthy, but its to-do list answers 500: the smoke test fails, and at weight 50 not one of
    the clients' requests reached it."""
    edge = no_canary
    production = edge.version()
    other = "1" if production == "2" else "2"
    before = cluster_state(platform)
    with Load(edge, clients=2) as load:
        run = sentinel(
            "canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "50",
            "--env", "TODO_FAIL_EVERY=1", "--smoke-test-cmd", SMOKE,
        )  # fmt: skip
    print(f"\nfault table: {load.summary('canary failing its smoke test, weight 50')}")
    assert run.returncode == 1
    assert "failed its smoke test and was removed" in run.error and "exited 1" in run.error, run.error
    assert "HTTP Error 500" in run.error, "the job's last log line says why"
    assert len(load.results) >= 100 and not load.failures, load.failures
    assert {version for _, version in load.results} == {production}, "no request may reach the canary"
    assert cluster_state(platform) == before and not jobs_of(platform)


def test_a_canary_passing_its_smoke_test_gets_its_share(platform, sentinel, ansible, no_canary):
    """A separate smoke-test image (todo:1 running SMOKE) against a good canary; the job is gone after."""
    edge = no_canary
    other = "1" if edge.version() == "2" else "2"
    run = sentinel(
        "canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "30",
        "--smoke-test", platform.image("sentinel-test/todo:1"), "--smoke-test-cmd", SMOKE,
    )  # fmt: skip
    assert run.returncode == 0, run.error
    assert abs(edge.versions(100)[other] - 30) <= 4 and not jobs_of(platform)

    # The module alone: check mode runs nothing; a failing job gives its exit code and log.
    job = {"name": APP, "image": platform.image("sentinel-test/todo:1")}
    checked = ansible.module("sentinel.paas.swarm_job", job, check=True)
    assert not checked.failed and checked["exit_code"] is None and not jobs_of(platform), checked.raw
    assert checked["target"] == f"http://{APP}-canary:8000"
    failed = ansible.module("sentinel.paas.swarm_job", {**job, "command": ["sh", "-c", "echo checked; exit 3"]})
    assert failed.failed and failed["exit_code"] == 3 and failed["log"] == ["checked"], failed.raw
    assert "exited 3" in failed.msg and not failed.changed and not jobs_of(platform)
    # One that outlives its timeout (--smoke-test-timeout) is stopped and counted as failed.
    slow = ansible.module("sentinel.paas.swarm_job", {**job, "command": ["sleep", "60"], "timeout": 2})
    assert slow.failed and "did not end within 2 s" in slow.msg and not jobs_of(platform), slow.raw


def test_promoting_a_canary_that_fails_its_health_check_keeps_production(platform, sentinel, ansible, no_canary):
    edge = no_canary
    production = edge.version()
    prod_before = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    # A canary that runs but is unhealthy (started without waiting), taking no traffic.
    started = ansible.module(
        "sentinel.paas.swarm_app",
        {"name": APP, "role": "canary", "image": platform.image("sentinel-test/todo:2"),
         "env": {"TODO_UNHEALTHY": "1"}, "wait": False},
    )  # fmt: skip
    assert not started.failed, started.msg
    with Load(edge, clients=1) as load:
        run = sentinel("canary", "promote", APP, "--yes", timeout=900)
    assert run.returncode == 1
    assert "promotion of shop failed and production stays on" in run.error
    assert not load.failures, f"failed requests during the failed promote: {load.failures}"
    prod_after = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert prod_after["Image"] == prod_before["Image"]
    assert edge.versions(50) == {production: 50}
    assert f"{APP}-canary" in services_of(platform), "the canary keeps running for a look"


def canary_containers(cluster):
    """The canary's containers on every node, with the node's client to act on them."""
    service = f"{APP}-canary"
    return [
        container
        for node in cluster.nodes
        for container in node.client.containers.list(filters={"label": f"com.docker.swarm.service.name={service}"})
    ]


def lose_the_canary(cluster, fault: str) -> None:
    if fault == "scaled-to-0":  # behind Sentinel's back, as a crash loop or a lost node ends
        cluster.manager.client.services.get(f"{APP}-canary").scale(0)
    else:  # every task dies at once (SIGKILL); Swarm starts new ones after its restart delay
        for container in canary_containers(cluster):
            container.kill()


@pytest.mark.parametrize("fault", ["scaled-to-0", "killed"])
def test_a_lost_canary_hands_its_share_to_production(platform, sentinel, no_canary, fault):
    """Whatever happens to the canary, its guard answers from production: nobody sees an error,
    and without canary tasks production takes all of the traffic within 5 s."""
    edge = no_canary
    production = edge.version()
    other = "1" if production == "2" else "2"
    run = sentinel("canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "50")
    assert run.returncode == 0, run.error
    with Load(edge, max_seconds=120) as load:
        time.sleep(2)
        lost = time.monotonic()
        lose_the_canary(platform, fault)
        time.sleep(10)
    print(f"\nfault table: {load.summary('canary ' + fault + ' at weight 50')}")
    load.assert_went_on(lost)
    assert not load.failures, f"failed requests around the lost canary: {load.failures}"
    assert load.slowest < 3, f"a request waited {load.slowest:.2f} s"
    if fault == "scaled-to-0":
        late = load.since(lost + 5)
        assert late and {version for _, version in late} == {production}, "production must take it all within 5 s"


def test_a_rebuilt_tag_is_promoted_by_its_digest_and_the_same_build_is_not(
    platform, cluster_factory, sentinel, no_canary
):
    """Production and canary with one tag: the digest decides (issue: promote compares digests)."""
    edge = no_canary
    production = edge.version()
    other = "1" if production == "2" else "2"
    cluster_factory.push(platform, f"sentinel-test/todo:{production}", "sentinel-test/todo:rebuilt")
    assert sentinel("deploy", APP, "--image", platform.image("sentinel-test/todo:rebuilt")).returncode == 0
    cluster_factory.push(platform, f"sentinel-test/todo:{other}", "sentinel-test/todo:rebuilt")  # rebuilt
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:rebuilt"), "--weight", "50")
    assert run.returncode == 0, run.error
    run = sentinel("canary", "promote", APP, "--yes")
    assert run.returncode == 0, run.error
    assert edge.versions(50) == {other: 50}, "the rebuilt tag must roll out"

    # A canary of production's own build: nothing to promote, and nothing changes.
    running = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert sentinel("canary", "deploy", APP, "--image", running["Image"]).returncode == 0
    before = platform.manager.client.services.get(f"{APP}-prod").attrs["Version"]["Index"]
    run = sentinel("canary", "promote", APP, "--yes")
    assert run.returncode == 1 and "nothing to promote" in run.error, run.error
    assert platform.manager.client.services.get(f"{APP}-prod").attrs["Version"]["Index"] == before


def test_scaling_a_routed_canary_to_zero_is_refused(platform, sentinel, no_canary):
    edge = no_canary
    production = edge.version()
    other = "1" if production == "2" else "2"
    assert sentinel("canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}")).returncode == 0
    before = platform.manager.client.services.get(f"{APP}-canary").attrs["Spec"]
    run = sentinel("scale", APP, "0", "--canary")
    assert run.returncode == 1 and f"sentinel canary rollback {APP}" in run.error, run.error
    assert platform.manager.client.services.get(f"{APP}-canary").attrs["Spec"] == before
    assert set(edge.versions(100)) == {production, other}


@pytest.mark.parametrize("weight", ["-1", "101", "abc", "10.5"])
def test_bad_weights_are_refused(platform, sentinel, ansible, no_canary, weight):
    before = services_of(platform)
    run = sentinel("canary", "traffic", APP, "--weight", weight, json_output=False)
    assert run.returncode == 2 and "--weight" in run.stderr  # Click's own check
    image = platform.image("sentinel-test/todo:2")
    play = ansible.playbook("canary.yml", {"app": APP, "weight": weight, "image": image})
    assert not play.ok and "invalid weight" in " ".join(play.failures)
    assert services_of(platform) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["canary", "deploy", "nope", "--image", "x:1"], "app nope not found"),
        (["canary", "traffic", APP, "--weight", "10"], "has no canary"),
        (["canary", "promote", APP, "--yes"], "has no canary to promote"),
        (["canary", "rollback", APP, "--yes"], "has no canary to roll back"),
    ],
    ids=["unknown-app", "traffic-without-canary", "promote-without-canary", "rollback-without-canary"],
)
def test_canary_commands_without_what_they_need_are_refused(platform, sentinel, no_canary, args, message):
    before = services_of(platform)
    run = sentinel(*args)
    assert run.returncode == 1 and message in run.error
    assert services_of(platform) == before


def test_a_canary_image_that_does_not_exist_is_refused(platform, sentinel, no_canary):
    edge = no_canary
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/nope:9"), "--weight", "10")
    assert run.returncode == 1 and "nope" in run.error
    assert f"{APP}-canary" not in services_of(platform)
    assert edge.get().status_code == 200


def test_the_playbook_works_as_written_in_the_docs(platform, ansible, no_canary):
    """ansible-playbook playbooks/canary.yml -e app=... -e image=... -e weight=10, with string extra vars."""
    edge = no_canary
    other = "1" if edge.version() == "2" else "2"  # earlier tests may have promoted v2
    image = platform.image(f"sentinel-test/todo:{other}")
    play = ansible.playbook("canary.yml", {"app": APP, "image": image, "weight": "10"})
    assert play.ok, play.failures
    counts = edge.versions(100)
    assert abs(counts[other] - 10) <= 2, counts

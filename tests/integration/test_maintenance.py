"""Maintenance mode through the real CLI, the real Traefik and the control plane's real page server.

On, every request for the app's domains gets the page (503, the message, Retry-After) while the app's
tasks keep running untouched; off, the app answers again. Switching under load costs no request
anything but the page: no 404, 502 or refused connection. Bad input changes nothing.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.harness.http import Edge, Load
from tests.harness.wait import eventually
from tests.integration.test_app_lifecycle import task_container

pytestmark = pytest.mark.cluster

APP = "hold"
DOMAIN = "hold.sentinel.test"
MESSAGE = "Moving to a bigger database: back at 14:30 UTC, <promise> & café"
ESCAPED = "Moving to a bigger database: back at 14:30 UTC, &lt;promise&gt; &amp; café"


def prod_state(cluster) -> dict:
    """What maintenance must never change (the service's tasks and spec but its labels) or, refused, at all."""
    service = cluster.manager.client.services.get(f"{APP}-prod")
    spec = service.attrs["Spec"]
    tasks = sorted(t["ID"] for t in service.tasks(filters={"desired-state": "running"}))
    return {"task_template": spec["TaskTemplate"], "tasks": tasks, "labels": spec["Labels"]}


@pytest.fixture(scope="module")
def hold(platform, sentinel):
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--replicas", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until("the app through Traefik", lambda e: e.get().status_code == 200, timeout=60)
    yield edge
    # Destroyed in maintenance: the page's document goes with the app, or its router would hold the domain.
    sentinel("maintenance", "on", APP)
    assert sentinel("destroy", APP, "--yes").returncode == 0
    assert not platform.manager.client.configs.list(filters={"label": f"sentinel.traefik.file={APP}-maintenance.yml"})


def test_maintenance_on_answers_every_request_with_the_page_and_off_brings_the_app_back(platform, sentinel, hold):
    before = prod_state(platform)
    with Load(hold, clients=2, rate=20) as load:
        time.sleep(2)
        started = time.monotonic()
        on = sentinel("maintenance", "on", APP, "--message", MESSAGE, "--retry-after", "120")
        on_done = time.monotonic()
        assert on.returncode == 0, on.error
        assert on.data["maintenance"] is True and on.data["changed"] is True
        assert on.data["message"] == MESSAGE and on.data["retry_after"] == 120
        # Done means served: every request from here on gets the page.
        answers = [hold.get() for _ in range(100)]
        held = prod_state(platform)
        time.sleep(2)
        off = sentinel("maintenance", "off", APP)
        off_done = time.monotonic()
        assert off.returncode == 0, off.error
        assert off.data["maintenance"] is False and off.data["changed"] is True
        back = [hold.get().status_code for _ in range(50)]
        time.sleep(2)
    print(f"\nmaintenance under load | requests | failed | slowest\n{load.summary('on, then off')}")
    assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [(503, "120")] * 100
    assert all(f"<p>{ESCAPED}</p>" in a.text and "X-App-Version" not in a.headers for a in answers)
    assert back == [200] * 50
    # The app kept running, its tasks untouched: only the route's labels came and went.
    assert {k: v for k, v in held.items() if k != "labels"} == {k: v for k, v in before.items() if k != "labels"}
    assert held["labels"]["sentinel.maintenance.retry-after"] == "120"
    assert prod_state(platform) == before
    # Under load, a request got the app or the page, nothing else; the page only while it was on.
    assert {status for status, _ in load.results} <= {200, 503}, load.failures
    assert all(status == 200 for status, _ in load.since(0, started)), "the page before maintenance began"
    assert all(status == 503 for status, _ in load.since(on_done, on_done + 1.5))
    assert all(status == 200 for status, _ in load.since(off_done)), "the page after maintenance ended"


def test_maintenance_twice_changes_nothing_and_keeps_the_message(platform, sentinel, hold):
    assert sentinel("maintenance", "on", APP, "--message", MESSAGE).returncode == 0
    try:
        before = prod_state(platform)
        again = sentinel("maintenance", "on", APP)
        assert again.returncode == 0, again.error
        assert again.data["changed"] is False and again.data["message"] == MESSAGE
        assert again.data["retry_after"] == 300
        assert prod_state(platform) == before
        answer = hold.get("/healthz")
        assert answer.status_code == 503 and f"<p>{ESCAPED}</p>" in answer.text
    finally:
        assert sentinel("maintenance", "off", APP).returncode == 0
    off_again = sentinel("maintenance", "off", APP)
    assert off_again.returncode == 0 and off_again.data["changed"] is False
    assert hold.get().status_code == 200


def traefik_routers(platform) -> set[str]:
    """The routers the manager's Traefik serves, from its own API (on its container's loopback)."""
    traefik = task_container(platform, "sentinel-traefik")
    answer = traefik.exec_run(["curl", "-fsS", "http://127.0.0.1:8080/api/rawdata"])
    assert answer.exit_code == 0, answer.output.decode()
    return set(json.loads(answer.output)["routers"])


def test_the_page_stays_while_production_runs_no_task(platform, sentinel, hold):
    """As in a database move: Traefik drops every router on the labels of a service without tasks, so the page's
    router is a file-provider document that stays."""
    assert sentinel("maintenance", "on", APP).returncode == 0
    try:
        assert sentinel("scale", APP, "0").returncode == 0
        eventually("the app's routers dropped", lambda: f"{APP}@swarm" not in traefik_routers(platform), timeout=30)
        assert f"{APP}-maintenance@file" in traefik_routers(platform)
        assert [hold.get().status_code for _ in range(20)] == [503] * 20
    finally:
        assert sentinel("scale", APP, "2").returncode == 0
        assert sentinel("maintenance", "off", APP).returncode == 0
    assert hold.get().status_code == 200
    assert f"{APP}-maintenance@file" not in traefik_routers(platform)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["on", APP, "--message", "two\nlines"], "control characters"),
        (["on", APP, "--message", "x" * 501], "at most 500"),
        (["on", "nosuchapp"], "nosuchapp"),
        (["on", APP, "--retry-after", "0"], "0 is not in the range"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(platform, sentinel, hold, args, message):
    before = prod_state(platform)
    run = sentinel("maintenance", *args)
    assert run.returncode != 0 and message in run.error, run.error
    assert prod_state(platform) == before
    assert hold.get().status_code == 200


def test_the_playbook_refuses_what_is_neither_on_nor_off(platform, ansible, hold):
    before = prod_state(platform)
    run = ansible.playbook("maintenance.yml", {"app": APP, "maintenance": "maybe"})
    assert not run.ok and "give maintenance=on or maintenance=off (got maybe)" in str(run.failures)
    assert prod_state(platform) == before

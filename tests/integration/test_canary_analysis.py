"""canary_analysis judges a step from the real Prometheus, on the real 3-node test Swarm.

The monitoring stack (test_monitoring's fixture, scraping every 5 s), an app deployed with the
CLI, canaries of todo:2 made good, failing, slow or failing at first with the example app's test
knobs, and real traffic through Traefik from background clients. Each test compares the verdict
and the judge's numbers with what the clients saw.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest

from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state
from tests.integration.test_monitoring import SCRAPE_SECONDS, monitoring  # noqa: F401 - fixture

pytestmark = pytest.mark.cluster

APP = "judged"
DOMAIN = "judged.sentinel.test"
MODULE = "sentinel.paas.canary_analysis"
# Windows of one scrape each: every window holds a sample of every counter.
STEP = {"interval": f"{4 * SCRAPE_SECONDS}s", "windows": 4, "max_inconclusive": 0}


@pytest.fixture(scope="module")
def app(platform, sentinel, monitoring):  # noqa: F811 - the fixture imported above
    run = sentinel("deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls")
    assert run.returncode == 0, run.error
    try:
        yield Edge(platform.manager.ip, DOMAIN)
    finally:
        sentinel("destroy", APP, "--yes")


def start_canary(platform, sentinel, weight: int, *env: str) -> None:
    args = ["canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", str(weight)]
    for pair in env:
        args += ["--env", pair]
    run = sentinel(*args)
    assert run.returncode == 0, run.error


@pytest.fixture
def canary(platform, sentinel, app):
    """Starts a canary (weight, env pairs) and takes it out after the test."""
    yield lambda weight, *env: start_canary(platform, sentinel, weight, *env)
    sentinel("canary", "rollback", APP, "--yes")


def analyse(ansible, **options) -> dict:
    started = time.monotonic()
    result = ansible.module(MODULE, {"name": APP, **STEP, **options})
    assert not result.failed, result.msg
    canary, prod = result["numbers"]["canary"], result["numbers"]["prod"]
    print(
        f"\n{result['verdict']} in {time.monotonic() - started:.1f} s; canary {canary['requests']:g} requests"
        f" {canary['errors']:g} 5xx p99 {canary['p99']}; prod {prod['requests']:g} requests; {result['reasons']}",
        file=sys.stderr,
    )
    return result.raw


def served(load: Load, since: float, version: str) -> tuple[int, int]:
    """(requests, 5xx) the clients saw from one version (X-App-Version) since a moment."""
    answers = [status for status, answered_by in load.since(since) if answered_by == version]
    return len(answers), sum(1 for status in answers if status >= 500)


def test_a_canary_answering_500_to_every_4th_request_fails_on_its_error_rate(ansible, canary, app):
    canary(50, "TODO_FAIL_EVERY=4")
    with Load(app, clients=2) as load:
        time.sleep(SCRAPE_SECONDS)
        moment = time.monotonic()
        result = analyse(ansible, max_error_rate_increase=0.05)
    assert result["verdict"] == "fail"
    assert "error rate" in result["reasons"][0]
    canary_numbers = result["numbers"]["canary"]
    assert canary_numbers["errors"] / canary_numbers["requests"] == pytest.approx(0.25, abs=0.05)
    compared = result["comparisons"]["error_rate"]
    assert compared["over"] and compared["significant"], compared
    seen, failed = served(load, moment, "2")
    assert failed / seen == pytest.approx(0.25, abs=0.03)
    # The step's boundaries are scrapes: within about one scrape of traffic of what was sent.
    assert canary_numbers["requests"] == pytest.approx(seen, rel=0.35)
    assert canary_numbers["errors"] == pytest.approx(failed, rel=0.35)
    assert len(canary_numbers["windows"]) == 4 and result["held"] == 0 and result["changed"] is False
    assert 0 < canary_numbers["p99"] < 0.5


def test_a_slow_canary_fails_on_p99(ansible, canary, app):
    canary(50, "TODO_DELAY_MS=700")
    with Load(app, clients=4):
        time.sleep(SCRAPE_SECONDS)
        result = analyse(ansible, interval="10s", windows=2, min_requests=10)
    assert result["verdict"] == "fail"
    assert "p99" in result["reasons"][0]
    assert 0.6 < result["numbers"]["canary"]["p99"] <= 1.0  # 700 ms falls in the (0.5, 1] bucket
    assert result["numbers"]["prod"]["p99"] < 0.25


def test_a_canary_failing_only_its_first_20_requests_is_caught(ansible, platform, sentinel, monitoring):  # noqa: F811
    """A version's counters appear with its first requests, so increase() would start after them.
    A new app, so that its canary's counters do not exist yet; traffic reaches the canary only
    once the step is under way, and then 10% of it."""
    fresh, domain = "fresh", "fresh.sentinel.test"
    prometheus = monitoring["prometheus"]
    run = sentinel("deploy", fresh, "--image", platform.image("sentinel-test/todo:1"), "--domain", domain, "--no-tls")
    assert run.returncode == 0, run.error
    try:
        run = sentinel(
            "canary", "deploy", fresh, "--image", platform.image("sentinel-test/todo:2"), "--weight", "0",
            "--env", "TODO_FAIL_FIRST=20",
        )  # fmt: skip
        assert run.returncode == 0, run.error
        with Load(Edge(platform.manager.ip, domain), clients=2) as load:
            step = {}
            judge = threading.Thread(target=lambda: step.update(analyse(ansible, name=fresh, min_requests=20)))
            judge.start()
            time.sleep(SCRAPE_SECONDS / 2)
            assert not prometheus.query(f'traefik_service_requests_total{{service="{fresh}-canary@file"}}')
            moment = time.monotonic()
            run = sentinel("canary", "traffic", fresh, "--weight", "10")
            assert run.returncode == 0, run.error
            judge.join()
        seen, failed = served(load, moment, "2")
    finally:
        sentinel("destroy", fresh, "--yes")
    assert failed == 20, (seen, failed)
    assert step["verdict"] == "fail", step["reasons"]
    assert step["numbers"]["canary"]["errors"] == 20
    assert step["numbers"]["canary"]["requests"] == pytest.approx(seen, rel=0.35)


def test_too_little_traffic_is_inconclusive_and_holding_extends_the_step(ansible, canary, app):
    canary(50)
    for _request in range(6):  # a trickle: a few requests, far under min_requests
        app.get("/")
    result = analyse(ansible, interval="10s", windows=2, max_inconclusive=1)
    assert result["verdict"] == "inconclusive"
    assert "fewer than the 50 needed" in result["reasons"][0]
    assert result["held"] == 1 and result["ended"] - result["started"] == pytest.approx(20, abs=0.1)
    assert len(result["numbers"]["canary"]["windows"]) == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "5s"}, "interval must be at least 10s"),
        ({"interval": "ten"}, "invalid window 'ten'"),
        ({"windows": 1}, "windows must be at least 2"),
        ({"max_error_rate": 2.0}, "max_error_rate must be a share between 0 and 1"),
        ({"confidence": 1.0}, "confidence must be at least 0.5 and below 1"),
        ({"name": "Bad_Name"}, "Bad_Name"),
    ],
)
def test_bad_input_is_refused_at_once(ansible, app, platform, options, message):
    before = cluster_state(platform)
    started = time.monotonic()
    result = ansible.module(MODULE, {"name": APP, **options})
    assert result.failed and message in result.msg, result.msg
    assert time.monotonic() - started < 10  # no step was watched
    assert cluster_state(platform) == before


# -- the progressive rollout, end to end through the CLI -------------------------------------
ROLLOUT = ["--auto", "--steps", "10,25,50", "--interval", "10s", "--min-requests", "20"]


def rollout(platform, sentinel, *args: str):
    started = time.monotonic()
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), *ROLLOUT, *args)
    print(f"\nrollout {' '.join(args) or '(good)'}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return run


def production_failures(load: Load) -> int:
    """Requests production's users lost: connection errors and failures not from the canary (v2)."""
    return sum(1 for status, version in load.results if status == 0 or (status >= 500 and version != "2"))


def test_a_good_canary_walks_every_step_and_is_promoted(platform, sentinel, app):
    with Load(app, clients=2) as load:
        run = rollout(platform, sentinel)
        time.sleep(2)  # answers after the promotion
    print(load.summary("good rollout, promoted"), file=sys.stderr)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "promoted", run.data
    assert [(s["weight"], s["verdict"]) for s in run.data["steps"]] == [(10, "pass"), (25, "pass"), (50, "pass")]
    for step in run.data["steps"]:
        canary = step["numbers"]["canary"]
        assert canary["requests"] >= 20 and canary["errors"] == 0 and 0 < canary["p99"] < 0.5, step
        assert step["ended"] - step["started"] == pytest.approx(10, abs=0.1) and step["judge_seconds"] < 5
    assert sum(load.failures.values()) == 0, load.failures
    services = platform.manager.client.services
    prod_image = services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert prod_image == run.data["production_image"] and "todo:2" in prod_image
    assert not services.list(filters={"name": f"{APP}-canary"})
    assert app.versions(20) == {"2": 20}
    # Back to v1 for the tests that follow.
    redeploy = sentinel("deploy", APP, "--image", platform.image("sentinel-test/todo:1"))
    assert redeploy.returncode == 0, redeploy.error


def test_a_failing_canary_is_rolled_back_at_its_first_step(platform, sentinel, app):
    with Load(app, clients=2) as load:
        run = rollout(platform, sentinel, "--env", "TODO_FAIL_EVERY=4")
        rolled_back = time.monotonic()
        time.sleep(2)
    print(load.summary("failing canary, rolled back"), file=sys.stderr)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "rolled back"
    assert [(s["weight"], s["verdict"]) for s in run.data["steps"]] == [(10, "fail")]
    assert "error rate" in run.data["steps"][0]["reasons"][0]
    assert production_failures(load) == 0
    assert all(version == "1" for _status, version in load.since(rolled_back))
    assert not platform.manager.client.services.list(filters={"name": f"{APP}-canary"})


def test_a_dry_run_judges_every_step_and_acts_on_none(platform, sentinel, app):
    try:
        with Load(app, clients=2):
            run = rollout(platform, sentinel, "--env", "TODO_FAIL_EVERY=4", "--dry-run", "--steps", "10,20")
        assert run.returncode == 0, run.error
        assert run.data["outcome"] == "dry run" and run.data["verdict"] == "fail"  # the worst step's
        assert [(s["weight"], s["verdict"]) for s in run.data["steps"]] == [(10, "fail"), (20, "fail")]
        assert platform.manager.client.services.list(filters={"name": f"{APP}-canary"})  # the canary stays
    finally:
        sentinel("canary", "rollback", APP, "--yes")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "10,5"], "strictly increasing"),
        (["--steps", " "], "give the canary's weights in order"),
        (["--steps", "50,150"], "invalid step '150'"),
        (["--interval", "5s"], "interval must be at least 10s"),
        (["--max-error-rate", "150%"], "max_error_rate must be a share between 0 and 1"),
        (["--confidence-is-not-an-option"], "No such option"),
    ],
)
def test_bad_rollout_input_is_refused_with_nothing_started(platform, sentinel, app, args, message):
    before = cluster_state(platform)
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--auto", *args)
    assert run.returncode != 0 and message in (run.error + run.stderr), (run.error, run.stderr)
    assert cluster_state(platform) == before


def test_a_rollout_on_an_unknown_app_is_refused(platform, sentinel):
    run = sentinel("canary", "deploy", "nosuchapp", "--image", platform.image("sentinel-test/todo:2"), "--auto")
    assert run.returncode == 1 and "app nosuchapp not found" in run.error


def test_a_rollout_beside_an_existing_canary_is_refused_with_nothing_changed(platform, sentinel, canary):
    canary(0)
    before = cluster_state(platform)
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--auto")
    assert run.returncode == 1 and f"app {APP} has a canary already" in run.error, run.error
    assert "promote it or roll it back first" in run.error
    assert cluster_state(platform) == before

"""canary_analysis judges a step from the real Prometheus, on the real 3-node test Swarm.

The monitoring stack (test_monitoring's fixture, scraping every 5 s), an app deployed with the
CLI, canaries of todo:2 made good, failing, slow or failing at first with the example app's test
knobs, and real traffic through Traefik from background clients. Each test compares the verdict
and the judge's numbers with what the clients saw.

The order of the tests saves deploys (each test still runs alone, -k): the first-20 test comes
first, while the app has never had a canary; the tests that only need some canary share one
(TestOneFailingCanary); the rollouts that promote come last, the second one rolling production
back to todo:1 through its own rollout, so that no test redeploys production after a promotion.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from html import escape

import pytest

from tests.harness.http import Edge, Load
from tests.harness.monitoring import SCRAPE_SECONDS
from tests.integration.test_app_lifecycle import cluster_state

pytestmark = pytest.mark.cluster

APP = "judged"
DOMAIN = "judged.sentinel.test"
MODULE = "sentinel.paas.canary_analysis"
CANARY_REQUESTS = f'traefik_service_requests_total{{service="{APP}-canary@file"}}'
# Windows of one scrape each: every window holds a sample of every counter.
STEP = {"interval": f"{4 * SCRAPE_SECONDS}s", "windows": 4, "max_inconclusive": 0}


@pytest.fixture(scope="module")
def app(platform, sentinel, monitoring):
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


def served(load: Load, since: float, version: str, until: float = math.inf) -> tuple[int, int]:
    """(requests, 5xx) the clients saw from one version (X-App-Version) between two moments."""
    answers = [status for status, answered_by in load.since(since, until) if answered_by == version]
    return len(answers), sum(1 for status in answers if status >= 500)


# -- rollouts, records and production's version ----------------------------------------------
ROLLOUT = ["--auto", "--steps", "10,25,50", "--interval", "10s", "--min-requests", "20"]


def rollout(platform, sentinel, *args: str, version: str = "2"):
    started = time.monotonic()
    image = platform.image(f"sentinel-test/todo:{version}")
    run = sentinel("canary", "deploy", APP, "--image", image, *ROLLOUT, *args)
    print(f"\nrollout {' '.join(args) or '(good)'}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return run


def history(sentinel, number: int | None = None) -> list[dict]:
    run = sentinel("canary", "history", APP, *(["--rollout", str(number)] if number else []))
    assert run.returncode == 0, run.error
    return run.data["rollouts"]


def production_failures(load: Load) -> int:
    """Requests production's users lost: connection errors and failures not from the canary (v2)."""
    return sum(1 for status, version in load.results if status == 0 or (status >= 500 and version != "2"))


def rollout_configs(platform) -> list:
    return platform.manager.client.configs.list(filters={"label": f"sentinel.rollout.app={APP}"})


def wait_for_step(platform, sentinel, timeout: float = 90) -> None:
    """Until the running rollout's record shows a step under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rollout_configs(platform):
            records = history(sentinel, None)
            if records and records[0]["status"] == "running" and records[0].get("current"):
                return
        time.sleep(1)
    raise AssertionError(f"no rollout step under way within {timeout:.0f} s")


def production_version(platform) -> str:
    """The X-App-Version of the todo image production runs: "1" or "2"."""
    spec = platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    return "2" if "todo:2" in spec["Image"] else "1"


def ensure_v1(platform, sentinel) -> None:
    """Production on todo:1, for the tests that tell the canary (todo:2) from production by version:
    redeployed only when a promotion before left todo:2."""
    if production_version(platform) != "1":
        redeploy = sentinel("deploy", APP, "--image", platform.image("sentinel-test/todo:1"))
        assert redeploy.returncode == 0, redeploy.error
        assert production_version(platform) == "1"


@pytest.fixture
def production_v1(platform, sentinel, app):
    """Production on todo:1 for this test."""
    ensure_v1(platform, sentinel)


def canary_running(platform) -> bool:
    return bool(platform.manager.client.services.list(filters={"name": f"{APP}-canary"}))


@pytest.mark.usefixtures("production_v1")
def test_a_canary_failing_only_its_first_20_requests_is_caught(ansible, sentinel, monitoring, canary, app):
    """A version's counters appear with its first requests, so increase() would start after them.
    The first canary of the file's app (so the file's first test), so that its counters do not exist
    yet; traffic reaches the canary only once the step is under way, and then 10% of it."""
    prometheus = monitoring["prometheus"]
    canary(0, "TODO_FAIL_FIRST=20")
    with Load(app, clients=2) as load:
        step = {}
        # A step twice the usual: the traffic change may take a good part of 20 s on a busy machine.
        long_step = {"interval": f"{8 * SCRAPE_SECONDS}s", "windows": 8}
        judge = threading.Thread(target=lambda: step.update(analyse(ansible, min_requests=20, **long_step)))
        judge.start()
        time.sleep(SCRAPE_SECONDS / 2)
        counters = prometheus.query(CANARY_REQUESTS)
        assert not counters, f"the canary's counters exist already (a canary of {APP} ran before this test)"
        moment = time.monotonic()
        run = sentinel("canary", "traffic", APP, "--weight", "10")
        assert run.returncode == 0, run.error
        judge.join()
    seen, failed = served(load, moment, "2")
    # The step counts what Prometheus scraped by its end: at least what was sent a scrape (and a
    # second) before the end, at most what was sent before it.
    step_end = step["ended"] - (time.time() - time.monotonic())
    at_least, _ = served(load, moment, "2", until=step_end - SCRAPE_SECONDS - 1)
    at_most, _ = served(load, moment, "2", until=step_end + 1)
    assert failed == 20, (seen, failed)
    assert step["verdict"] == "fail", step["reasons"]
    assert step["numbers"]["canary"]["errors"] == 20
    assert at_least <= step["numbers"]["canary"]["requests"] <= at_most, (at_least, at_most)


@pytest.fixture(scope="class")
def failing_canary(platform, sentinel, app):
    """One canary of todo:2 at 50% answering 500 to every 4th request, for every test of the class;
    taken out after the last (unless a test took it out)."""
    ensure_v1(platform, sentinel)
    try:
        start_canary(platform, sentinel, 50, "TODO_FAIL_EVERY=4")
        yield app
    finally:
        if canary_running(platform):
            sentinel("canary", "rollback", APP, "--yes")


@pytest.mark.usefixtures("failing_canary")
class TestOneFailingCanary:
    """The tests that need a canary, any canary: one started for all. The resume test takes it out: last."""

    def test_a_canary_answering_500_to_every_4th_request_fails_on_its_error_rate(self, ansible, failing_canary):
        with Load(failing_canary, clients=2) as load:
            time.sleep(SCRAPE_SECONDS)
            moment = time.monotonic()
            # Windows of two scrapes each: with one scrape each (the usual step), a scrape a starved machine missed
            # left a window without data for both versions, and three windows against three cannot reach 98%
            # confidence (CI36: p=0.0297, the judge's test for 3 against 3).
            result = analyse(ansible, max_error_rate_increase=0.05, interval=f"{8 * SCRAPE_SECONDS}s")
        assert result["verdict"] == "fail"
        assert "error rate" in result["reasons"][0]
        canary_numbers = result["numbers"]["canary"]
        assert canary_numbers["errors"] / canary_numbers["requests"] == pytest.approx(0.25, abs=0.05)
        compared = result["comparisons"]["error_rate"]
        assert compared["over"] and compared["significant"], compared
        seen, failed = served(load, moment, "2")
        assert failed / seen == pytest.approx(0.25, abs=0.03)
        # The step's boundaries are scrapes: it counts what was sent in it, give or take a scrape (and a second)
        # at each end. Its own times, not the ad hoc run's: a busy machine takes seconds to start and end that.
        clock = time.time() - time.monotonic()
        start, end = result["started"] - clock, result["ended"] - clock
        at_least = served(load, start + SCRAPE_SECONDS + 1, "2", until=end - SCRAPE_SECONDS - 1)
        at_most = served(load, start - SCRAPE_SECONDS - 1, "2", until=end + SCRAPE_SECONDS + 1)
        assert at_least[0] <= canary_numbers["requests"] <= at_most[0], (at_least, at_most, canary_numbers)
        assert at_least[1] <= canary_numbers["errors"] <= at_most[1], (at_least, at_most, canary_numbers)
        assert len(canary_numbers["windows"]) == 4 and result["held"] == 0 and result["changed"] is False
        assert 0 < canary_numbers["p99"] < 0.5

    def test_too_little_traffic_is_inconclusive_and_holding_extends_the_step(self, ansible, failing_canary, monitoring):
        # The previous test's load must be behind a scrape: the step's first window begins at the last scrape before
        # the step, and counted that load's last second (CI: 76 canary requests where the trickle sent 3).
        monitoring["prometheus"].scraped_after(CANARY_REQUESTS, time.time())
        # The canary's 500s do not matter: too little traffic is inconclusive before anything is judged.
        for _request in range(6):  # a trickle: a few requests, far under min_requests
            failing_canary.get("/")
        result = analyse(ansible, interval="10s", windows=2, max_inconclusive=1)
        assert result["verdict"] == "inconclusive"
        assert "fewer than the 50 needed" in result["reasons"][0]
        assert result["held"] == 1 and result["ended"] - result["started"] == pytest.approx(20, abs=0.1)
        assert len(result["numbers"]["canary"]["windows"]) == 4

    def test_a_rollout_beside_an_existing_canary_is_refused_with_nothing_changed(self, platform, sentinel):
        before = cluster_state(platform)
        run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--auto")
        assert run.returncode == 1 and f"app {APP} has a canary already" in run.error, run.error
        assert "promote it or roll it back first" in run.error
        assert cluster_state(platform) == before

    def test_resume_rolls_back_a_failed_step_and_refuses_a_canary_not_the_rollouts(self, platform, sentinel, ansible):
        """A step that failed stands: resume never judges it again (it might pass the second time).
        Its rollback takes out the class's canary: the class's last test."""
        running = platform.manager.client.services.get(f"{APP}-canary").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
        numbers = {
            "prod": {"requests": 400, "errors": 0, "p99": 0.01},
            "canary": {"requests": 40, "errors": 10, "p99": 0.01},
        }
        failed = {
            "weight": 10,
            "verdict": "fail",
            "reasons": ["canary error rate 25.00% is over 1.00%"],
            "numbers": numbers,
        }
        record = {"status": "running", "owner": "test", "started": "2026-12-03T09:00:00+00:00", "dry_run": False,
                  "options": {"steps": [10, 50], "on_inconclusive": "pause"}, "steps": [failed],
                  "canary_image": "someone/else:9"}  # fmt: skip
        written = ansible.module("sentinel.paas.canary_record", {"name": APP, "id": "failed-step", "set": record})
        assert not written.failed, written.raw
        before = (cluster_state(platform), sorted(c.id for c in rollout_configs(platform)))
        refused = sentinel("canary", "resume", APP)
        assert refused.returncode == 1, refused.error
        assert f"not rollout {written['record']['number']}'s someone/else:9: nothing to resume" in refused.error
        assert (cluster_state(platform), sorted(c.id for c in rollout_configs(platform))) == before
        record["canary_image"] = running["Image"]
        ansible.module("sentinel.paas.canary_record", {"name": APP, "id": "failed-step", "set": record})
        resumed = sentinel("canary", "resume", APP)
        assert resumed.returncode == 0, resumed.error
        assert resumed.data["outcome"] == "rolled back" and resumed.data["steps"] == [failed], resumed.data
        assert not platform.manager.client.services.list(filters={"name": f"{APP}-canary"})
        ended = history(sentinel)[0]
        assert (ended["status"], ended["verdict"], ended["reason"]) == ("rolled back", "fail", failed["reasons"][0])


@pytest.mark.parametrize(
    ("options", "messages"),
    [
        # Every mistake is named at once: one run for several.
        (
            {"name": "Bad_Name", "interval": "5s", "windows": 1, "max_error_rate": 2.0, "confidence": 1.0},
            [
                "invalid app name 'Bad_Name'",
                "interval must be at least 10s",
                "windows must be at least 2",
                "max_error_rate must be a share between 0 and 1",
                "confidence must be at least 0.5 and below 1",
            ],
        ),
        ({"interval": "ten"}, ["invalid window 'ten'"]),
        # A step this module watched would last a minute: the time below tells a refusal from a watch.
        ({"interval": "60s", "windows": 1}, ["windows must be at least 2"]),
    ],
)
def test_bad_input_is_refused_at_once(ansible, app, platform, options, messages):
    before = cluster_state(platform)
    started = time.monotonic()
    result = ansible.module(MODULE, {"name": APP, **options})
    assert result.failed and all(message in result.msg for message in messages), result.msg
    # Refused before any step: under the minute one would last (an ad hoc run alone took up to 17 s on a busy
    # machine, a CLI refusal in test_one_operation_at_a_time).
    assert time.monotonic() - started < 45
    assert cluster_state(platform) == before


def test_canary_load_four_steps_and_bad_input_changes_nothing(ansible, platform, app):
    args = {"name": APP, "path": "/api/todos", "rps": 2, "seconds": 60}
    services = platform.manager.client.services
    before = cluster_state(platform)
    refused = ansible.module("sentinel.paas.canary_load", {**args, "rps": 0})
    assert refused.failed and "invalid rps 0" in refused.msg
    # A generator that cannot run (here: its image cannot be pulled) fails, and is not left behind.
    missing = platform.image("sentinel-test/todo:1").replace("todo:1", "no-such-image:1")
    unrunnable = ansible.module("sentinel.paas.canary_load", {**args, "image": missing})
    assert unrunnable.failed and "the generator ended at once" in unrunnable.msg, unrunnable.msg
    assert cluster_state(platform) == before
    try:
        checked = ansible.module("sentinel.paas.canary_load", args, check=True, diff=True)
        assert checked.changed and checked["changes"] == ["load"]
        assert checked["diff"]["after"]["load"]["SENTINEL_LOAD_URL"] == f"http://{DOMAIN}/api/todos"
        assert not services.list(filters={"name": "sentinel-load-judged"})
        applied = ansible.module("sentinel.paas.canary_load", args)
        assert applied.changed and services.list(filters={"name": "sentinel-load-judged"})
        assert not ansible.module("sentinel.paas.canary_load", args, check=True).changed
        assert not ansible.module("sentinel.paas.canary_load", args).changed
        faster = ansible.module("sentinel.paas.canary_load", {**args, "rps": 3}, check=True, diff=True)
        assert faster.changed and faster["changes"] == ["load.SENTINEL_LOAD_RPS"], faster.raw
    finally:
        stopped = ansible.module("sentinel.paas.canary_load", {"name": APP, "state": "absent"})
    assert stopped.changed and not services.list(filters={"name": "sentinel-load-judged"})


@pytest.mark.usefixtures("production_v1")
def test_a_failing_canary_is_rolled_back_at_its_first_step(platform, sentinel, app, tmp_path):
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
    # The record names the error rate and the numbers it came from.
    record = history(sentinel)[0]
    assert record["status"] == "rolled back" and record["verdict"] == "fail" and "error rate" in record["reason"]
    assert record["steps"][0]["numbers"]["canary"]["errors"] > 0
    assert record["events"][-1]["type"] == "canary.rolled_back" and record["events"][-1]["reason"] == record["reason"]
    # And its report plots that step: error rate and p99, canary against production.
    page = tmp_path / "rollout.html"
    report = sentinel("canary", "history", APP, "--report", str(page))
    assert report.returncode == 0, report.error
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and html.count("class='canary'") >= 2 and escape(record["reason"]) in html


@pytest.mark.usefixtures("production_v1")
def test_a_slow_canary_is_rolled_back_on_its_p99(platform, sentinel, app):
    with Load(app, clients=4) as load:
        run = rollout(platform, sentinel, "--env", "TODO_DELAY_MS=700")
        time.sleep(2)
    print(load.summary("slow canary, rolled back"), file=sys.stderr)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "rolled back"
    assert [(s["weight"], s["verdict"]) for s in run.data["steps"]] == [(10, "fail")]
    step = run.data["steps"][0]
    assert "p99" in step["reasons"][0]
    assert 0.6 < step["numbers"]["canary"]["p99"] <= 1.0  # 700 ms falls in the (0.5, 1] bucket
    # Production stays under the 500 ms threshold the canary failed (its p99 reads a little higher on a
    # busy machine: 0.35 s was seen, Prometheus interpolating inside the (0.25, 0.5] bucket).
    assert step["numbers"]["prod"]["p99"] < 0.5
    assert production_failures(load) == 0
    assert not platform.manager.client.services.list(filters={"name": f"{APP}-canary"})
    assert history(sentinel)[0]["reason"] == step["reasons"][0]


def test_canary_record_four_steps_on_the_swarm(ansible, app):
    args = {"name": APP, "id": "four-steps", "set": {"status": "dry run", "steps": []}, "event": "dry_run"}
    first = ansible.module("sentinel.paas.canary_record", args, check=True, diff=True)
    assert not first.failed and first.changed and first["diff"]["before"] == {}, first.raw
    applied = ansible.module("sentinel.paas.canary_record", args, diff=True)
    assert not applied.failed and applied.changed and applied["event"]["type"] == "canary.dry_run", applied.raw
    assert applied["diff"]["after"]["status"] == first["diff"]["after"]["status"] == "dry run"
    for check in (True, False):
        again = ansible.module("sentinel.paas.canary_record", args, check=check, diff=True)
        assert not again.failed and not again.changed and again["event"] is None, again.raw
        assert again["diff"] == {"before": {}, "after": {}}
    listed = ansible.module("sentinel.paas.canary_record_info", {"name": APP, "limit": 1})
    assert listed["rollouts"] == [applied["record"]]
    # A new rollout that keeps 1 leaves only itself.
    newest = ansible.module("sentinel.paas.canary_record", {**args, "id": "keeps-one", "keep": 1})
    assert not newest.failed and newest.changed, newest.raw
    listed = ansible.module("sentinel.paas.canary_record_info", {"name": APP})
    assert [r["id"] for r in listed["rollouts"]] == ["keeps-one"]


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
    ("args", "messages"),
    [
        # The playbook names every bad option at once: one run for several.
        (
            ["--steps", "10,5", "--interval", "5s", "--load", "api:5", "--max-error-rate", "150%"],
            [
                "strictly increasing",
                "interval must be at least 10s",
                "invalid load 'api:5'",
                "max_error_rate must be a share between 0 and 1",
            ],
        ),
        (["--steps", " "], ["give the canary's weights in order"]),
        (["--steps", "50,150"], ["invalid step '150'"]),
        (["--baseline", "--steps", "25,50"], ["with a baseline the canary's steps go up to 33, got 50"]),
        (["--baseline"], ["a baseline is only compared through max_error_rate_increase or max_latency_increase"]),
        (["--confidence-is-not-an-option"], ["No such option"]),
    ],
)
def test_bad_rollout_input_is_refused_with_nothing_started(platform, sentinel, app, args, messages):
    before = cluster_state(platform)
    run = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--auto", *args)
    said = run.error + run.stderr
    assert run.returncode != 0 and all(message in said for message in messages), (run.error, run.stderr)
    assert cluster_state(platform) == before


def test_a_rollout_on_an_unknown_app_is_refused(platform, sentinel):
    run = sentinel("canary", "deploy", "nosuchapp", "--image", platform.image("sentinel-test/todo:2"), "--auto")
    assert run.returncode == 1 and "app nosuchapp not found" in run.error


# -- the rollouts that promote: last, so that production need not be redeployed after them --------


@pytest.mark.usefixtures("production_v1")
def test_a_good_canary_walks_every_step_against_a_baseline_and_is_promoted(platform, sentinel, app):
    # With a baseline (production's image at the canary's share), which the judge compares the canary with.
    with Load(app, clients=2) as load:
        run = rollout(platform, sentinel, "--baseline", "--steps", "10,25", "--max-latency-increase", "10000%")
        time.sleep(2)  # answers after the promotion
    print(load.summary("good rollout, promoted"), file=sys.stderr)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "promoted", run.data
    assert [(s["weight"], s["verdict"]) for s in run.data["steps"]] == [(10, "pass"), (25, "pass")]
    for step in run.data["steps"]:
        canary, baseline = step["numbers"]["canary"], step["numbers"]["baseline"]
        assert canary["requests"] >= 20 and canary["errors"] == 0 and 0 < canary["p99"] < 0.5, step
        assert step["ended"] - step["started"] == pytest.approx(10, abs=0.1) and step["judge_seconds"] < 5
        # The baseline took about as much as the canary, and was what the canary's p99 was held against.
        assert baseline["requests"] == pytest.approx(canary["requests"], rel=0.5), step["numbers"]
        assert step["comparisons"]["p99"]["prod"] == baseline["p99"], step["comparisons"]
    assert sum(load.failures.values()) == 0, load.failures
    services = platform.manager.client.services
    prod_image = services.get(f"{APP}-prod").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert prod_image == run.data["production_image"] and "todo:2" in prod_image
    assert not services.list(filters={"name": f"{APP}-canary"}) and not services.list(
        filters={"name": f"{APP}-baseline"}
    )
    assert app.versions(20) == {"2": 20}
    # The decision record in the Swarm says the same, with who, the images and the events.
    record = history(sentinel, run.data["rollout"])[0]
    assert record["status"] == "promoted" and record["owner"] and record["started"] < record["ended"]
    assert (
        "todo:2" in record["canary_image"] and "todo:1" in record["production_image"] and record["options"]["baseline"]
    )
    assert [s["numbers"] for s in record["steps"]] == [s["numbers"] for s in run.data["steps"]]
    assert [e["type"] for e in record["events"]] == ["canary.started"] + ["canary.step"] * 2 + ["canary.promoted"]
    first = run.data["steps"][0]
    assert record["events"][1]["step"] == {"weight": 10, "verdict": "pass", "reasons": first["reasons"]}


def test_too_little_traffic_never_passes_and_with_load_the_same_rollout_concludes(platform, sentinel, app):
    # The version production does not run: after the good rollout's promotion, todo:1, which this
    # rollout's promotion brings back (the rollouts after it start from todo:1 with no redeploy).
    version = "1" if production_version(platform) == "2" else "2"
    # No users at all: the canary's first step is inconclusive and, with nothing to wait for, rolled back.
    # Latency is not what is judged here: a 1-task canary taking each second's burst of the load on a
    # busy 2-core machine may answer one in a hundred slowly, and one answer over 1 s in a hundred puts
    # the p99 between the 1 s and 2.5 s buckets. 10 s is the largest bucket: p99 is then not judged.
    quiet = ["--steps", "20,50", "--max-inconclusive", "0", "--max-p99", "10s"]
    run = rollout(platform, sentinel, *quiet, version=version)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "rolled back" and run.data["verdict"] == "inconclusive", run.data
    assert "fewer than the 20 needed" in run.data["steps"][0]["reasons"][0]
    # The same rollout with a load generator in the cluster: 10 requests a second, all the canary's.
    run = rollout(platform, sentinel, *quiet, "--load", "/:10", version=version)
    assert run.returncode == 0, run.error
    assert run.data["outcome"] == "promoted", [(s["verdict"], s["reasons"], s["numbers"]) for s in run.data["steps"]]
    for step in run.data["steps"]:
        assert step["verdict"] == "pass" and step["numbers"]["canary"]["requests"] >= 50, step
        assert step["numbers"]["prod"]["requests"] < 10, step  # pinned: production's share saw none of it
    assert history(sentinel, run.data["rollout"])[0]["options"]["load"] == {"path": "/", "rps": 10}
    assert not platform.manager.client.services.list(filters={"label": f"sentinel.load={APP}"})
    assert production_version(platform) == version


@pytest.mark.usefixtures("production_v1")
def test_a_rollout_whose_driver_is_killed_is_resumed_from_its_record(platform, sentinel, app):
    image = platform.image("sentinel-test/todo:2")
    with Load(app, clients=2, max_seconds=300) as load:
        driver = sentinel.start("canary", "deploy", APP, "--image", image, *ROLLOUT[:1], "--steps", "10,50",
                                "--interval", "10s", "--min-requests", "20")  # fmt: skip
        wait_for_step(platform, sentinel)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        status = sentinel("canary", "status", APP)
        assert status.returncode == 0, status.error
        assert status.data["rollout"]["status"] == "running" and status.data["weights"]["canary"] == 10
        refused = sentinel("canary", "resume", APP)
        assert refused.returncode == 1 and "is busy: canary rollout by" in refused.error, refused.error
        broken = sentinel("unlock", APP, "--yes")
        assert broken.returncode == 0, broken.error
        resumed = sentinel("canary", "resume", APP)
        time.sleep(2)  # answers after the promotion
    print(f"\nfault table: {load.summary('rollout driver killed (SIGKILL) mid-step, unlock, resume')}")
    assert resumed.returncode == 0, resumed.error
    assert resumed.data["outcome"] == "promoted", resumed.data
    assert [s["weight"] for s in resumed.data["steps"]] == [10, 50]
    assert production_failures(load) == 0, load.failures
    record = history(sentinel)[0]
    assert record["status"] == "promoted" and len(record["resumed"]) == 1
    assert "canary.resumed" in [e["type"] for e in record["events"]]
    # Nothing left to resume now: refused, nothing changed.
    before = cluster_state(platform)
    again = sentinel("canary", "resume", APP)
    assert again.returncode == 1 and "has ended (promoted): nothing to resume" in again.error, again.error
    assert cluster_state(platform) == before

"""One operation at a time per app: the lease in the Swarm, through the real CLI and playbooks.

A second operation is refused at once naming the holder; a run killed with SIGKILL leaves the app
serving and a lease that `sentinel unlock` breaks, after which the same command completes; a lease
whose holder is gone ends by itself. Every refusal compares the services before and after.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.harness.http import Edge, Load

pytestmark = pytest.mark.cluster

APP = "lock"
DOMAIN = "lock.sentinel.test"
LEASE = f"sentinel-lease-app-{APP}"


def lease_labels(cluster) -> dict | None:
    found = cluster.manager.client.configs.list(filters={"name": LEASE})
    return found[0].attrs["Spec"].get("Labels") if found else None


def services(cluster) -> dict:
    """Every service of the app with its spec version: a refusal must leave them all alone."""
    client = cluster.manager.client
    return {s.name: s.attrs["Version"]["Index"] for s in client.services.list() if s.name.startswith(f"{APP}-")}


def wait_for_lease(cluster, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        labels = lease_labels(cluster)
        if labels:
            return labels
        time.sleep(0.2)
    raise AssertionError(f"no lease {LEASE} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def lock(platform, sentinel):
    run = sentinel(
        "deploy", APP, "--image", platform.image("sentinel-test/todo:1"), "--domain", DOMAIN, "--no-tls",
        "--replicas", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until("lock through Traefik", lambda e: e.get("/healthz").status_code == 200, timeout=60)
    yield edge
    sentinel("unlock", APP, "--yes")
    sentinel("destroy", APP, "--yes")


def test_a_finished_operation_gives_the_lease_back(platform, sentinel, lock):
    assert sentinel("scale", APP, "2").returncode == 0
    assert lease_labels(platform) is None
    # A run that fails after taking the lease gives it back too.
    refused = sentinel("scale", APP, "1", "--canary")
    assert refused.returncode == 1 and "has no canary" in refused.error, refused.error
    assert lease_labels(platform) is None


def test_a_second_operation_is_refused_at_once_naming_the_holder(platform, sentinel, lock):
    first = sentinel.start("scale", APP, "4")
    try:
        holder = wait_for_lease(platform)
        assert holder["sentinel.lease.operation"] == "scale"
        started = time.monotonic()
        second = sentinel("scale", APP, "1")
        waited = time.monotonic() - started
        still_held = lease_labels(platform) == holder
        assert second.returncode == 1
        assert f"app {APP} is busy: scale by {holder['sentinel.lease.owner']}" in second.error, second.error
        assert holder["sentinel.lease.started"] in second.error and f"sentinel unlock {APP}" in second.error
        # Quick, or (on a machine too busy for quick) back while the holder still holds the lease:
        # either way it did not wait for the holder.
        assert waited < 15 or (still_held and waited < 60), f"the refusal took {waited:.1f} s ({still_held=})"
    finally:
        assert first.wait(timeout=300) == 0
    assert lease_labels(platform) is None
    # The holder's change stands and the refused one never ran.
    assert platform.manager.client.services.get(f"{APP}-prod").attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 4


def test_a_killed_deploy_keeps_serving_and_unlock_lets_the_same_command_finish(platform, sentinel, lock):
    image = platform.image("sentinel-test/todo:2")
    with Load(lock, max_seconds=240) as load:
        run = sentinel.start("deploy", APP, "--image", image)
        wait_for_lease(platform)
        time.sleep(3)  # inside the rolling update
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        time.sleep(5)
        refused = sentinel("scale", APP, "2")
        assert refused.returncode == 1 and "is busy: deploy by" in refused.error, refused.error
        broken = sentinel("unlock", APP, "--yes")
        assert broken.returncode == 0, broken.error
        assert broken.data["previous"]["operation"] == "deploy"
        again = sentinel("deploy", APP, "--image", image)
        assert again.returncode == 0, again.error
    print(f"\nfault table: {load.summary('deploy killed (SIGKILL) mid-roll, unlock, deploy again')}")
    assert not load.failures, f"failed requests around the killed deploy: {load.failures}"
    assert lock.versions(20) == {"2": 20}
    assert lease_labels(platform) is None


def test_a_promote_killed_mid_roll_is_finished_by_running_it_again(platform, sentinel, lock):
    """SIGKILL inside promote's rolling update: production keeps serving; after unlock, the same
    promote waits for the roll it left and takes the canary out, instead of "nothing to promote".
    If the roll ended before the second promote looked (the unlock alone took 11 s on a busy machine,
    CI30), production runs the canary's build already: the refusal must say how to take the canary
    out, and that command ends it the same."""
    production = lock.version()
    other = "1" if production == "2" else "2"
    run = sentinel("canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "50")
    assert run.returncode == 0, run.error
    with Load(lock, max_seconds=240) as load:
        promote = sentinel.start("canary", "promote", APP, "--yes")
        wait_for_lease(platform)
        deadline = time.monotonic() + 60
        while platform.manager.client.services.get(f"{APP}-prod").attrs.get("UpdateStatus", {}).get("State") != (
            "updating"
        ):
            assert time.monotonic() < deadline, "production never started rolling"
            time.sleep(0.2)
        os.killpg(promote.pid, signal.SIGKILL)
        promote.wait(timeout=30)
        assert sentinel("unlock", APP, "--yes").returncode == 0
        again = sentinel("canary", "promote", APP, "--yes")
        if again.returncode != 0:
            advice = f"nothing to promote: production already runs {platform.image(f'sentinel-test/todo:{other}')}"
            assert advice in again.error and f"sentinel canary rollback {APP}" in again.error, again.error
            update = platform.manager.client.services.get(f"{APP}-prod").attrs.get("UpdateStatus", {})
            assert update.get("State") == "completed", f"refused while production still rolled: {update}"
            print("\nthe roll had ended before the second promote: the canary taken out as its refusal said")
            again = sentinel("canary", "rollback", APP, "--yes")
        assert again.returncode == 0, again.error
    print(f"\nfault table: {load.summary('promote killed (SIGKILL) mid-roll, unlock, promote again')}")
    assert not load.failures, f"failed requests around the killed promote: {load.failures}"
    assert lock.versions(20) == {other: 20}
    assert f"{APP}-canary" not in services(platform)
    assert lease_labels(platform) is None


@pytest.mark.parametrize("command", ["canary deploy", "canary traffic", "canary rollback"])
def test_a_killed_canary_command_keeps_serving_and_running_it_again_finishes(platform, sentinel, lock, command):
    """SIGKILL two seconds into the run, wherever that is; after unlock the same command finishes it (or,
    when the killed run had done its work, says there is nothing left to do), and no request fails."""
    production = lock.version()
    other = "1" if production == "2" else "2"
    args = ["canary", "deploy", APP, "--image", platform.image(f"sentinel-test/todo:{other}"), "--weight", "50"]
    if command != "canary deploy":  # the others act on a running canary
        assert sentinel(*args).returncode == 0
        args = {
            "canary traffic": ["canary", "traffic", APP, "--weight", "30"],
            "canary rollback": ["canary", "rollback", APP, "--yes"],
        }[command]
    with Load(lock, max_seconds=240) as load:
        killed = sentinel.start(*args)
        wait_for_lease(platform)
        time.sleep(2)
        os.killpg(killed.pid, signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL, "the command ended before the kill: nothing was cut short"
        assert sentinel("unlock", APP, "--yes").returncode == 0
        again = sentinel(*args)
        assert again.returncode == 0 or "has no canary to roll back" in again.error, again.error
    print(f"\nfault table: {load.summary(f'{command} killed (SIGKILL), unlock, {command} again')}")
    assert not load.failures, f"failed requests around the killed {command}: {load.failures}"
    expected = {production} if command == "canary rollback" else {production, other}
    assert set(lock.versions(40)) == expected
    if command == "canary traffic":
        status = sentinel("canary", "status", APP)
        assert status.returncode == 0 and status.data["weights"] == {"prod": 70, "canary": 30}, status.stdout
    if command != "canary rollback":
        assert sentinel("canary", "rollback", APP, "--yes").returncode == 0
    assert f"{APP}-canary" not in services(platform) and lease_labels(platform) is None


def test_a_lease_whose_holder_is_gone_ends_by_itself(platform, sentinel, ansible, lock):
    took = time.monotonic()
    taken = ansible.module(
        "sentinel.paas.swarm_lease",
        {"name": APP, "token": "ghost", "owner": "ghost@nowhere", "operation": "deploy", "seconds": 15},
    )
    assert not taken.failed, taken.msg
    before = services(platform)
    refused = sentinel("scale", APP, "1")
    assert refused.returncode == 1 and "is busy: deploy by ghost@nowhere" in refused.error, refused.error
    assert services(platform) == before
    time.sleep(max(0.0, 16 - (time.monotonic() - took)))
    run = sentinel("scale", APP, "1")
    assert run.returncode == 0, run.error
    assert lease_labels(platform) is None


def test_a_destroy_cut_short_after_the_services_is_finished_by_running_it_again(platform, sentinel):
    """A destroy killed once the services were gone left the network and the split: the same command
    removes the rest, and only then is the app unknown."""
    client = platform.manager.client
    app = "halfgone"
    run = sentinel(
        "deploy", app, "--image", platform.image("sentinel-test/todo:1"), "--domain", f"{app}.test", "--no-tls"
    )
    assert run.returncode == 0, run.error
    run = sentinel("canary", "deploy", app, "--image", platform.image("sentinel-test/todo:2"), "--weight", "0")
    assert run.returncode == 0, run.error
    for service in client.services.list(filters={"label": f"sentinel.app={app}"}):
        service.remove()  # where a killed destroy stopped: services gone, network and split still there

    def leftovers():
        networks = [n.name for n in client.networks.list(names=[f"sentinel-{app}"])]
        splits = [c.name for c in client.configs.list(filters={"label": f"sentinel.traefik.file={app}-split.yml"})]
        return networks + splits

    assert leftovers()
    run = sentinel("destroy", app, "--yes")
    assert run.returncode == 0, run.error
    assert leftovers() == []
    again = sentinel("destroy", app, "--yes")
    assert again.returncode == 1 and f"app {app} not found" in again.error, again.error

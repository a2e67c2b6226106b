"""canary_weights on the real test Swarm, then the split proven through the real Traefik.

The module keeps the document in the Swarm (a Docker config); sentinel-traefik-sync writes it into
Traefik's directory on the manager, and Traefik (the directory bind-mounted read-only) watches it.
The requests below go to Traefik's host-mode port on node1 and count which version (X-App-Version)
answered.
"""

from __future__ import annotations

import collections
import io
import os
import secrets
import tarfile
import time

import docker
import docker.errors
import docker.types
import pytest
import requests
import yaml

from tests.harness.cluster import Cluster

pytestmark = pytest.mark.cluster

MODULE = "sentinel.paas.canary_weights"
WAIT = "sentinel.paas.traefik_wait"
DYNAMIC_DIR = "/etc/sentinel/traefik/dynamic"  # _naming.TRAEFIK_DYNAMIC_DIR
EDGE = "sentinel-edge"
SPLIT_REQUESTS = 200


@pytest.fixture(scope="module")
def app() -> str:
    """A name of our own, so nothing else on the session's cluster collides with it."""
    return f"demo{secrets.token_hex(2)}"


@pytest.fixture(scope="module")
def manager_node(cluster: Cluster):
    """The manager's node container on the host engine (to look at its files)."""
    return docker.from_env().containers.get(cluster.manager.container)


def read_node_file(node, path: str) -> str | None:
    try:
        stream, _ = node.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        members = tar.getmembers()  # none when the sync removed the file while the engine read it
        return tar.extractfile(members[0]).read().decode() if members else None


def node_file_when(node, path: str, condition, timeout: float = 15):
    """The node's file once ``condition(text or None)`` holds: sentinel-traefik-sync writes within a second."""
    deadline = time.monotonic() + timeout
    while True:
        text = read_node_file(node, path)
        if condition(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def kept_versions(cluster: Cluster, app: str) -> list[str]:
    """Names of the configs holding the app's split in the Swarm."""
    configs = cluster.manager.client.configs.list(filters={"label": f"sentinel.traefik.file={app}-split.yml"})
    return sorted(c.name for c in configs)


def test_four_steps_with_diff_and_the_file_on_the_manager(ansible, platform, manager_node, app):
    path = f"{DYNAMIC_DIR}/{app}-split.yml"
    args = {"name": app, "weight": 10}

    check = ansible.module(MODULE, args, check=True, diff=True)
    assert not check.failed, check.msg
    assert check.changed and check["changes"] == ["file"]
    assert check["diff"]["before"] == "" and "weight: 10" in check["diff"]["after"]
    assert kept_versions(platform, app) == [], "check mode must not write"

    applied = ansible.module(MODULE, args, diff=True)
    assert applied.changed and applied["weights"] == {"prod": 90, "canary": 10}
    assert kept_versions(platform, app) == [applied["config"]] == [f"sentinel-traefik-{app}-split-1"]
    # sentinel-traefik-sync writes the kept document into Traefik's directory on the manager.
    text = node_file_when(manager_node, path, lambda t: t is not None)
    assert text == applied["diff"]["after"]
    assert text.startswith("# Managed by sentinel.paas.canary_weights")
    weighted = yaml.safe_load(text)["http"]["services"][f"{app}-split"]["weighted"]
    assert weighted["services"] == [
        {"name": f"{app}-prod@swarm", "weight": 90},
        {"name": f"{app}-canary-guard", "weight": 10},
    ]
    mode = manager_node.exec_run(["stat", "-c", "%a", path]).output.decode().strip()
    assert mode == "644"

    for check_mode in (True, False):
        again = ansible.module(MODULE, {"name": app, "weight": "10"}, check=check_mode, diff=True)
        assert not again.changed, again.raw
        assert again["changes"] == []

    info = ansible.module("sentinel.paas.canary_weights_info", {"name": app})
    assert info["exists"] and info["weights"] == {"prod": 90, "canary": 10}
    assert info["cookie_name"] == f"sentinel_{app}"

    for bad in (10.5, True, 101, "abc", -1):
        failed = ansible.module(MODULE, {"name": app, "weight": bad})
        assert failed.failed and f"Error writing traffic split {app}: invalid weight" in failed.msg, failed.raw
    failed = ansible.module(MODULE, {"name": app, "weight": 50, "cookie_name": "a;b"})
    assert failed.failed and "invalid cookie name" in failed.msg
    assert kept_versions(platform, app) == [applied["config"]], "bad input must leave the record as it was"
    assert read_node_file(manager_node, path) == text
    for folder in (DYNAMIC_DIR, os.path.dirname(DYNAMIC_DIR)):  # the sync stages in the parent
        listing = manager_node.exec_run(["ls", "-A", folder]).output.decode().split()
        assert [f for f in listing if f.startswith(f".{app}")] == [], f"temporary file left in {folder}"

    # A file that is not the record's is put right: the directory mirrors the Swarm.
    manager_node.exec_run(["sh", "-c", f"echo 'http: {{}}' > {path}"])
    assert node_file_when(manager_node, path, lambda t: t == text) == text

    gone = ansible.module(MODULE, {"name": app, "state": "absent"}, diff=True)
    assert gone.changed and gone["diff"]["after"] == ""
    assert kept_versions(platform, app) == []
    assert node_file_when(manager_node, path, lambda t: t is None) is None
    assert not ansible.module(MODULE, {"name": app, "state": "absent"}).changed
    assert not ansible.module("sentinel.paas.canary_weights_info", {"name": app})["exists"]


# -- the real Traefik ---------------------------------------------------------------------
def running_tasks(service, count: int | None = None, timeout: float = 120) -> list[str]:
    """IDs of the service's running tasks, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        ids = sorted(t["ID"] for t in service.tasks() if t["Status"]["State"] == "running")
        if count is None or len(ids) == count:
            return ids
        if time.monotonic() > deadline:
            states = [(t["Status"]["State"], t["Status"].get("Err")) for t in service.tasks()]
            raise AssertionError(f"{service.name}: wanted {count} running tasks, have {states}")
        time.sleep(0.5)


class Edge:
    """The platform's Traefik on node1 and the app's two services, as the platform wires them."""

    def __init__(self, cluster: Cluster, app: str):
        self.url = f"http://{cluster.manager.ip}:80/"
        self.host = f"{app}.sentinel.test"
        self.cookie = f"sentinel_{app}"
        self.services: dict[str, object] = {}
        self.traefik = None

    def version(self, session: requests.Session | None = None) -> str | None:
        """X-App-Version of one answer; a fresh connection without cookies unless ``session``."""
        get = session.get if session else requests.get
        response = get(self.url, headers={"Host": self.host}, timeout=5)
        return response.headers.get("X-App-Version") if response.status_code == 200 else None

    def count(self, n: int) -> collections.Counter:
        return collections.Counter(self.version() for _ in range(n))

    def wait_for(self, what: str, condition, timeout: float = 60, window: int = 10) -> float:
        """Seconds until the last ``window`` answers (fresh clients) satisfy ``condition``."""
        started = time.monotonic()
        recent: collections.deque = collections.deque(maxlen=window)
        while time.monotonic() - started < timeout:
            try:
                recent.append(self.version())
            except requests.RequestException:
                recent.append(None)
                time.sleep(0.2)
            if len(recent) == window and condition(collections.Counter(recent)):
                return time.monotonic() - started
        raise AssertionError(f"{what} not served after {timeout:.0f} s; last answers {list(recent)}")

    def task_ids(self) -> dict[str, list[str]]:
        """Running task IDs of Traefik and the app's services: equal before and after = nothing restarted."""
        ids = {name: running_tasks(service) for name, service in self.services.items()}
        ids["traefik"] = running_tasks(self.traefik)
        return ids


@pytest.fixture(scope="module")
def edge(platform: Cluster, app):
    """Stand-in prod (v1) and canary (v2) services behind the platform's real Traefik."""
    cluster = platform
    client = cluster.manager.client
    setup = Edge(cluster, app)
    traefik = client.services.get("sentinel-traefik")
    try:
        for role, image, replicas in (("prod", "sentinel-test/todo:1", 2), ("canary", "sentinel-test/todo:2", 1)):
            name = f"{app}-{role}"
            labels = {
                "traefik.enable": "true",
                "traefik.swarm.network": EDGE,
                f"traefik.http.services.{name}.loadbalancer.server.port": "8000",
            }
            if role == "prod":
                labels |= {
                    f"traefik.http.routers.{app}.rule": f"Host(`{setup.host}`)",
                    f"traefik.http.routers.{app}.entrypoints": "web",
                    f"traefik.http.routers.{app}.service": f"{app}-split@file",
                }
            setup.services[role] = client.services.create(
                cluster.image(image),
                name=name,
                networks=[EDGE],
                mode=docker.types.ServiceMode("replicated", replicas=replicas),
                endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),  # no IPVS here; Traefik uses task IPs
                labels=labels,
            )
        for role, count in (("prod", 2), ("canary", 1)):
            running_tasks(setup.services[role], count)
        setup.traefik = traefik
        yield setup
    finally:
        logs = b"".join(traefik.logs(stdout=True, stderr=True, tail=30)).decode(errors="replace")
        print(f"--- last Traefik log lines ---\n{logs}")
        for service in setup.services.values():
            service.remove()


def wait_served(ansible, app, **what):
    result = ansible.module(WAIT, {"name": app, **what})
    assert not result.failed, result.msg
    return result


def test_traefik_splits_traffic_sticks_clients_and_follows_new_weights(ansible, manager_node, edge, app):
    path = f"{DYNAMIC_DIR}/{app}-split.yml"
    assert ansible.module(MODULE, {"name": app, "weight": 10}).changed
    # traefik_wait returns once this Traefik serves the router and the split as written: from then on
    # every request sees them, with no further wait.
    served = wait_served(ansible, app, route="split", split=True)
    assert served["route"] == "split", served.raw
    assert served["split"] == {f"{app}-prod@swarm": 90, f"{app}-canary-guard": 10}, served.raw

    # Fresh clients without cookies: Traefik's weighted round robin gives 90/10.
    counts = edge.count(SPLIT_REQUESTS)
    print(f"split at weight 10, {SPLIT_REQUESTS} fresh clients: {dict(counts)}")
    assert set(counts) == {"1", "2"}, counts
    assert abs(counts["2"] - SPLIT_REQUESTS * 0.10) <= SPLIT_REQUESTS * 0.02, counts

    # A client keeps its cookie and stays on the version it landed on, whichever it is.
    sessions = {}
    for wanted in ("2", "1"):
        for _ in range(50):
            session = requests.Session()
            if edge.version(session) == wanted:
                sessions[wanted] = session
                break
        else:
            pytest.fail(f"no fresh client landed on version {wanted} in 50 tries")
        assert edge.cookie in session.cookies, dict(session.cookies)
        stuck = collections.Counter(edge.version(session) for _ in range(100))
        print(f"sticky client on v{wanted}: {dict(stuck)}")
        assert stuck == {wanted: 100}

    # New weights are served without restarting anything.
    tasks_before = edge.task_ids()
    assert ansible.module(MODULE, {"name": app, "weight": 50}).changed
    served = wait_served(ansible, app, split=True)
    print(f"weight 10 -> 50 served {served['seconds']:.2f} s after the module returned")
    assert served["seconds"] <= 3, f"new weights took {served['seconds']:.2f} s to reach Traefik"
    counts = edge.count(SPLIT_REQUESTS)
    print(f"split at weight 50, {SPLIT_REQUESTS} fresh clients: {dict(counts)}")
    assert abs(counts["2"] - SPLIT_REQUESTS * 0.50) <= SPLIT_REQUESTS * 0.02, counts

    # Weight 0 (first step of a rollback): everybody on production, even the canary's cookie holder.
    assert ansible.module(MODULE, {"name": app, "weight": 0}).changed
    wait_served(ansible, app, split=True)
    counts = edge.count(50)
    assert counts == {"1": 50}, counts
    assert collections.Counter(edge.version(sessions["2"]) for _ in range(20)) == {"1": 20}
    assert edge.task_ids() == tasks_before, "Traefik or app tasks were restarted"

    # Absent: the file is gone on the node and Traefik drops the split (the router has no service).
    assert ansible.module(MODULE, {"name": app, "state": "absent"}).changed
    served = wait_served(ansible, app, split=True)
    assert served["split"] is None and served["route"] is None, "a router to a missing service serves nothing"
    assert read_node_file(manager_node, path) is None
    assert edge.count(5) == {None: 5}
    # What Traefik does not come to serve fails the wait, saying what it serves instead.
    late = ansible.module(WAIT, {"name": app, "route": "prod", "wait_timeout": 1})
    assert late.failed and "its router sends to nothing, not prod" in late.msg, late.raw
    checked = ansible.module(WAIT, {"name": app, "route": "prod"}, check=True)
    assert not checked.failed and checked["route"] is None, "check mode reads once, waits for nothing"

    # The canary's service is the split's own (its DNS name), guarded by production: with the
    # canary service gone altogether, the split still answers, from production, at any weight.
    assert ansible.module(MODULE, {"name": app, "weight": 50}).changed
    edge.wait_for("weight 50 again", lambda c: set(c) == {"1", "2"}, timeout=20, window=20)
    edge.services.pop("canary").remove()
    seconds = edge.wait_for("the split without its canary", lambda c: c == {"1": 20}, timeout=30, window=20)
    print(f"weight 50 with the canary service removed: production answers all after {seconds:.1f} s")
    assert edge.count(100) == {"1": 100}

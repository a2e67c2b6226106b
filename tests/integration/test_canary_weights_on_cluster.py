"""canary_weights on the real manager node, then the split proven through the real Traefik.

The module writes a file on the host it runs on; Traefik (a Swarm service on that host, the
directory bind-mounted read-only) watches it. The requests below go to Traefik's host-mode
port on node1 and count which version (X-App-Version) answered.
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
        return tar.extractfile(tar.getmembers()[0]).read().decode()


@pytest.fixture(scope="module")
def dynamic_dir(manager_node, app):
    """Traefik's file-provider directory on the manager.

    The control_plane role creates it on real hosts; the module refuses to create it (a file
    in a directory Traefik does not watch would do nothing), so the test stands in for the role.
    """
    created = manager_node.exec_run(["test", "-d", DYNAMIC_DIR]).exit_code != 0
    if created:
        assert manager_node.exec_run(["mkdir", "-p", DYNAMIC_DIR]).exit_code == 0
    yield DYNAMIC_DIR
    manager_node.exec_run(["rm", "-f", f"{DYNAMIC_DIR}/{app}-split.yml"])
    if created:
        manager_node.exec_run(["rmdir", "-p", "--ignore-fail-on-non-empty", DYNAMIC_DIR])


def test_four_steps_with_diff_on_the_manager(ansible, manager_node, dynamic_dir, app):
    path = f"{dynamic_dir}/{app}-split.yml"
    args = {"name": app, "weight": 10}

    check = ansible.module(MODULE, args, check=True, diff=True)
    assert not check.failed, check.msg
    assert check.changed and check["changes"] == ["file"]
    assert check["diff"]["before"] == "" and "weight: 10" in check["diff"]["after"]
    assert read_node_file(manager_node, path) is None, "check mode must not write"

    applied = ansible.module(MODULE, args, diff=True)
    assert applied.changed and applied["weights"] == {"prod": 90, "canary": 10}
    assert applied["path"] == path
    text = read_node_file(manager_node, path)
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
    assert read_node_file(manager_node, path) == text, "bad input must leave the file as it was"
    for folder in (dynamic_dir, os.path.dirname(dynamic_dir)):  # the module stages in the parent
        listing = manager_node.exec_run(["ls", "-A", folder]).output.decode().split()
        assert [f for f in listing if f.startswith(f".{app}")] == [], f"temporary file left in {folder}"

    gone = ansible.module(MODULE, {"name": app, "state": "absent"}, diff=True)
    assert gone.changed and gone["diff"]["after"] == ""
    assert read_node_file(manager_node, path) is None
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
def edge(platform: Cluster, dynamic_dir, app):
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


def test_traefik_splits_traffic_sticks_clients_and_follows_new_weights(ansible, manager_node, edge, app):
    path = f"{DYNAMIC_DIR}/{app}-split.yml"
    assert ansible.module(MODULE, {"name": app, "weight": 10}).changed
    edge.wait_for("the 90/10 split", lambda c: c["1"] + c["2"] == 10 and c["2"] >= 1, window=10)

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
    returned = time.time()
    seconds = edge.wait_for("the 50/50 split", lambda c: c["2"] >= 4 and c["1"] >= 4, timeout=20)
    written = float(manager_node.exec_run(["python3", "-c", f"import os; print(os.stat('{path}').st_mtime)"]).output)
    since_write = returned + seconds - written
    print(f"weight 10 -> 50 served {seconds:.2f} s after the module returned ({since_write:.2f} s after the write)")
    assert seconds <= 3, f"new weights took {seconds:.2f} s to reach Traefik"
    counts = edge.count(SPLIT_REQUESTS)
    print(f"split at weight 50, {SPLIT_REQUESTS} fresh clients: {dict(counts)}")
    assert abs(counts["2"] - SPLIT_REQUESTS * 0.50) <= SPLIT_REQUESTS * 0.02, counts

    # Weight 0 (first step of a rollback): everybody on production, even the canary's cookie holder.
    assert ansible.module(MODULE, {"name": app, "weight": 0}).changed
    seconds = edge.wait_for("weight 0", lambda c: c == {"1": 20}, timeout=20, window=20)
    print(f"weight 50 -> 0 served after {seconds:.2f} s")
    counts = edge.count(50)
    assert counts == {"1": 50}, counts
    assert collections.Counter(edge.version(sessions["2"]) for _ in range(20)) == {"1": 20}
    assert edge.task_ids() == tasks_before, "Traefik or app tasks were restarted"

    # Absent: the file is gone on the node and Traefik drops the split (the router has no service).
    assert ansible.module(MODULE, {"name": app, "state": "absent"}).changed
    assert read_node_file(manager_node, path) is None
    edge.wait_for("the removed split", lambda c: c == {None: 5}, timeout=20, window=5)

    # The canary's service is the split's own (its DNS name), guarded by production: with the
    # canary service gone altogether, the split still answers, from production, at any weight.
    assert ansible.module(MODULE, {"name": app, "weight": 50}).changed
    edge.wait_for("weight 50 again", lambda c: set(c) == {"1", "2"}, timeout=20, window=20)
    edge.services.pop("canary").remove()
    seconds = edge.wait_for("the split without its canary", lambda c: c == {"1": 20}, timeout=30, window=20)
    print(f"weight 50 with the canary service removed: production answers all after {seconds:.1f} s")
    assert edge.count(100) == {"1": 100}

"""A real multi-node Docker Swarm on one machine: Docker-in-Docker node containers.

Each node is a container running its own dockerd (``sentinel-test/node``) on a bridge
network private to the run, with a registry beside them so every node pulls the same image
by digest, as on a real cluster. Everything a run creates carries the label
``sentinel.test-run=<run id>`` and names starting ``sentinel-test-<run id>-``, so runs never
collide and leftovers of dead runs can be swept.

The registry is the machine's one exception: a single kept container that joins every run's
network, so each test image is pushed once per build, not once per cluster (a push compresses
every layer, minutes of a busy machine's CPU).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import partial

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.volumes import Volume

from .wait import eventually

RUN_LABEL = "sentinel.test-run"
PID_LABEL = "sentinel.test-pid"  # the creating process; "keep" for a cluster made by hand
REGISTRY_ALIAS = "registry:5000"  # how nodes name the registry (node/daemon.json trusts it)
REGISTRY = "sentinel-test-registry"  # the kept registry container, and its volume
# Held while the registry is started or filled: pytest-xdist workers build their clusters at once.
REGISTRY_LOCK = "/tmp/sentinel-test-registry.lock"
# Ansible reaches nodes with `docker exec` through the host engine; the plain `docker` connection is
# the one Mitogen (tests/harness/ansible.py) can carry.
CONNECTION = "docker"

# --privileged fails on these machines (no CAP_SYS_RESOURCE); this explicit list works.
NODE_CAPABILITIES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD "
    "LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM "
    "BLOCK_SUSPEND AUDIT_READ"
).split()

# Images the cluster serves from its registry, by their name on the host engine.
PUSHED_IMAGES = (
    "sentinel-test/traefik:latest",
    "sentinel-test/prometheus:latest",
    "sentinel-test/alertmanager:latest",
    "sentinel-test/node-exporter:latest",
    "sentinel-test/postgres:latest",
    "sentinel-test/todo:1",
    "sentinel-test/todo:2",
    "sentinel-test/base:latest",
    "sentinel-test/docker-proxy:latest",
    # The cluster registry of images built from source (roles/registry); its proxy runs the docker-proxy image.
    "sentinel-test/registry:latest",
)

# More names for some images in the registry. The PostgreSQL image is Debian's PostgreSQL 15: named
# by its major version, as the official images are, so deploys can be told a major upgrade apart.
REGISTRY_ALIASES = {"sentinel-test/postgres:latest": ("sentinel-test/postgres:15",)}


_wait = partial(eventually, timeout=90, interval=0.5)


@dataclass
class Node:
    name: str  # inventory name: node1, node2, ...
    container: str  # container name on the host engine
    ip: str  # address on the run's bridge network
    role: str  # manager | worker | none (not in the Swarm)

    @property
    def client(self) -> docker.DockerClient:
        """Docker SDK client for this node's own engine."""
        return docker.DockerClient(base_url=f"tcp://{self.ip}:2375", timeout=120)


@dataclass
class Cluster:
    run_id: str
    network: str
    registry_port: int
    nodes: list[Node] = field(default_factory=list)

    @property
    def managers(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "manager"]

    @property
    def manager(self) -> Node:
        return self.managers[0]

    def image(self, host_ref: str) -> str:
        """The name nodes pull a test image by, e.g. sentinel-test/todo:1 -> registry:5000/..."""
        return f"{REGISTRY_ALIAS}/{host_ref}"

    def inventory(self) -> dict:
        """An Ansible inventory reaching every node through the host engine (docker exec)."""

        def hosts(role: str) -> dict:
            return {n.name: {"ansible_host": n.container} for n in self.nodes if n.role == role}

        return {
            "all": {
                "vars": {
                    "ansible_connection": CONNECTION,
                    "ansible_python_interpreter": "/usr/bin/python3",
                },
                "children": {
                    "managers": {"hosts": hosts("manager")},
                    "workers": {"hosts": hosts("worker")},
                    "new": {"hosts": hosts("none")},
                },
            }
        }


class ClusterFactory:
    """Creates and destroys test clusters on the host engine."""

    def __init__(self, client: docker.DockerClient | None = None, log=print):
        self.host = client or docker.from_env(timeout=600)
        self.log = log

    # -- life cycle -------------------------------------------------------------------
    def create(self, managers: int = 1, workers: int = 2, spare: int = 0, keep: bool = False) -> Cluster:
        """Nodes with engines; the first ``managers + workers`` form a Swarm, ``spare`` stay out.

        A cluster is swept by a later run once its creating process is gone, unless ``keep``.
        """
        self.sweep_dead_runs()
        run_id = secrets.token_hex(3)
        labels = {RUN_LABEL: run_id, PID_LABEL: "keep" if keep else str(os.getpid())}
        network = self.host.networks.create(f"sentinel-test-{run_id}", driver="bridge", labels=labels)
        cluster = Cluster(run_id, network.name, registry_port=self._registry_port())
        # A network alias lets every node reach it as registry:5000.
        network.connect(REGISTRY, aliases=["registry"])
        roles = ["manager"] * managers + ["worker"] * workers + ["none"] * spare
        for index, role in enumerate(roles, start=1):
            cluster.nodes.append(self.add_node(cluster, f"node{index}", role, labels))
        for node in cluster.nodes:
            _wait(f"engine on {node.name}", lambda n=node: n.client.ping())
        if managers + workers:  # managers=0, workers=0: bare engines only, for tests of swarm init/join
            self._form_swarm(cluster)
        return cluster

    def add_node(self, cluster: Cluster, name: str, role: str, labels: dict | None = None) -> Node:
        labels = labels or {RUN_LABEL: cluster.run_id, PID_LABEL: str(os.getpid())}
        container_name = f"sentinel-test-{cluster.run_id}-{name}"
        volume = self.host.volumes.create(f"{container_name}-docker", labels=labels)
        container = self.host.containers.run(
            "sentinel-test/node:latest",
            # TCP without TLS is tolerable only because this bridge network is private to the run.
            command=["dockerd", "-H", "unix:///var/run/docker.sock", "-H", "tcp://0.0.0.0:2375", "--tls=false"],
            name=container_name,
            hostname=name,
            detach=True,
            cap_add=NODE_CAPABILITIES,
            security_opt=["seccomp=unconfined", "apparmor=unconfined"],
            tmpfs={"/run": ""},
            volumes={
                "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                volume.name: {"bind": "/var/lib/docker", "mode": "rw"},
            },
            network=cluster.network,
            labels={**labels, "sentinel.test-node": name},
        )
        container.reload()
        ip = container.attrs["NetworkSettings"]["Networks"][cluster.network]["IPAddress"]
        return Node(name, container_name, ip, role)

    def destroy(self, cluster: Cluster) -> None:
        self._remove_run(cluster.run_id)

    def load(self, run_id: str) -> Cluster:
        """A cluster that already runs (made with keep=True by another process)."""
        selector = {"label": f"{RUN_LABEL}={run_id}"}
        cluster = Cluster(run_id, f"sentinel-test-{run_id}", _host_port(self.host.containers.get(REGISTRY)))
        for container in sorted(self.host.containers.list(filters=selector), key=lambda c: c.name):
            ip = container.attrs["NetworkSettings"]["Networks"][cluster.network]["IPAddress"]
            node = Node(container.labels["sentinel.test-node"], container.name, ip, "none")
            info = node.client.info()["Swarm"]
            if info["LocalNodeState"] == "active":
                node.role = "manager" if info["ControlAvailable"] else "worker"
            cluster.nodes.append(node)
        return cluster

    def sweep_dead_runs(self) -> None:
        """Remove what earlier runs left behind when the process that made them is gone."""
        runs = {}
        for container in self.host.containers.list(all=True, filters={"label": RUN_LABEL}):
            runs[container.labels[RUN_LABEL]] = container.labels.get(PID_LABEL, "")
        for network in self.host.networks.list(filters={"label": RUN_LABEL}):
            runs.setdefault(network.attrs["Labels"][RUN_LABEL], network.attrs["Labels"].get(PID_LABEL, ""))
        for run_id, pid in runs.items():
            if pid != "keep" and not (pid.isdigit() and os.path.exists(f"/proc/{pid}")):
                self.log(f"cluster: sweeping leftovers of dead run {run_id}")
                self._remove_run(run_id)

    def _remove_run(self, run_id: str) -> None:
        selector = {"label": f"{RUN_LABEL}={run_id}"}
        for thing in (
            *self.host.containers.list(all=True, filters=selector),
            *self.host.volumes.list(filters=selector),
        ):
            _remove(thing)
        for network in self.host.networks.list(filters=selector):
            _disconnect(network, REGISTRY)
            _remove(network)

    # -- pieces -----------------------------------------------------------------------
    def _registry_port(self) -> int:
        """The kept registry's host port, once it runs and holds every test image's current build."""
        with open(REGISTRY_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            port = _host_port(self._running_registry())
            _wait("registry", lambda: _http_ok(f"http://127.0.0.1:{port}/v2/"))
            started = time.monotonic()
            pushed = sum(
                self._push(port, ref, name) for ref in PUSHED_IMAGES for name in (ref, *REGISTRY_ALIASES.get(ref, ()))
            )
            self.log(f"cluster: {pushed} images pushed to the registry in {time.monotonic() - started:.1f} s")
            return port

    def _running_registry(self) -> Container:
        try:
            container = self.host.containers.get(REGISTRY)
        except docker.errors.NotFound:
            container = self.host.containers.create(
                "sentinel-test/registry:latest",
                name=REGISTRY,
                ports={"5000/tcp": ("127.0.0.1", None)},
                volumes={REGISTRY: {"bind": "/var/lib/docker-registry", "mode": "rw"}},
                restart_policy={"Name": "unless-stopped"},
            )
        if container.status != "running":
            container.start()
        container.reload()
        return container

    def push(self, cluster: Cluster, ref: str, name: str) -> None:
        """Push the host's image ``ref`` to the cluster's registry as ``name`` (a tag may be pushed again:
        it then names the new build, as a rebuilt tag does in a real registry)."""
        self._push(cluster.registry_port, ref, name)

    def _push(self, port: int, ref: str, name: str) -> bool:
        """Push unless the registry serves this very build as ``name`` already; True if pushed."""
        image = self.host.images.get(ref)
        if _registry_image_id(port, name) == image.id:
            return False
        local = f"127.0.0.1:{port}/{name}"
        repo, tag = local.rsplit(":", 1)
        image.tag(repo, tag)
        try:
            for chunk in self.host.api.push(repo, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise RuntimeError(f"push of {ref} failed: {chunk['error']}")
        finally:
            self.host.images.remove(local, noprune=True)
        return True

    def _form_swarm(self, cluster: Cluster) -> None:
        members = [n for n in cluster.nodes if n.role != "none"]
        first = members[0]
        first.client.swarm.init(advertise_addr=first.ip, listen_addr=f"{first.ip}:2377")
        tokens = first.client.swarm.attrs["JoinTokens"]
        for node in members[1:]:
            node.client.swarm.join(
                remote_addrs=[f"{first.ip}:2377"],
                join_token=tokens["Manager" if node.role == "manager" else "Worker"],
                advertise_addr=node.ip,
                listen_addr=f"{node.ip}:2377",
            )

        def all_ready() -> bool:
            nodes = first.client.nodes.list()
            return len(nodes) == len(members) and all(n.attrs["Status"]["State"] == "ready" for n in nodes)

        _wait("all nodes Ready", all_ready, timeout=60)


def _remove(thing) -> None:
    """Remove a container, volume or network; another pytest worker sweeping the same dead run may
    have removed it (or be removing it) already."""
    try:
        if isinstance(thing, Container):
            thing.remove(force=True, v=True)
        elif isinstance(thing, Volume):
            thing.remove(force=True)
        else:
            thing.remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if "already in progress" not in str(error):
            raise


def _disconnect(network, container: str) -> None:
    # Not connected (or the registry is gone): then nothing of it holds the network.
    with contextlib.suppress(docker.errors.APIError):
        network.disconnect(container, force=True)


def _host_port(registry: Container) -> int:
    """The loopback port the host publishes the registry on (the engine picks it when the container starts)."""
    return int(registry.attrs["NetworkSettings"]["Ports"]["5000/tcp"][0]["HostPort"])


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - test-local URL
        return response.status == 200


def _registry_image_id(port: int, name: str) -> str | None:
    """The image ID (its config's digest) the registry serves as ``name``, or None."""
    repo, tag = name.rsplit(":", 1)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test-local URL
            return json.load(response)["config"]["digest"]
    except (urllib.error.URLError, KeyError, ValueError):
        return None  # not there, or not a manifest of one image: pushed (again)

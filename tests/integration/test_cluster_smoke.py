"""The test cluster is real: three engines in one Swarm, overlay networking across them."""

from __future__ import annotations

import json
import secrets
import time

import docker.types
import pytest

pytestmark = pytest.mark.cluster


def test_three_nodes_are_ready(cluster):
    nodes = cluster.manager.client.nodes.list()
    states = sorted((n.attrs["Spec"]["Role"], n.attrs["Status"]["State"]) for n in nodes)
    assert states == [("manager", "ready"), ("worker", "ready"), ("worker", "ready")]
    # Three distinct engines, not one engine seen three times.
    assert len({n.attrs["Description"]["Hostname"] for n in nodes}) == 3


def _wait_for_running_tasks(service, count: int, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
        if len(running) == count:
            return running
        time.sleep(0.5)
    states = [(t["Status"]["State"], t["Status"].get("Err")) for t in service.tasks()]
    raise AssertionError(f"{service.name}: wanted {count} running tasks, have {states}")


def test_overlay_network_spans_nodes_and_every_task_answers(cluster):
    client = cluster.manager.client
    name = f"smoke-{secrets.token_hex(3)}"
    client.networks.create(name, driver="overlay", attachable=True)
    try:
        # One task per node; each serves its own hostname. dnsrr because this kernel has no
        # IPVS (a service VIP would not balance here).
        service = client.services.create(
            cluster.image("sentinel-test/base:latest"),
            command=[
                "sh",
                "-c",
                "mkdir -p /srv && hostname > /srv/index.html && exec python3 -m http.server -d /srv 8000",
            ],
            name=name,
            networks=[name],
            mode=docker.types.ServiceMode("replicated", replicas=3),
            endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
            maxreplicas=1,
        )
        tasks = _wait_for_running_tasks(service, 3)
        assert len({t["NodeID"] for t in tasks}) == 3, "tasks should sit on three different nodes"

        # From a container on the manager, ask every task (found by Swarm DNS) who it is.
        probe = (
            "import json, socket, urllib.request\n"
            f"ips = sorted({{a[4][0] for a in socket.getaddrinfo('tasks.{name}', 8000)}})\n"
            "print(json.dumps({ip: urllib.request.urlopen(f'http://{ip}:8000/', timeout=5).read().decode().strip()"
            " for ip in ips}))\n"
        )
        answers = {}
        deadline = time.monotonic() + 30
        while len(answers) < 3 and time.monotonic() < deadline:  # DNS lists tasks as they start
            output = client.containers.run(
                cluster.image("sentinel-test/base:latest"), ["python3", "-c", probe], network=name, remove=True
            )
            answers = json.loads(output)
            time.sleep(0.5)
        task_hostnames = {t["Status"]["ContainerStatus"]["ContainerID"][:12] for t in tasks}
        assert set(answers.values()) == task_hostnames
    finally:
        for service in client.services.list(filters={"name": name}):
            service.remove()
        _remove_network_when_free(client, name)


def _remove_network_when_free(client, name: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            client.networks.get(name).remove()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

"""roles/control_plane through playbooks/init.yml on bare engines: Swarm init/join, Traefik, real TLS.

The cluster here starts as three engines outside any Swarm (node1 becomes the manager, node2
and node3 workers), so the role's own init and join are what forms it. Certificates come from
a real ACME server: Pebble (Let's Encrypt's test CA) and pebble-challtestsrv (its DNS) run as
containers beside the nodes; Pebble validates HTTP-01 against Traefik's port 80 on node1.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path

import docker.types
import pytest

from tests.conftest import platform_vars
from tests.harness.ansible import Ansible
from tests.harness.cluster import PID_LABEL, RUN_LABEL
from tests.harness.wait import eventually

pytestmark = pytest.mark.cluster

DOMAIN = "todo.sentinel.test"
PEBBLE_CA_ON_NODE = "/etc/sentinel-test/pebble-ca.pem"  # Pebble's HTTPS certificate, for lego
PEBBLE_CA_IN_TRAEFIK = "/etc/pebble-ca.pem"


_wait = partial(eventually, timeout=60, interval=1)


def _put_files(container, files: dict[str, bytes]) -> None:
    """Write files (absolute paths) into a container, in the given order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", buf.getvalue())


def _explain(run) -> str:
    return f"rc={run.returncode} failures={run.failures} stats={run.output.get('stats')} stderr={run.stderr[-3000:]}"


def _curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "5", *args], capture_output=True, text=True)


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bare_cluster(cluster_factory):
    """Three engines, none in a Swarm yet."""
    created = cluster_factory.create(managers=0, workers=0, spare=3)
    yield created
    cluster_factory.destroy(created)


@pytest.fixture(scope="module")
def pebble(bare_cluster, cluster_factory, tmp_path_factory):
    """Pebble and its DNS on the cluster's network; yields their addresses and Pebble's root CA."""
    host = cluster_factory.host
    # Labelled as the run's own containers, so a sweep of a dead run removes them too.
    labels = {RUN_LABEL: bare_cluster.run_id, PID_LABEL: str(os.getpid())}
    prefix = f"sentinel-test-{bare_cluster.run_id}"
    dns = host.containers.run(
        "sentinel-test/pebble:latest",
        # Only the DNS and the management API: no default answers, so only records we add resolve.
        ["pebble-challtestsrv", "-defaultIPv4", "", "-defaultIPv6", "", "-http01", "", "-https01", ""]
        + ["-tlsalpn01", "", "-dns01", ":8053", "-management", ":8055"],
        name=f"{prefix}-challtestsrv",
        network=bare_cluster.network,
        labels=labels,
        detach=True,
    )
    dns.reload()
    dns_ip = dns.attrs["NetworkSettings"]["Networks"][bare_cluster.network]["IPAddress"]
    server = host.containers.run(
        "sentinel-test/pebble:latest",
        # Pebble's certificate must name its address, known only once it runs: wait for it.
        [
            "sh",
            "-c",
            f"while [ ! -s /pebble/config.json ]; do sleep 0.2; done; "
            f"exec pebble -config /pebble/config.json -dnsserver {dns_ip}:8053",
        ],
        name=f"{prefix}-pebble",
        network=bare_cluster.network,
        labels=labels,
        # No random validation delays and no deliberately rejected nonces: keep the test quick.
        environment={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"},
        detach=True,
    )
    server.reload()
    ip = server.attrs["NetworkSettings"]["Networks"][bare_cluster.network]["IPAddress"]
    workdir = tmp_path_factory.mktemp("pebble")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        + ["-keyout", str(workdir / "key.pem"), "-out", str(workdir / "cert.pem"), "-days", "2"]
        + ["-subj", "/CN=pebble", "-addext", f"subjectAltName=IP:{ip}"],
        check=True,
        capture_output=True,
    )
    config = {
        "pebble": {
            "listenAddress": "0.0.0.0:14000",
            "managementListenAddress": "0.0.0.0:15000",
            "certificate": "/pebble/cert.pem",
            "privateKey": "/pebble/key.pem",
            # Validation goes to the ports Traefik publishes on the nodes.
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    https_cert = (workdir / "cert.pem").read_bytes()
    _put_files(
        server,
        {
            "/pebble/cert.pem": https_cert,
            "/pebble/key.pem": (workdir / "key.pem").read_bytes(),
            "/pebble/config.json": json.dumps(config).encode(),  # last: it starts Pebble
        },
    )
    https_ca = str(workdir / "cert.pem")
    _wait("pebble directory", lambda: _curl("--cacert", https_ca, f"https://{ip}:14000/dir").returncode == 0)
    # Traefik's ACME client must trust Pebble's HTTPS certificate: put it on node1 for a bind mount.
    node1 = host.containers.get(bare_cluster.nodes[0].container)
    _put_files(node1, {PEBBLE_CA_ON_NODE: https_cert})
    yield {"ip": ip, "dns_ip": dns_ip, "https_ca": https_ca, "workdir": workdir}
    for container in (server, dns):
        container.remove(force=True)


@pytest.fixture(scope="module")
def init_vars(bare_cluster, pebble) -> dict:
    return {
        **platform_vars(bare_cluster),
        "control_plane_traefik_acme_ca_server": f"https://{pebble['ip']}:14000/dir",
        "control_plane_traefik_env": {"LEGO_CA_CERTIFICATES": PEBBLE_CA_IN_TRAEFIK},
        "control_plane_traefik_extra_mounts": [
            {"source": PEBBLE_CA_ON_NODE, "target": PEBBLE_CA_IN_TRAEFIK, "type": "bind", "readonly": True}
        ],
    }


@pytest.fixture(scope="module")
def ansible_bare(bare_cluster) -> Ansible:
    """node1 a manager, node2 and node3 workers, by inventory only: the role does the rest."""
    inventory = bare_cluster.inventory()
    groups = inventory["all"]["children"]
    spare = groups.pop("new")["hosts"]
    groups["managers"]["hosts"] = {"node1": spare["node1"]}
    groups["workers"]["hosts"] = {name: spare[name] for name in ("node2", "node3")}
    # Plain Ansible: init's first run installs Debian's python3-apt, which a Mitogen context that
    # has already looked for the module does not import (CI30).
    return Ansible(inventory, mitogen=False)


@pytest.fixture(scope="module")
def initialised(bare_cluster, cluster_factory, ansible_bare, init_vars):
    """The first, real run of init.yml; the cluster object learns the roles it made.

    node3's Python lacks the Docker SDK first, as where Docker CE was installed by hand: init installs it.
    """
    node3 = cluster_factory.host.containers.get(bare_cluster.nodes[2].container)
    removed = node3.exec_run(["dpkg", "--remove", "--force-depends", "python3-docker"])
    assert removed.exit_code == 0, removed.output
    assert node3.exec_run(["python3", "-c", "import docker"]).exit_code != 0
    started = time.monotonic()
    run = ansible_bare.playbook("init.yml", init_vars)
    print(f"init.yml first run: {time.monotonic() - started:.1f} s")
    assert run.ok, _explain(run)
    for node in bare_cluster.nodes:
        node.role = "manager" if node.name == "node1" else "worker"
    return run


PROXY_DIR = "/var/lib/sentinel/docker-proxy"  # sentinel-docker-proxy's socket, the only one Traefik has


def _traefik(cluster):
    return cluster.manager.client.services.get("sentinel-traefik")


# -- Swarm ------------------------------------------------------------------------------
def test_check_mode_on_bare_engines_fails_nothing_and_changes_nothing(bare_cluster, ansible_bare, init_vars):
    run = ansible_bare.playbook("init.yml", init_vars, check=True)
    assert run.ok, _explain(run)
    assert bare_cluster.nodes[0].client.info()["Swarm"]["LocalNodeState"] == "inactive"


def test_init_forms_the_swarm_from_the_inventory(bare_cluster, initialised):
    nodes = bare_cluster.manager.client.nodes.list()
    seen = sorted(
        (n.attrs["Description"]["Hostname"], n.attrs["Spec"]["Role"], n.attrs["Status"]["State"]) for n in nodes
    )
    assert seen == [("node1", "manager", "ready"), ("node2", "worker", "ready"), ("node3", "worker", "ready")]
    # Nodes advertise their own addresses (the default IPv4 fact), so overlay traffic can flow.
    addrs = {n.attrs["Description"]["Hostname"]: n.attrs["Status"]["Addr"] for n in nodes}
    assert addrs == {n.name: n.ip for n in bare_cluster.nodes}


def test_init_installs_the_python_libraries_a_node_lacks(bare_cluster, cluster_factory, initialised):
    node3 = cluster_factory.host.containers.get(bare_cluster.nodes[2].container)
    imported = node3.exec_run(["python3", "-c", "import docker, requests, yaml; print(docker.__version__)"])
    assert imported.exit_code == 0, imported.output
    installed = "sentinel.paas.control_plane : Install the Python libraries from the distribution"
    assert installed in initialised.changed_tasks


def test_join_tokens_never_reach_the_output(bare_cluster, initialised):
    tokens = bare_cluster.manager.client.swarm.attrs["JoinTokens"]
    text = json.dumps(initialised.output) + initialised.stderr
    assert tokens["Worker"] not in text and tokens["Manager"] not in text


def test_check_mode_on_the_formed_cluster_reports_no_change(ansible_bare, init_vars, initialised):
    run = ansible_bare.playbook("init.yml", init_vars, check=True, diff=True)
    assert run.ok, _explain(run)
    assert run.changed_tasks == []


def test_edge_network_is_an_attachable_overlay(bare_cluster, initialised):
    network = bare_cluster.manager.client.networks.get("sentinel-edge")
    assert network.attrs["Driver"] == "overlay"
    assert network.attrs["Attachable"] is True


# -- Encrypted overlays ----------------------------------------------------------------
# Docker's encrypted overlays: ESP transport SAs, AEAD rfc4106(gcm(aes)), as tasks/encryption.yml of the
# control_plane role tries them: on documentation addresses, and taken away at once.
_XFRM_PROBE = (
    "ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x5e171e2 reqid 0x5e171e2 mode transport "
    f"aead 'rfc4106(gcm(aes))' 0x{'00' * 20} 64 "
    "&& ip xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x5e171e2"
)


def _kernel_cannot_encrypt(cluster) -> str:
    """Why this kernel cannot encrypt overlay traffic ('' when it can). One kernel serves every test node."""
    probe = ["docker", "exec", cluster.nodes[0].container, "sh", "-c", _XFRM_PROBE]
    result = subprocess.run(probe, capture_output=True, text=True, check=False)  # noqa: S603 - test node
    return "" if result.returncode == 0 else (result.stderr + result.stdout).strip()


def _platform_state(cluster) -> dict:
    client = cluster.manager.client
    return {
        "services": {s.name: s.attrs["Version"]["Index"] for s in client.services.list()},
        "networks": {n.name: n.attrs["Options"] for n in client.networks.list(filters={"driver": "overlay"})},
    }


def test_encrypted_networks_are_refused_on_a_kernel_without_ipsec(bare_cluster, ansible_bare, init_vars, initialised):
    reason = _kernel_cannot_encrypt(bare_cluster)
    if not reason:
        pytest.skip("this kernel has IPsec AES-GCM: there is no refusal to show")
    before = _platform_state(bare_cluster)
    # As text, as `-e control_plane_encrypted_networks=true` gives it.
    run = ansible_bare.playbook("init.yml", {**init_vars, "control_plane_encrypted_networks": "true"})
    assert not run.ok
    assert any(
        "need IPsec ESP with AES-GCM on every node" in failure and "nothing was changed" in failure
        for failure in run.failures
    )
    assert _platform_state(bare_cluster) == before


def test_an_unencrypted_network_is_not_encrypted_in_place(bare_cluster, ansible_bare, init_vars, initialised):
    reason = _kernel_cannot_encrypt(bare_cluster)
    if reason:
        pytest.skip(f"this kernel cannot encrypt overlay traffic ({reason}): checked and refused by the test above")
    before = _platform_state(bare_cluster)
    run = ansible_bare.playbook("init.yml", {**init_vars, "control_plane_encrypted_networks": True})
    assert not run.ok
    assert any("Docker cannot encrypt a network in place" in failure for failure in run.failures)
    assert _platform_state(bare_cluster) == before


# -- Traefik ----------------------------------------------------------------------------
def test_traefik_service_spec(bare_cluster, initialised):
    service = _traefik(bare_cluster)
    spec = service.attrs["Spec"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert "Global" in spec["Mode"]
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    assert spec["Labels"]["sentinel.role"] == "platform"
    ports = {(p["TargetPort"], p["PublishedPort"], p["PublishMode"]) for p in spec["EndpointSpec"]["Ports"]}
    assert ports == {(80, 80, "host"), (443, 443, "host")}
    mounts = {m["Target"]: m for m in container["Mounts"]}
    assert "/var/run/docker.sock" not in mounts, "Traefik reads the Swarm through sentinel-docker-proxy"
    assert mounts[PROXY_DIR]["ReadOnly"] is True
    assert mounts["/etc/sentinel/traefik/dynamic"]["ReadOnly"] is True
    assert mounts["/acme"]["Type"] == "volume"
    args = container["Args"]
    for expected in (
        f"--providers.swarm.endpoint=unix://{PROXY_DIR}/docker.sock",
        "--providers.swarm.exposedByDefault=false",
        "--providers.swarm.network=sentinel-edge",
        "--providers.swarm.refreshSeconds=1",
        "--providers.providersThrottleDuration=500ms",
        "--providers.swarm.defaultRule=Host(`{{ normalize .Name }}.sentinel.invalid`)",
        "--providers.file.directory=/etc/sentinel/traefik/dynamic",
        "--serversTransport.forwardingTimeouts.dialTimeout=2s",
        "--serversTransport.forwardingTimeouts.responseHeaderTimeout=60s",
        "--certificatesresolvers.sentinel.acme.httpChallenge.entryPoint=web",
        "--metrics.prometheus.entrypoint=metrics",
        "--metrics.prometheus.manualrouting=true",
        "--accesslog.format=json",
    ):
        assert expected in args
    networks = {n.id: n.name for n in bare_cluster.manager.client.networks.list()}
    assert sorted(networks[n["Target"]] for n in spec["TaskTemplate"]["Networks"]) == [
        "sentinel-edge",
        "sentinel-monitoring",
    ]
    # The API (for traefik_wait) listens on the container's loopback; the dashboard is off by default.
    assert "--entrypoints.traefik.address=127.0.0.1:8080" in args and "--api.insecure=true" in args
    assert "--api.dashboard=false" in args
    # One task, on the manager only (workers run none).
    running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
    manager_id = bare_cluster.manager.client.info()["Swarm"]["NodeID"]
    assert [t["NodeID"] for t in running] == [manager_id]


def test_traefik_sync_runs_on_every_manager_only(bare_cluster, initialised):
    service = bare_cluster.manager.client.services.get("sentinel-traefik-sync")
    spec = service.attrs["Spec"]
    assert "Global" in spec["Mode"] and spec["Labels"]["sentinel.role"] == "platform"
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    mounts = {m["Target"]: m for m in container["Mounts"]}
    assert mounts["/var/run/docker.sock"]["ReadOnly"] is True
    assert not mounts["/etc/sentinel/traefik"].get("ReadOnly"), "it writes Traefik's files"
    assert [c["File"]["Name"] for c in container["Configs"]] == ["/sentinel/traefik_sync.py"]
    running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
    manager_id = bare_cluster.manager.client.info()["Swarm"]["NodeID"]
    assert [t["NodeID"] for t in running] == [manager_id]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/_ping", 200),
        ("GET", "/v1.41/version", 200),
        ("GET", "/v1.41/services", 200),
        ("GET", "/tasks?filters=%7B%7D", 200),
        ("GET", "/v1.41/networks", 200),
        ("GET", "/v1.41/nodes/node1", 200),
        ("GET", "/v1.41/services/sentinel-traefik", 200),
        ("GET", "/v1.41/services/sentinel-traefik/logs", 403),
        ("GET", "/v1.41/info", 403),
        ("HEAD", "/v1.41/_ping", 200),
        ("GET", "/v1.41/containers/json", 403),
        ("GET", "/v1.41/secrets", 403),
        ("GET", "/v1.41/configs", 403),
        ("GET", "/v1.41/services/../containers/json", 403),
        ("GET", "/v1.41/services/%2e%2e/secrets", 403),
        ("POST", "/v1.41/services/create", 403),
        ("DELETE", "/v1.41/services/sentinel-traefik", 403),
        ("POST", "/v1.41/containers/create", 403),
    ],
)
def test_traefik_reaches_only_the_engines_read_calls_it_needs(bare_cluster, initialised, method, path, status):
    """From inside Traefik's own container, through the only socket it has: the proxy's."""
    traefik = bare_cluster.manager.client.containers.list(
        filters={"label": "com.docker.swarm.service.name=sentinel-traefik"}
    )[0]
    before = sorted(s.name for s in bare_cluster.manager.client.services.list())
    for _ in range(2):  # asked again only when the exec's output came back empty (seen once in CI, with exit 0):
        code, output = traefik.exec_run(  # curl -w always prints a status, so that is the engine losing it
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "--path-as-is",
             "--unix-socket", f"{PROXY_DIR}/docker.sock", f"http://engine{path}"]
        )  # fmt: skip
        if output:
            break
    assert code == 0 and output.decode() == str(status), (code, output)
    assert traefik.exec_run(["test", "-e", "/var/run/docker.sock"])[0] != 0, "no engine socket in Traefik"
    assert sorted(s.name for s in bare_cluster.manager.client.services.list()) == before


def test_docker_proxy_runs_on_every_manager_only(bare_cluster, initialised):
    service = bare_cluster.manager.client.services.get("sentinel-docker-proxy")
    spec = service.attrs["Spec"]
    assert "Global" in spec["Mode"] and spec["Labels"]["sentinel.role"] == "platform"
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
    manager_id = bare_cluster.manager.client.info()["Swarm"]["NodeID"]
    assert [t["NodeID"] for t in running] == [manager_id]


def test_traefik_answers_404_for_an_unknown_host(bare_cluster, initialised):
    ip = bare_cluster.manager.ip
    request = urllib.request.Request(f"http://{ip}/", headers={"Host": "nobody.sentinel.test"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - a test node
    assert caught.value.code == 404


def test_dashboard_and_api_are_not_reachable(bare_cluster, initialised):
    ip = bare_cluster.manager.ip
    for path in ("/dashboard/", "/api/rawdata"):
        assert _curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{ip}{path}").stdout == "404"
    # Traefik's own entrypoint (ping, and the API if enabled) and metrics are not published.
    for port in (8080, 8082):
        assert _curl(f"http://{ip}:{port}/").returncode == 7  # connection refused


def test_traefik_api_answers_inside_its_container_only(bare_cluster, initialised):
    """traefik_wait asks it through docker exec; an app on the edge network finds nothing there."""
    client = bare_cluster.manager.client
    (traefik,) = client.containers.list(filters={"label": "com.docker.swarm.service.name=sentinel-traefik"})
    inside = traefik.exec_run(["curl", "-fsS", "http://127.0.0.1:8080/api/rawdata"])
    assert inside.exit_code == 0 and "routers" in json.loads(inside.output), inside.output[:300]
    from_an_app = client.containers.run(
        bare_cluster.image("sentinel-test/base:latest"),
        ["sh", "-c", "curl -sS --max-time 5 http://tasks.sentinel-traefik:8080/api/rawdata; echo exit=$?"],
        network="sentinel-edge",
        remove=True,
    ).decode()
    assert "exit=7" in from_an_app, from_an_app  # connection refused: it listens on its loopback only


def _from_network(cluster, network: str, url: str) -> str:
    """What a container on ``network`` reads at ``url``: the HTTP status (000: no answer) and the body."""
    return cluster.manager.client.containers.run(
        cluster.image("sentinel-test/base:latest"),
        ["curl", "-sS", "--max-time", "5", "-w", "\nstatus=%{http_code}\n", url],
        network=network,
        remove=True,
    ).decode()


def test_metrics_answer_the_monitoring_network_only(bare_cluster, initialised):
    network = bare_cluster.manager.client.networks.get("sentinel-monitoring")
    assert network.attrs["Driver"] == "overlay" and network.attrs["Labels"] == {"sentinel.role": "platform"}
    # tasks.NAME: the task addresses (no IPVS here, so no service VIP); Traefik is on both networks.
    url = "http://tasks.sentinel-traefik:8082/metrics"
    from_monitoring = _from_network(bare_cluster, "sentinel-monitoring", url)
    assert "status=200" in from_monitoring and "traefik_config_reloads_total" in from_monitoring
    # The same port on the edge network, where the apps are: no router matches an edge address.
    from_an_app = _from_network(bare_cluster, "sentinel-edge", url)
    assert "status=404" in from_an_app and "traefik_" not in from_an_app, from_an_app


# -- TLS from a real ACME server --------------------------------------------------------
@pytest.fixture(scope="module")
def todo_app(bare_cluster, pebble, initialised):
    """A routed todo-prod, labelled as swarm_app and traefik_route would label it."""
    requests_dns = urllib.request.Request(
        f"http://{pebble['dns_ip']}:8055/add-a",
        data=json.dumps({"host": DOMAIN, "addresses": [bare_cluster.manager.ip]}).encode(),
        method="POST",
    )
    urllib.request.urlopen(requests_dns, timeout=5).close()  # noqa: S310 - the test's own DNS
    client = bare_cluster.manager.client
    labels = {
        "sentinel.app": "todo",
        "sentinel.role": "prod",
        "traefik.enable": "true",
        "traefik.swarm.network": "sentinel-edge",
        "traefik.http.services.todo-prod.loadbalancer.server.port": "8000",
        "traefik.http.routers.todo.rule": f"Host(`{DOMAIN}`)",
        "traefik.http.routers.todo.entrypoints": "websecure",
        "traefik.http.routers.todo.tls.certresolver": "sentinel",
        "traefik.http.routers.todo.service": "todo-prod",
        "traefik.http.routers.todo-http.rule": f"Host(`{DOMAIN}`)",
        "traefik.http.routers.todo-http.entrypoints": "web",
        "traefik.http.routers.todo-http.middlewares": "todo-https",
        "traefik.http.routers.todo-http.service": "todo-prod",
        "traefik.http.middlewares.todo-https.redirectscheme.scheme": "https",
        "traefik.http.middlewares.todo-https.redirectscheme.permanent": "true",
    }
    service = client.services.create(
        bare_cluster.image("sentinel-test/todo:1"),
        name="todo-prod",
        networks=["sentinel-edge"],
        labels=labels,
        mode=docker.types.ServiceMode("replicated", replicas=1),
        endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
    )
    yield service
    service.remove()


def test_https_with_a_certificate_from_pebble(bare_cluster, ansible_bare, pebble, todo_app):
    root = Path(pebble["workdir"]) / "root.pem"
    fetched = _curl("--cacert", pebble["https_ca"], f"https://{pebble['ip']}:15000/roots/0")
    assert fetched.returncode == 0, fetched.stderr
    root.write_text(fetched.stdout)
    url = f"https://{DOMAIN}/version"
    resolve = f"{DOMAIN}:443:{bare_cluster.manager.ip}"

    def verified():
        # Until the certificate is issued Traefik serves its self-signed default: curl refuses it.
        result = _curl("--cacert", str(root), "--resolve", resolve, url)
        return result.returncode == 0 and json.loads(result.stdout)

    started = time.monotonic()
    answer = _wait("a certificate from Pebble that curl trusts", verified, timeout=90, interval=2)
    print(f"certificate issued and served after {time.monotonic() - started:.1f} s")
    assert answer["version"] == "1"

    # The same request without Pebble's root fails: the trust really comes from that CA.
    assert _curl("--resolve", resolve, url).returncode == 60
    # Plain HTTP redirects to HTTPS.
    redirect = _curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        "--resolve",
        f"{DOMAIN}:80:{bare_cluster.manager.ip}",
        f"http://{DOMAIN}/version",
    )
    # Traefik answers a permanent redirect of a GET with 301 (308 for other methods).
    assert redirect.stdout == f"301 https://{DOMAIN}/version"

    # TLS options kept in the Swarm (sentinel-traefik-tls): TLS 1.2's CBC ciphers, which Traefik's own
    # defaults accept, are refused; its AEAD ones, and TLS 1.3, are served. HTTP/1.1: h2 bars CBC itself.
    def handshake(*tls):
        return _curl("--cacert", str(root), "--resolve", resolve, "--http1.1", *tls, url).returncode

    assert handshake("--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA") == 35
    assert handshake("--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256") == 0
    assert handshake("--tlsv1.3") == 0
    assert handshake("--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0") == 35

    # HSTS on request (traefik_route's hsts): every HTTPS answer tells browsers to stay on HTTPS.
    def hsts_headers():
        head = _curl("--cacert", str(root), "--resolve", resolve, "-D", "-", "-o", "/dev/null", url).stdout
        return [line.strip().lower() for line in head.splitlines() if line.lower().startswith("strict-transport")]

    assert hsts_headers() == []
    route = ansible_bare.module("sentinel.paas.traefik_route", {"name": "todo", "tls": True, "hsts": True})
    assert route.changed and route["route"]["hsts"] is True, route.raw
    headers = _wait("the Strict-Transport-Security header", hsts_headers, timeout=30)
    assert headers == ["strict-transport-security: max-age=31536000; includesubdomains"]


# -- the dashboard, when asked for ------------------------------------------------------
def test_dashboard_only_behind_basic_auth_from_a_secret(bare_cluster, ansible_bare, init_vars, initialised):
    users = subprocess.run(
        ["openssl", "passwd", "-apr1", "s3cret-pass"], check=True, capture_output=True, text=True
    ).stdout.strip()
    dashboard = {
        "control_plane_traefik_dashboard": True,
        "control_plane_traefik_dashboard_host": "traefik.sentinel.test",
        "control_plane_traefik_dashboard_users": [f"admin:{users}"],
    }
    # The file's last test: the module's cluster goes after it, dashboard and all, so nothing turns it off.
    for attempt in ("apply", "again"):
        run = ansible_bare.playbook("init.yml", {**init_vars, **dashboard})
        assert run.ok, _explain(run)
        assert bool(run.changed_tasks) == (attempt == "apply"), run.changed_tasks
    spec = _traefik(bare_cluster).attrs["Spec"]
    assert users not in json.dumps(spec), "the password hash must live in the secret only"
    assert users not in json.dumps(run.output)
    secrets = spec["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert [s["File"]["Name"] for s in secrets] == ["sentinel-traefik-dashboard-users"]

    resolve = f"traefik.sentinel.test:443:{bare_cluster.manager.ip}"
    url = "https://traefik.sentinel.test/dashboard/"

    def status(*auth: str) -> str:
        # -k: Pebble cannot validate this name (no DNS record), so Traefik serves its default certificate.
        return _curl("-k", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", resolve, *auth, url).stdout

    _wait("the dashboard router", lambda: status() == "401", timeout=30)
    assert status("-u", "admin:wrong") == "401"
    assert status("-u", "admin:s3cret-pass") == "200"

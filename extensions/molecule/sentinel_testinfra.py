"""What the scenarios' testinfra verifiers share (on PYTHONPATH through config.yml's verifier env)."""

import os

import testinfra.utils.ansible_runner


def managers() -> list[str]:
    """testinfra_hosts for a test module about the manager only (the Swarm's services run there)."""
    inventory = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
    return [f"ansible://{name}" for name in inventory.get_hosts("managers")]


def service_get(host, service: str, port: int, path: str) -> str:
    """GET http://127.0.0.1:PORT/PATH inside the network of SERVICE's task on this node: the monitoring
    services publish no port, so this is how an operator on the node reaches them too."""
    containers = host.check_output(
        f"docker ps --filter label=com.docker.swarm.service.name={service} --format '{{{{.ID}}}}'"
    ).split()
    assert len(containers) == 1, f"{service}: {len(containers)} tasks on this node"
    pid = host.check_output(f"docker inspect --format '{{{{.State.Pid}}}}' {containers[0]}")
    fetch = f"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}{path}').read().decode())"
    return host.check_output(f'nsenter -t {pid} -n python3 -c "{fetch}"')


def registry_status(host, login: str = "") -> str:
    """The HTTP status the cluster registry answers on this node's 127.0.0.1:5000/v2/ (with USER:PASSWORD)."""
    user = f"-u '{login}'" if login else ""
    return host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {user} http://127.0.0.1:5000/v2/")

"""docker_exec_argv: a terminal in a container on a node, reached the inventory's way."""

from __future__ import annotations

import pytest

from sentinel_cli.node_shell import docker_exec_argv

PSQL = ["psql", "-U", "todo", "-d", "todo"]


@pytest.mark.parametrize(
    ("node", "argv"),
    [
        ({"host": "node1", "connection": "local"}, ["docker", "exec", "-it", "c1", *PSQL]),
        (
            {"host": "10.0.0.5", "connection": "ssh", "user": "admin", "port": 2222, "become": True},
            ["ssh", "-t", "-p", "2222", "admin@10.0.0.5", "sudo docker exec -it c1 psql -U todo -d todo"],
        ),
        (
            {"host": "h", "private_key_file": "~/.ssh/k", "ssh_args": "-o ProxyJump=bastion -o Port=22"},
            [
                "ssh",
                "-t",
                "-i",
                "~/.ssh/k",
                "-o",
                "ProxyJump=bastion",
                "-o",
                "Port=22",
                "h",
                "docker exec -it c1 psql -U todo -d todo",
            ],
        ),
        ({"host": "10.0.0.5"}, ["ssh", "-t", "10.0.0.5", "docker exec -it c1 psql -U todo -d todo"]),
        (
            {"host": "sentinel-node1", "connection": "community.docker.docker_api"},
            ["docker", "exec", "-it", "sentinel-node1", "docker", "exec", "-it", "c1", *PSQL],
        ),
        (
            {"host": "n1", "connection": "community.docker.docker", "docker_host": "tcp://h:2376"},
            ["docker", "-H", "tcp://h:2376", "exec", "-it", "n1", "docker", "exec", "-it", "c1", *PSQL],
        ),
    ],
    ids=[
        "local",
        "ssh-as-admin-with-sudo",
        "ssh-with-key-and-bastion",
        "ssh-default",
        "docker-in-docker",
        "docker-remote-engine",
    ],
)
def test_each_connection_reaches_the_container(node, argv):
    assert docker_exec_argv(node, "c1", PSQL) == argv


def test_a_connection_without_a_terminal_is_named():
    with pytest.raises(ValueError, match="reaches the node by winrm: a terminal needs ssh, docker or local"):
        docker_exec_argv({"host": "w", "connection": "winrm"}, "c1", PSQL)

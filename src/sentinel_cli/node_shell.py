"""A command in a container on one of the cluster's nodes, with this terminal attached: the inventory's
own way to reach the node (ssh, docker, local), then ``docker exec -it`` there.

Playbooks cannot hold a terminal, so the interactive commands (sentinel db psql) run this instead.
"""

from __future__ import annotations

import shlex

DOCKER_CONNECTIONS = ("docker", "community.docker.docker", "community.docker.docker_api")


def docker_exec_argv(node: dict, container: str, command: list[str]) -> list[str]:
    """The argv that runs ``command`` in ``container`` on ``node`` (db_psql.yml's report of it)."""
    inner = ["docker", "exec", "-it", container, *command]
    if node.get("become"):
        inner = ["sudo", *inner]
    connection = node.get("connection") or "ssh"
    if connection in ("local", "ansible.builtin.local"):
        return inner
    if connection in DOCKER_CONNECTIONS:  # the node is itself a container (Docker-in-Docker)
        engine = ["-H", node["docker_host"]] if node.get("docker_host") else []
        return ["docker", *engine, "exec", "-it", node["host"], *inner]
    if connection in ("ssh", "ansible.builtin.ssh", "paramiko", "paramiko_ssh"):
        target = f"{node['user']}@{node['host']}" if node.get("user") else node["host"]
        options = ["-p", str(node["port"])] if node.get("port") else []
        options += ["-i", node["private_key_file"]] if node.get("private_key_file") else []
        options += shlex.split(node.get("ssh_args") or "")
        return ["ssh", "-t", *options, target, shlex.join(inner)]
    raise ValueError(f"the inventory reaches the node by {connection}: a terminal needs ssh, docker or local")

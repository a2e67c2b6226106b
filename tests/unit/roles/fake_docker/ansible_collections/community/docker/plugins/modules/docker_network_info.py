from __future__ import annotations

from ansible_collections.community.docker.plugins.module_utils.fake import run

if __name__ == "__main__":
    run("docker_network_info", {"name": {"type": "str", "required": True}}, lambda params: params["name"])

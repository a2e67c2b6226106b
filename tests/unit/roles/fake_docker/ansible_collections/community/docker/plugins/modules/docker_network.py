from __future__ import annotations

from ansible_collections.community.docker.plugins.module_utils.fake import run

SPEC = {
    "name": {"type": "str", "required": True},
    "driver": {"type": "str"},
    "attachable": {"type": "bool"},
    "appends": {"type": "bool", "default": False},
    "labels": {"type": "dict", "default": {}},
    "driver_options": {"type": "dict"},
}

if __name__ == "__main__":
    run("docker_network", SPEC, lambda params: params["name"])

from __future__ import annotations

from ansible_collections.community.docker.plugins.module_utils.fake import run

SPEC = {
    "tasks": {"type": "bool", "default": False},
    "tasks_filters": {"type": "dict"},
    "verbose_output": {"type": "bool", "default": False},
}

if __name__ == "__main__":
    run("docker_swarm_info", SPEC, lambda params: (params["tasks_filters"] or {}).get("service"))

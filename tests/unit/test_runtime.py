"""meta/runtime.yml: the docker action group holds every module that reaches the engine."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_with_the_engine_options_is_in_the_docker_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    with_engine = {
        module.stem
        for module in (ROOT / "plugins" / "modules").glob("*.py")
        if "docker_argument_spec(" in module.read_text()
    }
    assert with_engine and set(runtime["action_groups"]["docker"]) == with_engine

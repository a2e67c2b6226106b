"""Every role documents every default in meta/argument_specs.yml, and the two agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "tasks" / "main.yml").exists())


def _load(role: str) -> tuple[dict, dict]:
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    return defaults, specs["argument_specs"]["main"]["options"]


def test_roles_are_found():
    assert {"node_exporter", "prometheus", "grafana"} <= set(ROLE_NAMES)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_and_argument_specs_name_the_same_variables(role):
    defaults, options = _load(role)
    assert set(defaults) == set(options), (
        f"{role}: only in defaults/main.yml: {sorted(set(defaults) - set(options))}; "
        f"only in meta/argument_specs.yml: {sorted(set(options) - set(defaults))}"
    )


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_documented_defaults_are_the_real_defaults(role):
    defaults, options = _load(role)
    wrong = {
        name: (options[name].get("default"), value)
        for name, value in defaults.items()
        if name in options and options[name].get("default") != value
    }
    assert not wrong, f"{role}: argument_specs default != defaults/main.yml value: {wrong}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_option_is_prefixed_and_described(role):
    _defaults, options = _load(role)
    for name, option in options.items():
        assert name.startswith(f"{role}_"), f"{role}: {name} lacks the role prefix"
        assert option.get("description"), f"{role}: {name} has no description"
        assert option.get("type"), f"{role}: {name} has no type"

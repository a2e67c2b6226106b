"""Every role documents every default in meta/argument_specs.yml, and the two agree.

A role has one entry point per task file it is called with: ``main`` for the public roles, one per
file of tasks/ for ``_common``, whose files the other roles include with ``tasks_from``. Defaults
live in defaults/main.yml for every entry point (Ansible reads no default from argument specs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "argument_specs.yml").exists())
COMMON = "sentinel.paas._common"
INCLUDE_ROLE = {"ansible.builtin.include_role", "include_role", "ansible.builtin.import_role", "import_role"}


def _defaults(role: str) -> dict:
    path = ROLES / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _entry_points(role: str) -> dict[str, dict]:
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name: spec.get("options") or {} for name, spec in specs.items()}


def _options(role: str) -> dict[str, list[dict]]:
    """Each option with its specs, one per entry point that documents it."""
    options: dict[str, list[dict]] = {}
    for spec in _entry_points(role).values():
        for name, option in spec.items():
            options.setdefault(name, []).append(option)
    return options


def _tasks(node):
    """Every task of a task file, blocks walked into."""
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _common_includes() -> list[tuple[str, str, dict]]:
    """(role, tasks_from, vars) of every include of _common in the other roles."""
    found = []
    for path in sorted(ROLES.glob("*/tasks/*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            action = next((task[key] for key in INCLUDE_ROLE if key in task), None)
            if isinstance(action, dict) and action.get("name") == COMMON:
                found.append((path.parts[-3], action["tasks_from"], task.get("vars") or {}))
    return found


def test_roles_are_found():
    assert {"_common", "control_plane", "node_exporter", "prometheus", "grafana"} <= set(ROLE_NAMES)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_and_argument_specs_name_the_same_variables(role):
    """Optional options have a default in defaults/main.yml, required ones none; nothing else is there."""
    defaults, options = _defaults(role), _options(role)
    optional = {name for name, specs in options.items() if not any(s.get("required") for s in specs)}
    assert set(defaults) == optional, (
        f"{role}: only in defaults/main.yml: {sorted(set(defaults) - optional)}; "
        f"optional in meta/argument_specs.yml but without a default: {sorted(optional - set(defaults))}"
    )


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_documented_defaults_are_the_real_defaults(role):
    defaults, options = _defaults(role), _options(role)
    wrong = {
        name: (spec.get("default"), value)
        for name, value in defaults.items()
        for spec in options.get(name, [])
        if spec.get("default") != value
    }
    assert not wrong, f"{role}: argument_specs default != defaults/main.yml value: {wrong}"
    required_with_default = [n for n, specs in options.items() for s in specs if s.get("required") and "default" in s]
    assert not required_with_default, f"{role}: required options cannot have a default: {required_with_default}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_option_is_prefixed_and_described(role):
    for name, specs in _options(role).items():
        for option in specs:
            assert name.startswith(f"{role}_"), f"{role}: {name} lacks the role prefix"
            assert option.get("description"), f"{role}: {name} has no description"
            assert option.get("type"), f"{role}: {name} has no type"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_entry_points_are_the_task_files(role):
    """A public role has the entry point main; an internal one (no main.yml) one per task file."""
    entry_points = set(_entry_points(role))
    files = {p.stem for p in (ROLES / role / "tasks").glob("*.yml")}
    if "main" in files:
        assert "main" in entry_points, f"{role}: no entry point main"
    else:
        assert entry_points == files, f"{role}: entry points {sorted(entry_points)} != task files {sorted(files)}"
    assert entry_points <= files, f"{role}: entry points without a task file: {sorted(entry_points - files)}"


@pytest.mark.parametrize("entry_point", sorted(_entry_points("_common")))
def test_common_task_files_read_only_documented_inputs(entry_point):
    text = (ROLES / "_common" / "tasks" / f"{entry_point}.yml").read_text()
    # What a file sets (set_fact keys, such as network.yml's _common_network_ready) is its output, not an input.
    outputs = set(re.findall(r"^\s+(_common_\w+):", text, re.MULTILINE))
    used = set(re.findall(r"(?<![\w.])_common_\w+", text)) - outputs
    assert used == set(_entry_points("_common")[entry_point]), f"{entry_point}.yml reads {sorted(used)}"


def test_every_role_includes_common():
    callers = {role for role, _tasks_from, _vars in _common_includes()}
    assert callers == {"control_plane", "node_exporter", "prometheus", "alertmanager", "grafana", "registry"}


@pytest.mark.parametrize(
    ("role", "tasks_from", "given"),
    [pytest.param(*include, id=f"{include[0]}-{include[1]}") for include in _common_includes()],
)
def test_common_includes_give_the_documented_inputs(role, tasks_from, given):
    # Ansible looks the entry point up by tasks_from verbatim: with ".yml" the inputs go unchecked.
    options = _entry_points("_common").get(tasks_from)
    assert options is not None, f"{role}: tasks_from {tasks_from!r} is no entry point of _common"
    required = {name for name, option in options.items() if option.get("required")}
    assert set(given) <= set(options), (
        f"{role}: undocumented inputs of {tasks_from}: {sorted(set(given) - set(options))}"
    )
    assert required <= set(given), f"{role}: {tasks_from} needs {sorted(required - set(given))}"

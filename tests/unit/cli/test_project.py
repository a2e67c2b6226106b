"""Where the CLI finds the collection: SENTINEL_HOME, its own checkout, or the installed collection.

That a CLI installed on its own really runs the installed collection's playbooks is proven in
tests/integration/test_installed_collection.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinel_cli import project


def installed(root: Path) -> Path:
    home = root / "ansible_collections" / "sentinel" / "paas"
    (home / "playbooks").mkdir(parents=True)
    return home


def test_a_checkout_is_its_own_home(tmp_path):
    (tmp_path / "galaxy.yml").write_text("namespace: sentinel\n")
    installed(tmp_path / "collections")
    environ = {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")}
    assert project.find_home(environ, checkout=tmp_path) == tmp_path
    assert project.collections_root(tmp_path) == tmp_path / "playbooks" / "collections"


def test_outside_a_checkout_the_installed_collection_is_found_on_ansibles_path(tmp_path):
    first, second = tmp_path / "empty", tmp_path / "collections"
    home = installed(second)
    environ = {"ANSIBLE_COLLECTIONS_PATH": f"{first}:{second}"}
    assert project.find_home(environ, checkout=tmp_path / "site-packages") == home
    assert project.collections_root(home) == second


def test_sentinel_home_wins(tmp_path):
    (tmp_path / "galaxy.yml").write_text("namespace: sentinel\n")
    home = installed(tmp_path / "collections")
    assert project.find_home({"SENTINEL_HOME": str(home)}, checkout=tmp_path) == home


def test_without_any_the_playbook_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "PLAYBOOKS", tmp_path / "nowhere" / "playbooks")
    with pytest.raises(FileNotFoundError, match="ansible-galaxy collection install"):
        project.playbook("deploy.yml")


def test_the_cli_without_the_collection_says_how_to_install_it(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sentinel_cli.main import cli

    nowhere = tmp_path / "site-packages"
    monkeypatch.setattr(project, "PLAYBOOKS", nowhere / "playbooks")
    monkeypatch.setattr(project, "LOCAL_INVENTORY", nowhere / "inventories" / "local" / "hosts.yml")
    result = CliRunner().invoke(cli, ["apps"])
    assert result.exit_code == 1 and project.INSTALL_HINT in result.output, result.output

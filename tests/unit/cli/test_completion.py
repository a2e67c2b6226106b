"""sentinel completion: the scripts, and names offered from what the cluster's playbooks report.

That Tab offers the real cluster's apps and nodes is tested on the real Swarm
(tests/integration/test_cluster_ops.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentinel_cli import runner
from sentinel_cli.main import cli


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files --command sentinel")],
)
def test_each_shell_gets_its_script(shell, marker):
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0 and "_SENTINEL_COMPLETE" in result.output and marker in result.output


def test_an_unknown_shell_is_refused():
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.output


def complete(monkeypatch, words: str, outcome: runner.Outcome) -> tuple[list[str], list]:
    """Tab after `sentinel WORDS`, with the playbook run faked: (offered, playbooks asked)."""
    asked = []

    def run(name, extravars, options, say):
        asked.append((name, options.inventory.name))
        return outcome

    monkeypatch.setattr(runner, "run", run)
    env = {
        "COMP_WORDS": f"sentinel {words}",
        "COMP_CWORD": str(len(words.split(" "))),
        "_SENTINEL_COMPLETE": "bash_complete",
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="sentinel")
    return [line.partition(",")[2] for line in result.output.splitlines() if line], asked


def test_app_names_come_from_the_apps_playbook_with_the_given_inventory(monkeypatch, tmp_path):
    inventory = tmp_path / "prod.yml"
    inventory.write_text("all: {}\n")
    apps = runner.Outcome(True, {"apps": [{"name": "todo"}, {"name": "blog"}, {"name": "tally"}]})
    offered, asked = complete(monkeypatch, f"-i {inventory} canary promote t", apps)
    assert offered == ["tally", "todo"] and asked == [("apps.yml", "prod.yml")]


def test_node_names_come_from_cluster_inspect(monkeypatch):
    nodes = runner.Outcome(True, {"nodes": [{"hostname": "web-2"}, {"hostname": "web-1"}]})
    assert complete(monkeypatch, "cluster drain ", nodes)[0] == ["web-1", "web-2"]


def test_a_cluster_that_cannot_be_asked_offers_nothing(monkeypatch):
    assert complete(monkeypatch, "scale ", runner.Outcome(False, errors=["unreachable"]))[0] == []


def test_a_run_that_breaks_offers_nothing_and_prints_no_traceback(monkeypatch):
    def broken(*_args):
        raise FileNotFoundError("ansible-playbook")

    monkeypatch.setattr(runner, "run", broken)
    env = {"COMP_WORDS": "sentinel scale ", "COMP_CWORD": "2", "_SENTINEL_COMPLETE": "bash_complete"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="sentinel")
    assert result.exit_code == 0 and result.output.strip() == "", result.output

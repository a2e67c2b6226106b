"""Global options work before or after the subcommand, and are documented once, on the root."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from sentinel_cli.context import Context
from sentinel_cli.global_options import GlobalOptionsGroup
from sentinel_cli.main import cli


@pytest.fixture
def runs(monkeypatch):
    """What each playbook run was given: the runner options and the output format."""
    seen = []

    def fake_run(self, playbook, extravars, title):
        seen.append((self.options, self.out.json))
        return {}

    monkeypatch.setattr(Context, "run", fake_run)
    return seen


@pytest.mark.parametrize(
    "args",
    [
        ["-o", "json", "apps"],
        ["apps", "-o", "json"],
        ["apps", "--output=json"],
        ["canary", "status", "todo", "-o", "json"],
        ["canary", "-o", "json", "status", "todo"],
        ["inspect", "app", "todo", "--window", "1h", "-o", "json"],
    ],
)
def test_json_output_before_or_after_the_subcommand(runs, args):
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["ok"] is True
    assert runs[0][1] is True


def test_every_global_option_after_a_nested_subcommand(runs, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all: {}\n")
    args = ["canary", "status", "todo", "-i", str(inventory), "--limit", "node1", "--check", "--diff", "-vv"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    options, _ = runs[0]
    assert (options.inventory, options.limit, options.check, options.diff, options.verbose) == (
        inventory,
        "node1",
        True,
        True,
        2,
    )


def test_verbosity_adds_up_and_a_later_value_wins(runs, tmp_path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("all: {}\n")
    second.write_text("all: {}\n")
    assert CliRunner().invoke(cli, ["-v", "-i", str(first), "apps", "-v", "-i", str(second)]).exit_code == 0
    options, _ = runs[0]
    assert options.verbose == 2 and options.inventory == second


def test_a_bad_value_after_the_subcommand_is_a_usage_error(runs):
    run = CliRunner().invoke(cli, ["apps", "-o", "yaml"])
    assert run.exit_code == 2 and "'yaml' is not one of" in run.output and runs == []


def test_help_documents_them_once_on_the_root():
    root = CliRunner().invoke(cli, ["--help"]).output
    assert "--inventory" in root and "--output" in root and "after the command" in root
    for args in (["apps", "--help"], ["canary", "status", "--help"], ["canary", "--help"]):
        text = CliRunner().invoke(cli, args).output
        assert "--inventory" not in text and "--output" not in text
        assert "Global options (-i, --limit, --check, --diff, -v, -o: see sentinel --help)" in " ".join(text.split())


def test_a_subcommand_keeps_its_own_option_of_the_same_name():
    seen = {}

    @click.group(cls=GlobalOptionsGroup)
    @click.option("--check", is_flag=True)
    @click.option("-o", "--output", default="text")
    @click.pass_context
    def root(ctx, check, output):
        ctx.obj = {"check": check, "output": output}

    @click.command()
    @click.option("--check", "own_check", is_flag=True)
    @click.pass_obj
    def sub(obj, own_check):
        seen.update(obj, own_check=own_check)

    root.add_command(sub)
    assert CliRunner().invoke(root, ["sub", "--check", "-o", "json"]).exit_code == 0
    assert seen == {"check": False, "output": "json", "own_check": True}

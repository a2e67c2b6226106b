"""completion: the shell's completion script for sentinel (Click's), and the NAME and NODE arguments
whose values Tab reads from the cluster."""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem, get_completion_class

from .. import project, runner

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_SENTINEL_COMPLETE"  # Click's convention: _{PROG}_COMPLETE


def _cluster_names(ctx: click.Context, playbook: str, key: str, field: str, incomplete: str) -> list[CompletionItem]:
    """Names read from the cluster for shell completion: nothing when it cannot be asked."""
    inventory = ctx.find_root().params.get("inventory") or project.LOCAL_INVENTORY
    try:
        outcome = runner.run(playbook, {}, runner.Options(inventory=inventory), lambda _line: None)
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the user's command line
        return []
    names = [item[field] for item in outcome.result.get(key, [])] if outcome.ok else []
    return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]


def complete_app(ctx, _param, incomplete: str) -> list[CompletionItem]:
    return _cluster_names(ctx, "apps.yml", "apps", "name", incomplete)


def complete_node(ctx, _param, incomplete: str) -> list[CompletionItem]:
    return _cluster_names(ctx, "cluster_inspect.yml", "nodes", "hostname", incomplete)


# The NAME of an app and the NODE of a cluster command: Tab completes them from the cluster.
app_argument = click.argument("name", shell_complete=complete_app)
node_argument = click.argument("node", shell_complete=complete_node)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(click_ctx: click.Context, shell: str) -> None:
    """Print SHELL's completion script: commands, options, and app and node names from the cluster.

    \b
    bash:  eval "$(sentinel completion bash)"     (add it to ~/.bashrc)
    zsh:   eval "$(sentinel completion zsh)"      (add it to ~/.zshrc)
    fish:  sentinel completion fish > ~/.config/fish/completions/sentinel.fish

    App and node names are asked from the cluster of -i/SENTINEL_INVENTORY (a playbook run each time).
    """
    root = click_ctx.find_root().command
    click.echo(get_completion_class(shell)(root, {}, "sentinel", COMPLETE_VAR).source())


def register(cli: click.Group) -> None:
    cli.add_command(completion)

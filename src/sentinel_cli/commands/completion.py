"""completion: the shell's completion script for sentinel (Click's), with app and node names read
from the cluster (params.app_argument, params.node_argument)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_SENTINEL_COMPLETE"  # Click's convention: _{PROG}_COMPLETE


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

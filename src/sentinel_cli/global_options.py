"""Global options that also work after the subcommand: `sentinel apps -o json` = `sentinel -o json apps`.

The root group declares them once, and its help documents them; every subcommand, nested
groups' included, gets hidden copies that hand a value given there back to the root.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator

import click
from click.core import ParameterSource


class GlobalOptionsGroup(click.Group):
    """A root group whose options are accepted after any of its subcommands too.

    Its callback must only turn its options into ``ctx.obj``: it runs again, with the root's
    values updated, when one of them comes after a subcommand.
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        options = [p for p in self.params if isinstance(p, click.Option) and p.expose_value]
        for command in _with_subcommands(cmd):
            taken = {flag for param in command.params for flag in _flags(param)}
            accepted = [option for option in options if taken.isdisjoint(_flags(option))]
            if accepted:
                command.params += [_trailing(option) for option in accepted]
                names = ", ".join(min(option.opts, key=len) for option in accepted)
                note = f"Global options ({names}: see sentinel --help) work here too."
                command.epilog = f"{command.epilog}\n\n{note}" if command.epilog else note


def _with_subcommands(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _with_subcommands(sub)


def _flags(param: click.Parameter) -> list[str]:
    return [*param.opts, *param.secondary_opts]


def _trailing(option: click.Option) -> click.Option:
    """A hidden copy of a root option that hands a value given after a subcommand to the root."""
    trailing = copy.copy(option)
    trailing.name = f"trailing_{option.name}"  # apart from the subcommand's own parameters
    trailing.hidden, trailing.expose_value, trailing.envvar = True, False, None
    trailing.callback = functools.partial(_hoist, option)
    return trailing


def _hoist(option: click.Option, ctx: click.Context, param: click.Parameter, value) -> None:
    if ctx.get_parameter_source(param.name) is not ParameterSource.COMMANDLINE:
        return
    root = ctx.find_root()
    root.params[option.name] = root.params[option.name] + value if option.count else value
    root.invoke(root.command.callback, **root.params)
    # Contexts copy their parent's obj when made: those made since the root's callback have the old one.
    node = ctx
    while node is not root:
        node.obj, node = root.obj, node.parent

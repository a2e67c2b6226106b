"""Click parameter helpers shared by several commands."""

from __future__ import annotations

import click


def key_value_pairs(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    """Callback turning repeated KEY=VALUE options into a dict."""
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


env_option = click.option(
    "--env", "env", multiple=True, metavar="KEY=VALUE", callback=key_value_pairs, help="Environment (repeatable)."
)


def only_given(options: dict) -> dict:
    """The options the user gave: the playbooks keep the current value of everything left out."""
    return {key: value for key, value in options.items() if value is not None}

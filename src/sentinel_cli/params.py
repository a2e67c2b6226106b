"""Click parameter helpers shared by several commands."""

from __future__ import annotations

import re

import click

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"


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


class Percent(click.ParamType):
    """``1%`` as the share 0.01 the playbooks take. The sign is required: a bare 0.01 could mean
    1% (as the playbooks read it) or 0.01%."""

    name = "percent"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        match = re.fullmatch(rf"\s*{_NUMBER}\s*%\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not a percentage such as 1% or 0.5%", param, ctx)
        return float(match.group(1)) / 100


class Latency(click.ParamType):
    """``500ms``, ``1.5s`` (or ``500``, milliseconds) as the seconds the playbooks take."""

    name = "latency"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        match = re.fullmatch(rf"\s*{_NUMBER}\s*(ms|s)?\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not a latency such as 500ms or 1.5s", param, ctx)
        return float(match.group(1)) / (1 if match.group(2) == "s" else 1000)

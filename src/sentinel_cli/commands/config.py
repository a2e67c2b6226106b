"""Config commands: show an app's configuration, set and unset variables and secrets."""

from __future__ import annotations

import click

from ..context import Context, pass_context
from ..params import key_value_pairs, secret_pairs
from .completion import app_argument


class _ConfigGroup(click.Group):
    """``sentinel config NAME`` shows NAME's configuration; ``config set|unset NAME ...`` change it."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands:
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_ConfigGroup)
def config() -> None:
    """An app's configuration: sentinel config NAME shows it; set and unset change it."""


@config.command(name="show")
@app_argument
@click.option("--values", is_flag=True, help="Also show the variables' values (a secret's value never).")
@pass_context
def config_show(ctx: Context, name, values) -> None:
    """NAME's configuration: variable keys (values with --values) and secret keys."""
    result = ctx.run("config.yml", {"app": name, "values": values}, f"Reading {name}'s configuration")
    env = result.get("env") or {}
    lines = [f"{name} (release v{result.get('release')})"]
    lines += [f"  {key}={env[key]}" if values else f"  {key}" for key in result.get("env_keys", [])]
    lines += [f"  {key} (secret, /run/secrets/{key})" for key in result.get("secret_keys", [])]
    if len(lines) == 1:
        lines.append("  (no variables or secrets)")
    ctx.out.emit(result, "\n".join(lines))


@config.command(name="set")
@app_argument
@click.argument("pairs", nargs=-1, metavar="KEY=VALUE...", callback=key_value_pairs)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="KEY[=VALUE]",
    callback=secret_pairs,
    help="A secret: a Docker secret at /run/secrets/KEY, $KEY_FILE says so; KEY alone takes $KEY here (repeatable).",
)
@pass_context
def config_set(ctx: Context, name, pairs, secrets) -> None:
    """Set variables (and --secret secrets) of NAME; production rolls to them as a new release.

    A key is a variable or a secret: setting it as one removes the other. PG* and SENTINEL_* are
    Sentinel's own. A secret's value is never printed.
    """
    if not pairs and not secrets:
        raise click.UsageError("give KEY=VALUE pairs, or --secret KEY=VALUE")
    extravars = {"app": name, "set": pairs, "secret": secrets}
    result = ctx.run("config_set.yml", extravars, f"Configuring {name}")
    ctx.out.emit(result, _changed_line(name, result))


@config.command(name="unset")
@app_argument
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@pass_context
def config_unset(ctx: Context, name, keys) -> None:
    """Remove variables or secrets of NAME; production rolls without them as a new release."""
    result = ctx.run("config_set.yml", {"app": name, "unset": list(keys)}, f"Configuring {name}")
    ctx.out.emit(result, _changed_line(name, result))


def _changed_line(name: str, result: dict) -> str:
    if not result.get("changed"):
        return f"{name}: no change (release v{result.get('release')})"
    return f"{name}: {result.get('summary')}, live as release v{result.get('release')}"


def register(cli: click.Group) -> None:
    cli.add_command(config)

"""Click parameter helpers shared by several commands."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_SECRET_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def secret_pairs(_ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    """Callback for --secret-env (and config set's --secret): KEY=VALUE, or KEY alone for the value of
    $KEY here (which neither the shell's history nor ps shows). Errors name the key only."""
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not _SECRET_KEY.fullmatch(key):
            # Never echoed: a value typed without its KEY= would be printed.
            raise click.BadParameter("give KEY=VALUE, or a variable name KEY (letters, digits, _) to take $KEY")
        if not sep:
            value = os.environ.get(key)
            if value is None:
                raise click.BadParameter(f"{key}: give KEY=VALUE, or set ${key} for {param.opts[0]} {key}")
        if not value:
            raise click.BadParameter(f"{key} needs a value that is not empty")
        pairs[key] = value
    return pairs


secret_env_option = click.option(
    "--secret-env",
    "secret_env",
    multiple=True,
    metavar="KEY[=VALUE]",
    callback=secret_pairs,
    help="A secret as a Docker secret, read by the app at /run/secrets/KEY ($KEY_FILE says so); KEY alone takes"
    " the value of $KEY here. Given, these are all the app's secrets; never printed (repeatable).",
)


def smoke_test_options(command):
    """--smoke-test IMAGE, --smoke-test-cmd CMD and --smoke-test-timeout, the same on deploy and canary
    deploy (extra vars smoke_test, smoke_test_command and smoke_test_timeout)."""
    command = click.option(
        "--smoke-test-timeout",
        type=click.IntRange(min=1),
        metavar="SECONDS",
        help="How long the smoke test may run before it counts as failed (300).",
    )(command)
    command = click.option(
        "--smoke-test-cmd",
        "smoke_test_command",
        metavar="CMD",
        help="The smoke test as a shell command (in --smoke-test, or the new version's image).",
    )(command)
    return click.option(
        "--smoke-test", metavar="IMAGE", help="Run IMAGE against the new version first; unless it exits 0, stop."
    )(command)


def build_source(_ctx, _param, value: str | None) -> str | None:
    """--build: a directory here becomes its absolute path (the playbook runs elsewhere); anything else (a git URL
    and ref) goes to the playbook as given, which tells a git source apart (playbooks/tasks/build_image.yml)."""
    if value is None or not Path(value).expanduser().is_dir():
        return value
    return str(Path(value).expanduser().resolve())


build_option = click.option(
    "--build",
    metavar="PATH|GIT_URL#REF",
    callback=build_source,
    help="Build the image from this source (a directory with a Dockerfile, or a git URL and ref) on a manager, push "
    "it to the cluster registry and run it by digest; instead of --image.",
)


def only_given(options: dict) -> dict:
    """The options the user gave: the playbooks keep the current value of everything left out."""
    return {key: value for key, value in options.items() if value is not None}


class _NumberWithUnit(click.ParamType):
    """A number and a unit, converted to what the playbooks take: ``units`` maps each unit the
    text may end with (``""``: none) to the factor applied."""

    units: dict[str, float] = {}
    example = ""

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        unit = "|".join(re.escape(u) for u in sorted(self.units, key=len, reverse=True) if u)
        match = re.fullmatch(rf"\s*{_NUMBER}\s*({unit})?\s*", str(value))
        if not match or (match.group(2) or "") not in self.units:
            self.fail(f"{value!r} is not a {self.name} such as {self.example}", param, ctx)
        return float(match.group(1)) * self.units[match.group(2) or ""]


class Percent(_NumberWithUnit):
    """``1%`` as the share 0.01 the playbooks take. The sign is required: a bare 0.01 could mean
    1% (as the playbooks read it) or 0.01%."""

    name = "percentage"
    units = {"%": 0.01}
    example = "1% or 0.5%"


class Latency(_NumberWithUnit):
    """``500ms``, ``1.5s`` (or ``500``, milliseconds) as the seconds the playbooks take."""

    name = "latency"
    units = {"ms": 0.001, "s": 1.0, "": 0.001}
    example = "500ms or 1.5s"

"""The ``sentinel`` command: one Click group, one function per command.

Each command runs one playbook of the sentinel.paas collection and renders its result; the
commands hold no business logic of their own, so AWX or plain ansible-playbook can do
everything the CLI does.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__, project, runner
from .commands import (
    alerts,
    apps,
    canary,
    cluster,
    completion,
    config,
    db,
    inspect,
    maintenance,
    notify,
    releases,
    unlock,
)
from .context import Context
from .global_options import GlobalOptionsGroup
from .output import Output


@click.group(cls=GlobalOptionsGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sentinel")
@click.option(
    "-i",
    "--inventory",
    type=click.Path(exists=True, dir_okay=True, path_type=Path),
    envvar="SENTINEL_INVENTORY",
    # Not checked until used: a CLI installed without the collection then says how to install it.
    default=None,
    show_default="this machine as a one-node cluster",
    help="Ansible inventory of the cluster (groups managers and workers). Env: SENTINEL_INVENTORY.",
)
@click.option("--limit", metavar="PATTERN", help="Only these inventory hosts (ansible-playbook --limit).")
@click.option("--check", is_flag=True, help="Show what would change; change nothing.")
@click.option("--diff", is_flag=True, help="Show the differences a change makes.")
@click.option("-v", "--verbose", count=True, help="More detail (-vv and more go to ansible-playbook).")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints one JSON document on stdout, for scripts.",
)
@click.pass_context
def cli(click_ctx, inventory, limit, check, diff, verbose, output) -> None:
    """Sentinel: a self-hosted PaaS with canary deployments on Docker Swarm.

    Every command runs one playbook of the sentinel.paas collection, so AWX job
    templates and plain ansible-playbook can do all of it too.

    The options below also work after the command: sentinel apps -o json.
    """
    # Nothing but ctx.obj: GlobalOptionsGroup runs this again for an option given after the subcommand.
    options = runner.Options(
        inventory=inventory or project.LOCAL_INVENTORY, limit=limit, check=check, diff=diff, verbose=verbose
    )
    click_ctx.obj = Context(options, Output(output))


for module in (apps, inspect, releases, config, db, alerts, maintenance, canary, cluster, notify, unlock, completion):
    module.register(cli)

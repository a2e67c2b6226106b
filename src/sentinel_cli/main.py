"""The ``sentinel`` command: one Click group, one function per command.

Each command runs one playbook of the sentinel.paas collection and renders its result; the
commands hold no business logic of their own, so AWX or plain ansible-playbook can do
everything the CLI does.
"""

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentinel")
def cli() -> None:
    """Sentinel: a self-hosted PaaS with canary deployments on Docker Swarm."""

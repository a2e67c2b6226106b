"""What every command gets: the global options, the output, and a way to run its playbook."""

from __future__ import annotations

from dataclasses import dataclass

import click

from . import runner
from .output import Output


@dataclass
class Context:
    options: runner.Options
    out: Output

    def run(self, playbook: str, extravars: dict, title: str) -> dict:
        """Run a playbook with progress; exit with its error in one line if it fails."""
        self.out.progress(f"{title} ({playbook})")
        outcome = runner.run(playbook, extravars, self.options, self.out.progress)
        if not self.options.shows_ansible_output:  # which prints the warnings itself
            for warning in outcome.warnings:
                self.out.warn(warning)
        if not outcome.ok:
            self.out.fail(outcome.errors)
        self.out.progress(f"done in {outcome.seconds:.1f} s")
        return outcome.result


pass_context = click.make_pass_decorator(Context)


def confirm_or_abort(ctx: Context, yes: bool, question: str) -> None:
    """Destructive commands ask first; --yes (or --output json, for scripts) skips."""
    if yes:
        return
    if ctx.out.json:
        ctx.out.fail([f"{question} Pass --yes to confirm."])
    click.confirm(question, abort=True, err=True)

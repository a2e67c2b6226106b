"""notify add|list|remove|test: the receivers of alerts and operation events (webhook, Slack, e-mail)."""

from __future__ import annotations

import os
import sys

import click

from ..context import Context, pass_context
from ..output import table

COLUMNS = ["name", "kind", "app", "attached"]


def _url(value: str) -> str:
    """The URL as given, or with ``-`` read from standard input (out of the shell's history and ps); never echoed."""
    if value != "-":
        return value
    url = click.prompt("URL", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not url:
        raise click.BadParameter("no URL on standard input", param_hint="the URL")
    return url


def _env(name: str | None) -> str | None:
    """The value of $NAME (a password kept out of the shell's history and ps); never echoed."""
    if name and not os.environ.get(name):
        raise click.BadParameter(f"${name} is not set or empty", param_hint="--smtp-password-env")
    return os.environ.get(name) if name else None


@click.group()
def notify() -> None:
    """Who is told about alerts and operations: webhooks, Slack and e-mail receivers.

    Every receiver gets the cluster's alerts (Alertmanager) and the operations' events (deploy, config,
    canary, rollback, failures, nodes) as one JSON payload (docs/notifications.md). A receiver with --app
    gets that app's instead of the cluster-wide ones.
    """


@notify.command(name="add")
@click.argument("name")
@click.option("--webhook", metavar="URL", help="POST each event's JSON to URL (- reads it from standard input).")
@click.option("--slack", metavar="URL", help="A Slack incoming webhook's URL (- reads it from standard input).")
@click.option("--email", "email_to", metavar="TO[,TO...]", help="Mail each event to these addresses.")
@click.option("--app", help="Only this app's alerts and events (instead of the cluster-wide receivers).")
@click.option("--from", "email_from", metavar="ADDRESS", help="E-mail: the sender.")
@click.option("--smtp", metavar="HOST[:PORT]", help="E-mail: the SMTP server (port 587 when omitted).")
@click.option("--smtp-user", metavar="USER", help="E-mail: the SMTP login.")
@click.option("--smtp-password-env", metavar="VAR", help="E-mail: take the SMTP password from $VAR.")
@click.option("--no-starttls", is_flag=True, help="E-mail: do not upgrade the connection with STARTTLS.")
@pass_context
def notify_add(ctx: Context, name, webhook, slack, email_to, app, email_from, smtp, smtp_user, smtp_password_env,
               no_starttls) -> None:  # fmt: skip
    """Add (or change) the receiver NAME; its URL or password is kept as a Docker secret, never shown.

    A URL is a secret: `--webhook -` reads it from standard input, out of your shell's history.
    """
    kinds = [kind for kind, given in (("webhook", webhook), ("slack", slack), ("email", email_to)) if given]
    if len(kinds) != 1:
        raise click.UsageError("give one of --webhook URL, --slack URL or --email TO")
    extravars = {"action": "add", "name": name, "kind": kinds[0], "app": app}
    if kinds[0] == "email":
        if not (email_from and smtp):
            raise click.UsageError("an e-mail receiver needs --from ADDRESS and --smtp HOST[:PORT]")
        host, _, port = smtp.partition(":")
        if port and not port.isdigit():
            raise click.BadParameter(f"{smtp!r}: the port must be a number", param_hint="--smtp")
        extravars.update(
            email_to=[a.strip() for a in email_to.split(",") if a.strip()],
            email_from=email_from,
            smtp_host=host,
            smtp_port=int(port) if port else None,
            smtp_username=smtp_user,
            smtp_password=_env(smtp_password_env),
            smtp_starttls=not no_starttls,
        )
    else:
        extravars["url"] = _url(webhook or slack)
    result = ctx.run("notify.yml", extravars, f"Adding receiver {name}")
    verb = "added (or changed)" if result.get("changed") else "already as given"
    ctx.out.emit(result, f"Receiver {name} {verb}. `sentinel notify test {name}` sends it a test notification.")


@notify.command(name="list")
@pass_context
def notify_list(ctx: Context) -> None:
    """The receivers: name, kind, app, and whether the notifier has them now."""
    result = ctx.run("notify.yml", {"action": "list"}, "Reading the receivers")
    rows = [{**r, "app": r.get("app") or "(all)", "attached": "yes" if r.get("attached") else "no"}
            for r in result.get("receivers", [])]  # fmt: skip
    text = table(rows, COLUMNS) if rows else "No receivers: nobody is told. `sentinel notify add` adds one."
    if not result.get("notifier"):
        text += "\nThe notifier does not run on this cluster: `sentinel init` (with the monitoring) starts it."
    ctx.out.emit(result, text)


@notify.command(name="remove")
@click.argument("name")
@pass_context
def notify_remove(ctx: Context, name) -> None:
    """Remove the receiver NAME."""
    result = ctx.run("notify.yml", {"action": "remove", "name": name}, f"Removing receiver {name}")
    ctx.out.emit(result, f"Receiver {name} removed.")


@notify.command(name="test")
@click.argument("name", required=False)
@pass_context
def notify_test(ctx: Context, name) -> None:
    """Send a test notification to NAME (or every receiver) now, and say what each answered."""
    result = ctx.run("notify.yml", {"action": "test", "name": name}, "Testing the receivers")
    ctx.out.emit(result, "\n".join(f"{n}: {a}" for n, a in sorted((result.get("answers") or {}).items())))


def register(cli: click.Group) -> None:
    cli.add_command(notify)

"""How results reach the user: progress on stderr, results on stdout as text or JSON."""

from __future__ import annotations

import json
import sys

import click


class Output:
    def __init__(self, fmt: str):
        self.json = fmt == "json"

    def progress(self, line: str) -> None:
        """Long operations narrate on stderr, so stdout stays clean for --output json."""
        if not self.json:
            click.echo(click.style(line, dim=True), err=True)

    def warn(self, message: str) -> None:
        """On stderr in both formats: a warning matters to scripts' humans too, and keeps stdout clean."""
        click.echo(click.style("Warning: ", fg="yellow", bold=True) + message, err=True)

    def emit(self, data: dict, text: str) -> None:
        """The result: text, or a JSON document whose "ok" tells success from fail()'s errors."""
        if self.json:
            click.echo(json.dumps({**data, "ok": True}, indent=2, sort_keys=True, default=str))
        else:
            click.echo(text)

    def fail(self, errors: list[str]) -> None:
        if self.json:
            click.echo(json.dumps({"ok": False, "errors": errors}, indent=2))
        else:
            for error in errors:
                click.echo(click.style("Error: ", fg="red", bold=True) + error, err=True)
        sys.exit(1)


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain aligned table; values missing from a row print as '-'."""
    cells = [[str(row.get(c, "-")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def replicas_text(service: dict) -> str:
    """'running/desired' of a service as swarm_app_info describes it."""
    replicas = service.get("replicas") or {}
    return f"{replicas.get('running', '?')}/{replicas.get('desired', '?')}"

"""What commands print: a JSON document that says ok, or the errors."""

from __future__ import annotations

import json

import pytest

from sentinel_cli.output import Output


def test_json_results_say_ok(capsys):
    Output("json").emit({"apps": [], "changed": False}, "No apps yet.")
    assert json.loads(capsys.readouterr().out) == {"ok": True, "apps": [], "changed": False}


def test_text_results_are_the_text(capsys):
    Output("text").emit({"apps": []}, "No apps yet.")
    assert capsys.readouterr().out == "No apps yet.\n"


def test_json_errors_say_not_ok(capsys):
    with pytest.raises(SystemExit) as exit_:
        Output("json").fail(["app todo not found"])
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out) == {"ok": False, "errors": ["app todo not found"]}


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_warnings_go_to_stderr_in_both_formats(capsys, fmt):
    Output(fmt).warn("the receivers were not told of deploy: timed out")
    printed = capsys.readouterr()
    assert printed.out == "" and "Warning: the receivers were not told of deploy: timed out" in printed.err

"""Progress lines, failures and result from synthetic sentinel_events events."""

from __future__ import annotations

import pytest

from sentinel_cli.progress import ProgressPrinter


def task(name: str) -> dict:
    return {"event": "task_start", "task": name}


def result(kind: str, host: str = "node1", ignore_errors: bool = False, **res) -> dict:
    return {"event": kind, "task": "-", "host": host, "ignore_errors": ignore_errors, "res": res}


def stats(*failed_hosts: str, **result) -> dict:
    return {"event": "stats", "result": result, "failed_hosts": list(failed_hosts)}


def play(events: list[dict], verbose: int = 0) -> tuple[list[str], ProgressPrinter]:
    lines: list[str] = []
    printer = ProgressPrinter(lines.append, verbose)
    for event in events:
        printer(event)
    return [line.rsplit(",", 1)[0] for line in lines], printer  # without the time


def test_one_line_per_task_with_its_outcome_and_the_result():
    lines, printer = play(
        [
            task("Read every app"),
            result("ok", changed=False),
            task("Skipped everywhere"),
            task("Write the route"),
            result("ok", changed=True),
            task("Report"),
            result("ok"),
            stats(apps=[]),
        ]
    )
    assert lines == ["  Read every app  (ok", "  Write the route  (changed", "  Report  (ok"]
    assert printer.result == {"apps": []} and printer.changed == 1 and printer.errors == []


@pytest.mark.parametrize("kind", ["failed", "unreachable"])
def test_a_failed_task_shows_as_failed(kind):
    lines, printer = play([task("Read every app"), result(kind, msg="cannot   reach\n Docker"), stats("node1")])
    assert lines == [f"  Read every app  ({kind}"]
    assert printer.errors == ["cannot reach Docker"]


def test_a_manager_let_go_unreachable_shows_but_is_no_error():
    events = [task("Wait until every Traefik serves it"), result("ok", "node1")]
    lines, printer = play([*events, result("unreachable", "node3", ignore_errors=True, msg="down"), stats()])
    assert lines == ["  Wait until every Traefik serves it  (unreachable"]
    assert printer.errors == []


def test_the_worst_host_outcome_names_the_task():
    lines, _ = play([task("Join"), result("ok", "node1"), result("failed", "node2", msg="no"), result("ok", "node3")])
    assert lines == []  # the task has not ended yet: more hosts may report
    lines, _ = play([task("Join"), result("ok", "node1"), result("failed", "node2", msg="no"), task("Next")])
    assert lines == ["  Join  (failed"]


def test_ignored_failures_show_but_are_not_errors_and_the_last_failure_wins():
    lines, printer = play(
        [
            task("Try"),
            result("failed", ignore_errors=True, msg="ignored"),
            task("Inner"),
            result("failed", msg="rescued, then explained better"),
            task("Explain"),
            result("failed", msg=["app todo", "not found"]),
            stats("node1"),
        ]
    )
    assert lines == ["  Try  (failed", "  Inner  (failed", "  Explain  (failed"]
    assert printer.errors == ["app todo; not found"]


def test_a_host_whose_failure_was_rescued_is_not_in_the_errors():
    events = [task("Try"), result("failed", "node1", msg="rescued"), result("failed", "node2", msg="real")]
    _, printer = play([*events, task("Rescue"), result("ok", "node1"), stats("node2")])
    assert printer.errors == ["real"]
    _, interrupted = play(events)  # no stats to tell: every host's last failure
    assert interrupted.errors == ["real", "rescued"]


def test_a_failure_without_a_message_says_which_field_it_has():
    events = [
        task("Run"),
        result("failed", stderr="boom"),
        task("Reach"),
        result("unreachable", "n2"),
        stats("node1", "n2"),
    ]
    _, printer = play(events)
    assert printer.errors == ["boom", "failed"]


def test_verbose_gives_one_line_per_host():
    lines, _ = play([task("Join"), result("ok", "node1", changed=True), result("failed", "node2")], verbose=1)
    assert lines == ["  Join  (changed on node1", "  Join  (failed on node2"]


def test_the_modules_warnings_are_kept_once_each_in_one_line():
    warned = {"warnings": ["the receivers were not\n told of deploy"]}
    events = [task("Tell the receivers"), result("ok", "node1", **warned), result("ok", "node2", **warned)]
    _, printer = play([*events, task("Report"), result("ok", warnings=[]), stats()])
    assert printer.warnings == ["the receivers were not told of deploy"] and printer.errors == []

"""metrics_info's request counts, evaluated by a real promtool: a version whose counter appears
inside the window counts from 0 (its first requests count), where increase() would miss them."""

from __future__ import annotations

import yaml
from ansible_collections.sentinel.paas.plugins.module_utils import _metrics

SERIES = "traefik_service_requests_total"


def _test_file(expr: str, expected: list[dict]) -> dict:
    return {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                # Production's counter, there all along: 100 requests in the last 10 minutes.
                {"series": f'{SERIES}{{service="todo-prod@swarm",code="200",instance="a"}}', "values": "100+10x20"},
                # The canary's counters appear at minutes 12 and 13: its first 20 answers fail, and
                # that counter never moves again (increase() of it is 0).
                {"series": f'{SERIES}{{service="todo-canary@file",code="500",instance="a"}}', "values": "_x12 20+0x10"},
                {"series": f'{SERIES}{{service="todo-canary@file",code="200",instance="a"}}', "values": "_x13 5+5x8"},
            ],
            "promql_expr_test": [{"expr": expr, "eval_time": "19m", "exp_samples": expected}],
        }],
    }  # fmt: skip


def _run(promtool, tmp_path, expected) -> tuple[int, str]:
    tmp_path.chmod(0o755)
    path = tmp_path / "counts.test.yml"
    path.write_text(yaml.safe_dump(_test_file(_metrics.requests_by_code("todo", "10m"), expected)))
    path.chmod(0o644)
    return promtool(tmp_path, "test", "rules", path.name)


def _expected(failed_canary: int) -> list[dict]:
    return [
        {"labels": '{service="todo-prod@swarm",code="200"}', "value": 100},
        {"labels": '{service="todo-canary@file",code="500"}', "value": failed_canary},
        {"labels": '{service="todo-canary@file",code="200"}', "value": 35},
    ]


def test_a_counter_born_inside_the_window_counts_in_full(promtool, tmp_path):
    status, output = _run(promtool, tmp_path, _expected(failed_canary=20))
    assert status == 0 and "SUCCESS" in output, output


def test_the_check_can_fail(promtool, tmp_path):
    """What increase() would say of the failing canary (0) is not what the query gives."""
    status, output = _run(promtool, tmp_path, _expected(failed_canary=0))
    assert status != 0 and "todo-canary@file" in output, output

"""The shipped alert rules, unit-tested by a real promtool (`promtool test rules`).

The rules are a template of the prometheus role (templates/sentinel.rules.yml.j2), rendered here
by Ansible as the role renders it (fixture prometheus_rules in conftest.py). promtool runs inside
the Prometheus test image (fixture promtool in conftest.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from ansible_collections.sentinel.paas.plugins.module_utils import _naming

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "roles" / "prometheus" / "templates" / "sentinel.rules.yml.j2"
RULES_NAME = "sentinel.rules.yml"
RULE_TESTS = Path(__file__).parent / "prometheus" / "sentinel.rules.test.yml"
APP_SERVICES = _naming.traefik_service_regex(("prod", "canary"))


def _exprs(rules: Path) -> dict[str, str]:
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule.get("record") or rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


# -- the template, without promtool ---------------------------------------------------
def test_template_spells_no_service_name_pattern_itself():
    """The prod/canary pattern comes from _naming.py through the role's vars, not from the template."""
    text = TEMPLATE.read_text()
    assert "(prod|canary)" not in text
    assert text.startswith("{{ ansible_managed | comment }}\n")


def test_recording_rules_match_and_split_traefik_service_names_with_naming_regex(prometheus_rules):
    exprs = _exprs(prometheus_rules)
    for record in ("sentinel_app:requests:rate5m", "sentinel_app:errors_5xx:rate5m"):
        assert f'service=~"{APP_SERVICES}"' in exprs[record]
        assert f'"app", "$1", "service", "{APP_SERVICES}"' in exprs[record]
        assert f'"version", "$2", "service", "{APP_SERVICES}"' in exprs[record]
    # Group 1 and 2 are what label_replace takes as $1 (app) and $2 (version).
    for app in ("todo", "my-shop", "a-prod"):
        for role in ("prod", "canary"):
            match = re.fullmatch(APP_SERVICES, f"{_naming.service_name(app, role)}@swarm")
            assert match and match.groups() == (app, role)


def test_prometheus_templates_stay_for_prometheus(prometheus_rules):
    """Jinja renders only the regex; Prometheus' own {{ $labels.x }} and {{ $value }} reach the file."""
    text = prometheus_rules.read_text()
    assert text.startswith("#\n# ") and "\n#\n---\n" in text  # the ansible_managed comment, then the document
    assert "{{ $labels.app }}" in text and "{{ $value | humanizePercentage }}" in text
    assert "{#" not in text and "{%" not in text


def test_disk_alert_threshold_is_the_role_variable(prometheus_rules):
    """prometheus_disk_full_ratio (default 0.9) is rendered into NodeDiskAlmostFull, read-only mounts left out."""
    assert "{{ prometheus_disk_full_ratio | float }}" in TEMPLATE.read_text()
    expr = _exprs(prometheus_rules)["NodeDiskAlmostFull"]
    assert " >= 0.9\n" in expr
    assert "unless on (instance, mountpoint) node_filesystem_readonly == 1" in expr


# -- promtool -------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path, prometheus_rules):
    tmp_path.chmod(0o755)
    for source, name in ((prometheus_rules, RULES_NAME), (RULE_TESTS, RULE_TESTS.name)):
        shutil.copy(source, tmp_path / name)
        (tmp_path / name).chmod(0o644)
    return tmp_path


def test_rules_are_valid(promtool, workdir):
    status, output = promtool(workdir, "check", "rules", RULES_NAME)
    assert status == 0, output
    assert "SUCCESS: 14 rules found" in output  # 4 recording rules, 10 alerts


def test_rules_behave_as_their_unit_tests_say(promtool, workdir):
    status, output = promtool(workdir, "test", "rules", RULE_TESTS.name)
    assert status == 0, output
    assert "SUCCESS" in output


def test_the_rule_tests_can_fail(promtool, workdir):
    """A margin of 50 points instead of 5 must break the canary test: the tests really look."""
    rules = workdir / RULES_NAME
    rules.write_text(rules.read_text().replace("+ 0.05)", "+ 0.50)"))
    status, output = promtool(workdir, "test", "rules", RULE_TESTS.name)
    assert status != 0
    assert "CanaryErrorRateAboveProduction" in output


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (" >= 0.9\n", " >= 0.96\n"),  # the 95% full disk no longer alerts
        ("unless on (instance, mountpoint) node_filesystem_readonly == 1", ""),  # the read-only mount alerts
        ("for: 10m", "for: 9m"),  # alerts before its 10 minutes
    ],
)
def test_the_disk_rule_tests_can_fail(promtool, workdir, old, new):
    """Each part of NodeDiskAlmostFull changed (its own lines only) breaks its tests."""
    rules = workdir / RULES_NAME
    others, disk = rules.read_text().split("- alert: NodeDiskAlmostFull")
    assert old in disk
    rules.write_text(others + "- alert: NodeDiskAlmostFull" + disk.replace(old, new))
    status, output = promtool(workdir, "test", "rules", RULE_TESTS.name)
    assert status != 0
    assert "NodeDiskAlmostFull" in output

"""sentinel config's changes: pairs parsed, keys refused with a reason, and the plan swarm_app gets."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _config as c

CURRENT = {"env": {"A": "1", "B": "2"}, "secret_env": {"TOKEN": "sentinel-todo-env-TOKEN-3"}}


@pytest.mark.parametrize(
    ("given", "pairs"),
    [
        ({"A": "1", "N": 2}, {"A": "1", "N": "2"}),
        (["A=1", "B=x=y"], {"A": "1", "B": "x=y"}),
        ("A=1, B=2", {"A": "1", "B": "2"}),
        ("HOSTS=a.com,b.com, B=2", {"HOSTS": "a.com,b.com", "B": "2"}),  # a comma starts a pair only before KEY=
        ("HOSTS=a.com,b.com\nC=", {"HOSTS": "a.com,b.com", "C": ""}),  # lines: commas are values
        ("", {}),
        (None, {}),
    ],
)
def test_pairs_come_as_a_mapping_a_list_or_an_awx_answer(given, pairs):
    assert c.parse_pairs(given) == pairs


def test_a_malformed_pair_names_its_key_only():
    with pytest.raises(ValueError, match="malformed pair 'hunter2'"):
        c.parse_pairs(["hunter2"])


PEM = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B=AQEF\n-----END KEY-----"


def test_a_secret_keeps_every_character_and_is_never_quoted():
    assert c.parse_pairs({"TLS_KEY": PEM}, secret=True) == {"TLS_KEY": PEM}
    assert c.parse_pairs([f"TLS_KEY={PEM}"], secret=True) == {"TLS_KEY": PEM}
    with pytest.raises(ValueError, match="as a mapping") as text:
        c.parse_pairs(f"TLS_KEY={PEM}", secret=True)
    with pytest.raises(ValueError, match="malformed secret #2") as malformed:
        c.parse_pairs(["A=1", PEM.replace("=", "")], secret=True)
    assert "MIIE" not in str(text.value) + str(malformed.value)
    plan = c.plan(CURRENT, secret={"TLS_KEY": PEM})
    assert plan["secret_env"] == {"TLS_KEY": PEM} and plan["summary"] == "config secret TLS_KEY"


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "empty key"),
        ("1A", "invalid key '1A'"),
        ("A-B", "invalid key"),
        ("PGHOST", "reserved key PGHOST"),
        ("pgpassfile", "reserved key"),
        ("SENTINEL_X", "reserved key SENTINEL_X"),
    ],
)
def test_bad_keys_say_why(key, why):
    assert why in c.key_error(key)


def test_good_keys_pass():
    assert c.key_error("GREETING") is None and c.key_error("_x1") is None


def test_setting_merges_into_the_environment():
    plan = c.plan(CURRENT, set_={"B": "3", "C": "4"})
    assert plan == {
        "errors": [],
        "env": {"A": "1", "B": "3", "C": "4"},
        "secret_env": None,
        "summary": "config set B, C",
    }


def test_a_secret_changes_alone_and_a_key_is_a_value_or_a_secret():
    plan = c.plan(CURRENT, secret={"API": "s3cret", "A": "now-secret"})
    assert plan["env"] == {"B": "2"} and plan["secret_env"] == {"API": "s3cret", "A": "now-secret"}
    assert "s3cret" not in plan["summary"] and plan["summary"] == "config secret A, API"
    as_value = c.plan(CURRENT, set_={"TOKEN": "plain"})
    assert as_value["env"]["TOKEN"] == "plain" and as_value["secret_env"] == {"TOKEN": None}


def test_unset_removes_a_value_or_a_secret():
    plan = c.plan(CURRENT, unset="A,TOKEN")
    assert plan["env"] == {"B": "2"} and plan["secret_env"] == {"TOKEN": None}
    assert plan["summary"] == "config unset A, TOKEN"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, "nothing to change"),
        ({"set_": ["A"]}, "malformed pair 'A'"),
        ({"set_": {"PGUSER": "x"}}, "reserved key PGUSER"),
        ({"set_": {"": "x"}}, "empty key"),
        ({"unset": ["NOPE"]}, "NOPE is not set"),
        ({"set_": {"A": "1"}, "secret": {"A": "2"}}, "A is set as a value and as a secret"),
        ({"set_": {"A": "1"}, "unset": ["A"]}, "A is both set and unset"),
    ],
)
def test_bad_changes_are_refused_with_the_reason(change, why):
    plan = c.plan(CURRENT, **change)
    assert any(why in e for e in plan["errors"]), plan["errors"]
    assert plan["env"] is None and plan["secret_env"] is None

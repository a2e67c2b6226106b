"""The filters of plugins/filter/validation.py as playbooks call them, and the answers their docs show."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.filter import validation

FILTERS = validation.FilterModule().filters()


def test_the_filters_are_registered():
    assert set(FILTERS) == {
        "app_name_error", "domain_errors", "preview_header_error", "rollout_errors", "taken_domain_errors",
        "weight_error",
    }  # fmt: skip


@pytest.mark.parametrize(("name", "why"), [("X-QA-Canary", ""), ("X QA", "letters, digits"), ("cookie", "itself")])
def test_preview_headers_say_why_they_cannot_be_used(name, why):
    answer = FILTERS["preview_header_error"](name)
    assert answer == "" if not why else why in answer and answer.startswith("invalid preview header")


def test_rollout_filters_use_the_modules_rules_and_blank_takes_the_defaults():
    assert FILTERS["rollout_errors"]({"steps": "10,5", "interval": ""}) == [
        "invalid steps '10,5': weights must be strictly increasing"
    ]


@pytest.mark.parametrize("name", ["todo", "a", "my-app2", "x" * 31])
def test_good_app_names_give_an_empty_string(name):
    assert FILTERS["app_name_error"](name) == ""


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Todo", "invalid app name 'Todo': use 1-31 lowercase letters, digits and hyphens"),
        ("", "invalid app name ''"),
        ("todo-", "invalid app name 'todo-'"),
        ("2do", "invalid app name '2do'"),
        ("x" * 32, "invalid app name"),
        (None, "invalid app name None"),
        (7, "invalid app name 7"),
        ("edge", "reserved by the platform"),
    ],
)
def test_bad_app_names_say_why(name, why):
    assert why in FILTERS["app_name_error"](name)


@pytest.mark.parametrize(
    "domains",
    [
        ["todo.example.com"],
        ["todo.example.com", "www.todo.example.com"],
        "todo.example.com",
        "a.example.com, b.example.com",
    ],
)
def test_good_domains_give_an_empty_list(domains):
    assert FILTERS["domain_errors"](domains) == []


@pytest.mark.parametrize(
    ("domains", "errors"),
    [
        ([], ["give at least one domain"]),
        ("", ["invalid domain '': empty"]),
        (None, ["give at least one domain"]),
        ({"todo.example.com": 1}, ["give at least one domain"]),
        (["todo"], ["invalid domain 'todo': needs at least one dot (a full host name like app.example.com)"]),
        (["ok.example.com", "bad_one.example.com", "x.example.com."], ["bad_one", "must not end with a dot"]),
    ],
)
def test_bad_domains_get_one_message_each(domains, errors):
    found = FILTERS["domain_errors"](domains)
    assert all(expected in message for expected, message in zip(errors, found, strict=True))


def test_domain_errors_example_from_its_docs():
    found = FILTERS["domain_errors"]("todo.example.com, *.example.com")
    assert len(found) == 1 and found[0].startswith("invalid domain '*.example.com': wildcards are not supported")
    assert found[0].endswith("list each host name")


@pytest.mark.parametrize("weight", [0, 10, 100, 10.0, "10", " 25 "])
def test_good_weights_give_an_empty_string(weight):
    assert FILTERS["weight_error"](weight) == ""


@pytest.mark.parametrize("weight", [-1, 101, 150, 10.5, "ten", "", None, True, False, [10]])
def test_bad_weights_say_why(weight):
    assert FILTERS["weight_error"](weight).startswith("invalid weight")


def test_weight_error_example_from_its_docs():
    assert FILTERS["weight_error"](150) == (
        "invalid weight 150: give the canary's share of traffic as a whole number from 0 to 100 "
        "(production gets the rest)"
    )


def test_taken_domains_name_their_owner_and_an_apps_own_domains_are_fine():
    owners = {"todo.example.com": "todo"}
    assert FILTERS["taken_domain_errors"](["todo.example.com"], "todo", owners) == []
    assert FILTERS["taken_domain_errors"](["new.example.com"], "evil", owners) == []
    assert FILTERS["taken_domain_errors"](["TODO.example.com"], "evil", owners) == [
        "domain todo.example.com is routed by app todo: a domain belongs to one app (change or destroy todo first)"
    ]

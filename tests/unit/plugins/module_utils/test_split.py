"""The split document: weights, cookie names, build / render / parse / compare."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.sentinel.paas.plugins.module_utils import _split


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (10, 10),
        (100, 100),
        ("10", 10),
        (" 10 ", 10),
        ("0", 0),
        ("+5", 5),
        (10.0, 10),
        (0.0, 0),
    ],
)
def test_weight_accepts_whole_numbers_from_0_to_100(value, expected):
    assert _split.parse_weight(value) == expected
    assert isinstance(_split.parse_weight(value), int) and not isinstance(_split.parse_weight(value), bool)


@pytest.mark.parametrize(
    "value",
    [10.5, 0.1, True, False, -1, 101, "-1", "101", "abc", "", "10.0", "1e1", "0x10", None, [10], {"w": 10}],
)
def test_weight_rejects_everything_else_with_a_clear_message(value):
    with pytest.raises(ValueError, match=r"invalid weight .*whole number from 0 to 100"):
        _split.parse_weight(value)


@pytest.mark.parametrize("name", ["sentinel_todo", "a", "SESSION-id.v2", "x!#$%&'*+-.^_`|~"])
def test_cookie_names_that_are_rfc6265_tokens(name):
    assert _split.cookie_name_error(name) is None


@pytest.mark.parametrize(
    "name", ["", "a\n", "a b", "a;b", "a=b", 'a"b', "a,b", "a/b", "a\tb", "a\nb", "é", "a:b", "(a)", "a@b", None, 5]
)
def test_cookie_names_that_are_not_tokens(name):
    assert "invalid cookie name" in _split.cookie_name_error(name)


def test_desired_document_splits_prod_and_guarded_canary_with_a_sticky_cookie():
    document = _split.desired_document("todo", 10, "sentinel_todo", secure=True, port=8000)
    weighted = document["http"]["services"]["todo-split"]["weighted"]
    assert weighted["services"] == [
        {"name": "todo-prod@swarm", "weight": 90},
        {"name": "todo-canary-guard", "weight": 10},
    ]
    assert weighted["sticky"] == {
        "cookie": {"name": "sentinel_todo", "secure": True, "httpOnly": True, "sameSite": "lax"}
    }
    # The canary's share answers from production whenever the canary cannot.
    assert document["http"]["services"]["todo-canary-guard"] == {
        "failover": {
            "service": "todo-canary@file",
            "fallback": "todo-prod@swarm",
            "errors": {"status": ["502-504"], "maxRequestBodyBytes": 1048576},
        }
    }
    # The canary's own service: its Swarm DNS name, so it exists even without tasks.
    assert document["http"]["services"]["todo-canary"] == {
        "loadBalancer": {"servers": [{"url": "http://todo-canary:8000"}]}
    }


def test_a_split_written_before_the_guard_keeps_its_weights():
    legacy = {
        "http": {
            "services": {
                "todo-split": {
                    "weighted": {
                        "services": [
                            {"name": "todo-prod@swarm", "weight": 70},
                            {"name": "todo-canary@swarm", "weight": 30},
                        ]
                    }
                }
            }
        }
    }
    assert _split.read_split(legacy, "todo")["weights"] == {"prod": 70, "canary": 30}


@pytest.mark.parametrize("weight", [0, 1, 50, 99, 100])
def test_rendered_text_parses_back_to_the_document_and_to_the_same_weights(weight):
    document = _split.desired_document("my-app", weight, "c", secure=False, port=8000)
    text = _split.render("my-app", document)
    assert text.startswith("# Managed by sentinel.paas.canary_weights")
    assert _split.parse(text) == document
    assert _split.read_split(_split.parse(text), "my-app") == {
        "weights": {"prod": 100 - weight, "canary": weight},
        "cookie_name": "c",
        "secure": False,
        "port": 8000,
        "baseline_port": 0,
    }


def test_a_baseline_takes_as_much_as_the_canary_through_its_own_guard():
    document = _split.desired_document("todo", 20, "c", secure=False, port=8080, baseline_port=8000)
    services = document["http"]["services"]
    children = {c["name"]: c["weight"] for c in services["todo-split"]["weighted"]["services"]}
    assert children == {"todo-prod@swarm": 60, "todo-canary-guard": 20, "todo-baseline-guard": 20}
    assert services["todo-baseline-guard"]["failover"] == {
        "service": "todo-baseline@file",
        "fallback": "todo-prod@swarm",
        "errors": {"status": ["502-504"], "maxRequestBodyBytes": 1048576},
    }
    assert services["todo-baseline"]["loadBalancer"]["servers"] == [{"url": "http://todo-baseline:8000"}]
    read = _split.read_split(_split.parse(_split.render("todo", document)), "todo")
    assert read["weights"] == {"prod": 60, "canary": 20, "baseline": 20}
    assert (read["port"], read["baseline_port"]) == (8080, 8000)
    # Omitted, it is kept; 0 takes it out.
    kept = _split.effective_settings("todo", {"weight": 30}, read)
    assert kept["baseline_port"] == 8000 and kept["canary_weight"] == 30
    assert _split.effective_settings("todo", {"baseline_port": 0}, read)["baseline_port"] == 0
    assert _split.effective_settings("todo", {}, {})["baseline_port"] == 0


def test_with_a_baseline_the_canary_gets_at_most_33_and_production_keeps_the_largest_share():
    document = _split.desired_document("todo", 33, "c", False, 8000, baseline_port=8000)
    assert document["http"]["services"]["todo-split"]["weighted"]["services"][0]["weight"] == 34
    with pytest.raises(ValueError, match="with a baseline: the baseline takes as much as the canary"):
        _split.desired_document("todo", 34, "c", False, 8000, baseline_port=8000)


def test_render_is_stable():
    document = _split.desired_document("todo", 30, "k", secure=False, port=8000)
    assert _split.render("todo", document) == _split.render(
        "todo", _split.desired_document("todo", 30, "k", False, port=8000)
    )


def test_comments_key_order_and_child_order_do_not_count_as_differences():
    desired = _split.desired_document("todo", 10, "sentinel_todo", secure=False, port=8000)
    weighted = desired["http"]["services"]["todo-split"]["weighted"]
    reordered = {
        "http": {
            "services": {
                "todo-split": {
                    "weighted": {
                        "sticky": {"cookie": dict(reversed(list(weighted["sticky"]["cookie"].items())))},
                        "services": list(reversed(weighted["services"])),
                    }
                },
                "todo-canary-guard": desired["http"]["services"]["todo-canary-guard"],
                "todo-canary": desired["http"]["services"]["todo-canary"],
            }
        }
    }
    text = "# edited by someone\n" + yaml.safe_dump(reordered, sort_keys=False) + "# trailing note\n"
    assert _split.differences(_split.normalise(_split.parse(text)), _split.normalise(desired)) == []


def test_differences_name_the_changed_fields():
    current = _split.normalise(_split.desired_document("todo", 10, "a", secure=False, port=8000))
    desired = _split.normalise(_split.desired_document("todo", 50, "b", secure=False, port=8000))
    assert _split.differences(current, desired) == [
        "http.services.todo-split.weighted.services.todo-canary-guard.weight",
        "http.services.todo-split.weighted.services.todo-prod@swarm.weight",
        "http.services.todo-split.weighted.sticky.cookie.name",
    ]


def test_differences_count_an_extra_or_missing_subtree_once():
    desired = _split.normalise(_split.desired_document("todo", 10, "a", secure=False, port=8000))
    current = _split.normalise(_split.desired_document("todo", 10, "a", secure=False, port=8000))
    current["http"]["routers"] = {"sneaky": {"rule": "PathPrefix(`/`)"}}
    del current["http"]["services"]["todo-split"]["weighted"]["sticky"]
    assert _split.differences(current, desired) == ["http.routers", "http.services.todo-split.weighted.sticky"]


@pytest.mark.parametrize("current", [None, "text", [], {"http": None}, {"http": {"services": {}}}])
def test_differences_of_foreign_documents(current):
    desired = _split.normalise(_split.desired_document("todo", 10, "a", secure=False, port=8000))
    assert _split.differences(_split.normalise(current), desired)


def test_duplicate_children_are_not_collapsed_into_one():
    document = _split.desired_document("todo", 10, "a", secure=False, port=8000)
    weighted = document["http"]["services"]["todo-split"]["weighted"]
    weighted["services"].append({"name": "todo-canary-guard", "weight": 10})
    desired = _split.normalise(_split.desired_document("todo", 10, "a", secure=False, port=8000))
    assert _split.differences(_split.normalise(document), desired) == ["http.services.todo-split.weighted.services"]


@pytest.mark.parametrize("text", ["http: [unclosed", "a: b: c", "\t- x"])
def test_parse_rejects_invalid_yaml(text):
    with pytest.raises(ValueError, match="not valid YAML"):
        _split.parse(text)


@pytest.mark.parametrize(
    "document",
    [
        None,
        {},
        {"http": {"services": {"other-split": {}}}},
        {"http": {"services": {"todo-split": {"loadBalancer": {}}}}},
        {"http": {"services": {"todo-split": {"weighted": {"services": [{"name": "todo-prod@swarm", "weight": 1}]}}}}},
    ],
)
def test_read_split_rejects_documents_without_the_split(document):
    with pytest.raises(ValueError, match="no weighted service todo-split"):
        _split.read_split(document, "todo")


def test_the_canary_cookie_value_is_the_one_traefik_sets():
    # Set-Cookie from the real traefik v3.7 for the child app-canary-guard of a weighted service.
    assert _split.side_cookie_value("app", "canary") == "edbc1b1c9284f254"

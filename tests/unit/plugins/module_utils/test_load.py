"""The load generator's request checks, settings and service (canary_load's pure part)."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _load

GOOD = {"name": "todo", "state": "present", "path": "/api/todos?page=1", "rps": 20, "seconds": 600}


def test_a_good_request_has_no_errors_and_absent_needs_only_the_name():
    assert _load.request_errors(GOOD) == []
    assert _load.request_errors({"name": "todo", "state": "absent", "path": "", "rps": 0, "seconds": 0}) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Todo"}, "invalid app name 'Todo'"),
        ({"path": "api"}, "invalid path 'api'"),
        ({"path": "/a b"}, "without spaces"),
        ({"rps": 0}, "invalid rps 0"),
        ({"rps": 501}, "1 to 500 requests a second"),
        ({"seconds": 0}, "invalid seconds 0"),
    ],
)
def test_each_bad_field_is_named(change, message):
    errors = _load.request_errors({**GOOD, **change})
    assert len(errors) == 1 and message in errors[0], errors


def test_settings_go_through_traefik_to_the_apps_domain_with_the_canary_cookie():
    plain = _load.settings("todo.example.com", False, "/api", 20, 600, ["c=v"])
    assert plain["SENTINEL_LOAD_URL"] == "http://todo.example.com/api"
    assert (plain["SENTINEL_LOAD_EDGE"], plain["SENTINEL_LOAD_RPS"], plain["SENTINEL_LOAD_COOKIES"]) == (
        "tasks.sentinel-traefik",
        "20",
        "c=v",
    )
    assert (
        _load.settings("todo.example.com", True, "/", 1, 1, ["c=v"])["SENTINEL_LOAD_URL"] == "https://todo.example.com/"
    )


def test_the_service_runs_the_script_once_on_the_edge_network_and_reads_back_its_settings():
    env = _load.settings("todo.example.com", False, "/", 5, 60, ["c=v", "c=w"])
    assert env["SENTINEL_LOAD_COOKIES"] == "c=v c=w"
    spec = _load.service_spec("todo", "traefik:v3.7", env, "edge-id")
    assert spec["name"] == "sentinel-load-todo" and spec["labels"] == {"sentinel.load": "todo"}
    template = spec["task_template"]
    assert template["RestartPolicy"] == {"Condition": "none"} and template["Networks"] == [{"Target": "edge-id"}]
    assert template["ContainerSpec"]["Command"][:2] == ["/bin/sh", "-c"]
    assert _load.running_settings({"Spec": {"TaskTemplate": template}}) == env
    assert _load.running_settings(None) is None

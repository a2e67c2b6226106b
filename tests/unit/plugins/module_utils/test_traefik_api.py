"""_traefik_api: reading what a Traefik serves from its API's rawdata, the fetch and reach commands.

The rawdata here has the shape Traefik v3.7 answers (names as the configuration gives them, a
router's same-provider service without its provider); tests/integration proves it against the
real Traefik of the test Swarm.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _split, _traefik_api
from http_stub import serving

APP = "todo"


def rawdata(service="todo-prod", status="enabled", split=None) -> dict:
    data = {"routers": {"todo@swarm": {"service": service, "status": status, "rule": "Host(`todo.test`)"}}}
    if split is not None:
        data["services"] = {"todo-split@file": {"weighted": {"services": split}, "status": "enabled"}}
    return data


@pytest.mark.parametrize(
    "data, expected",
    [
        (rawdata("todo-prod"), "todo-prod@swarm"),  # same provider: Traefik leaves the provider out
        (rawdata("todo-split@file"), "todo-split@file"),
        (rawdata("todo-prod", status="disabled"), None),  # a router in error serves nothing
        (rawdata("todo-prod", status="warning"), "todo-prod@swarm"),  # a non-critical error: it still serves
        ({"routers": {}}, None),
        ({}, None),
        ({"routers": {"todo2@swarm": {"service": "todo2-prod", "status": "enabled"}}}, None),
    ],
)
def test_routed_service(data, expected):
    assert _traefik_api.routed_service(data, APP) == expected


def test_route_targets_follow_traefik_route_names():
    assert _traefik_api.route_target(APP, "prod") == "todo-prod@swarm"
    assert _traefik_api.route_target(APP, "split") == "todo-split@file"


def test_the_file_and_what_traefik_loaded_compare_alike():
    document = _split.desired_document(APP, 10, "sentinel_todo", False, 8000)
    written = _traefik_api.document_children(document, APP)
    assert written == {"todo-prod@swarm": 90, "todo-canary-guard": 10}
    loaded = [{"name": "todo-prod@swarm", "weight": 90}, {"name": "todo-canary-guard", "weight": 10}]
    assert _traefik_api.split_children(rawdata(split=loaded), APP) == written
    assert _traefik_api.split_children(rawdata(split=loaded[:1]), APP) != written
    assert _traefik_api.split_children(rawdata(), APP) is None
    assert _traefik_api.document_children(None, APP) is None


@pytest.fixture(scope="module")
def api_url():
    def answer(request):
        return (200, json.dumps(rawdata()).encode()) if request.path == "/api/rawdata" else (404, b"404")

    with serving(answer) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def _only(tmp_path, client: str) -> dict:
    """An environment whose PATH has sh and just one HTTP client, as a Traefik image has."""
    folder = tmp_path / client
    folder.mkdir()
    for tool in sorted({"sh", client}):
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed on this machine")
        os.symlink(found, folder / tool)
    return {"PATH": str(folder)}


@pytest.mark.parametrize("client", ["wget", "curl"])  # busybox wget in the official image; curl in others
def test_fetch_command_gets_the_url_with_either_client(api_url, tmp_path, client):
    env = _only(tmp_path, client)
    answer = subprocess.run(
        _traefik_api.fetch_command(f"{api_url}/api/rawdata"), env=env, capture_output=True, text=True, check=False
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == rawdata()
    missing = subprocess.run(
        _traefik_api.fetch_command(f"{api_url}/nothing"), env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0  # an error page is not an answer


def test_fetch_command_keeps_the_url_out_of_the_shell_text():
    url = "http://127.0.0.1:8080/api/rawdata?x=$(touch /tmp/pwned)"
    argv = _traefik_api.fetch_command(url)
    assert argv[-1] == url and url not in argv[2]


@pytest.fixture(scope="module")
def answering_url():
    """A server that answers 200 on / and 503 elsewhere: both are answers."""
    with serving(lambda request: (200, b"ok") if request.path == "/" else (503, b"starting")) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("client", ["wget", "curl"])
def test_reach_command_takes_any_answer_and_nothing_else(answering_url, tmp_path, client):
    env = _only(tmp_path, client)

    def reaches(url: str) -> bool:
        argv = _traefik_api.reach_command(url, timeout=2)
        return subprocess.run(argv, env=env, capture_output=True, check=False).returncode == 0

    assert reaches(answering_url) and reaches(f"{answering_url}/busy")
    with socket.socket() as closed:  # a port nothing listens on: refused
        closed.bind(("127.0.0.1", 0))
        assert not reaches(f"http://127.0.0.1:{closed.getsockname()[1]}")
    assert not reaches("http://no-such-name.invalid:8000")


def test_reach_command_without_a_client_reaches_nothing(answering_url, tmp_path):
    argv = _traefik_api.reach_command(answering_url, timeout=2)
    assert subprocess.run(argv, env=_only(tmp_path, "sh"), capture_output=True, check=False).returncode != 0


def test_side_urls_are_the_load_balancers_of_a_split_document():
    document = _split.desired_document(APP, 30, "sentinel-todo", False, 8000, baseline_port=8001)
    assert _traefik_api.side_urls(document) == {
        "todo-canary": "http://todo-canary:8000",
        "todo-baseline": "http://todo-baseline:8001",
    }
    assert _traefik_api.side_urls(None) == {}


@pytest.mark.parametrize(
    ("router", "served"),
    [({"status": "enabled"}, True), ({"status": "warning"}, True), ({"status": "disabled"}, False), (None, False)],
    ids=["enabled", "warning", "disabled-for-a-missing-service", "none"],
)
def test_serves_router_only_a_router_traefik_takes_traffic_with(router, served):
    rawdata = {"routers": {"todo-maintenance@file": router} if router else {"todo@swarm": {"status": "enabled"}}}
    assert _traefik_api.serves_router(rawdata, "todo-maintenance", "file") is served
    assert _traefik_api.serves_router(rawdata, "todo-maintenance", "swarm") is False

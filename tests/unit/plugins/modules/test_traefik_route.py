"""traefik_route and traefik_route_info run whole, with the engine replaced by an in-memory service.

What these prove is the module's own logic (validation first, changed before write, check mode,
absent); that the engine really takes the labels without restarting tasks is proven by
tests/integration/test_traefik_route_on_cluster.py.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode

import pytest
from ansible_collections.sentinel.paas.plugins.modules import traefik_route, traefik_route_info
from module_harness import fail, run

OTHER = {"sentinel.app": "todo", "traefik.http.services.todo-prod.loadbalancer.server.port": "8000"}


class MemorySwarm:
    """Holds one service's labels; counts writes."""

    instances: list[MemorySwarm] = []
    services: dict[str, dict] = {}
    documents: dict[str, dict] = {}

    def __init__(self, module):
        self.writes = 0
        MemorySwarm.instances.append(self)

    def service(self, name):
        labels = self.services.get(name)
        return None if labels is None else {"Spec": {"Name": name, "Labels": dict(labels)}}

    def app_services(self, role):
        return [
            {"Spec": {"Name": name, "Labels": dict(labels)}}
            for name, labels in self.services.items()
            if labels.get("sentinel.app") and name.endswith(f"-{role}")
        ]

    def set_service_labels(self, name, build_labels):
        self.writes += 1
        self.services[name] = build_labels(dict(self.services[name]))

    # The maintenance document's versions, as Docker configs (module_utils/_traefik_files).
    def configs(self, labels):
        return [c for c in self.documents.values() if labels.items() <= c["Spec"]["Labels"].items()]

    def create_config(self, name, data, labels):
        self.writes += 1
        self.documents[name] = {"ID": name, "Spec": {"Name": name, "Labels": labels, "Data": b64encode(data).decode()}}

    def remove_config(self, config_id):
        self.writes += 1
        del self.documents[config_id]


@pytest.fixture(autouse=True)
def patched(monkeypatch):
    monkeypatch.setattr(traefik_route, "Swarm", MemorySwarm)
    monkeypatch.setattr(traefik_route_info, "Swarm", MemorySwarm)
    MemorySwarm.instances = []
    MemorySwarm.services = {"todo-prod": dict(OTHER)}
    MemorySwarm.documents = {}


def writes() -> int:
    return sum(s.writes for s in MemorySwarm.instances)


ARGS = {"name": "todo", "domains": ["todo.example.com"], "_ansible_diff": True}


def test_check_apply_check_apply():
    check = run(traefik_route, ARGS, check=True)
    assert check["changed"] and writes() == 0
    assert MemorySwarm.services["todo-prod"] == OTHER
    applied = run(traefik_route, ARGS)
    assert applied["changed"] and writes() == 1
    assert applied["changes"] == check["changes"] and applied["diff"] == check["diff"]
    labels = MemorySwarm.services["todo-prod"]
    assert labels == {**OTHER, **applied["labels"]}
    assert not run(traefik_route, ARGS, check=True)["changed"]
    assert not run(traefik_route, ARGS)["changed"] and writes() == 1


def test_change_reports_only_changed_labels():
    run(traefik_route, ARGS)
    result = run(traefik_route, {**ARGS, "retry_attempts": 5})
    assert result["changes"] == ["traefik.http.middlewares.todo-retry.retry.attempts"]


def test_absent_removes_owned_labels_and_is_idempotent():
    run(traefik_route, ARGS)
    removed = run(traefik_route, {"name": "todo", "state": "absent", "_ansible_diff": True})
    assert removed["changed"] and removed["diff"]["after"] == {"labels": {}, "maintenance_file": None}
    assert MemorySwarm.services["todo-prod"] == OTHER
    assert not run(traefik_route, {"name": "todo", "state": "absent"})["changed"]


def test_absent_without_service_is_not_an_error():
    result = run(traefik_route, {"name": "gone", "state": "absent"})
    assert not result["changed"] and result["route"] is None


def maintenance_document() -> dict | None:
    versions = [c for c in MemorySwarm.documents.values() if c["Spec"]["Labels"]["sentinel.traefik.file"] == FILE]
    assert len(versions) <= 1, versions
    return json.loads(b64decode(versions[0]["Spec"]["Data"])) if versions else None


FILE = "todo-maintenance.yml"


def test_maintenance_is_a_document_served_without_tasks_and_a_record_on_the_labels_in_four_steps():
    run(traefik_route, ARGS)
    on = {**ARGS, "maintenance": True, "maintenance_message": "Back soon"}
    check = run(traefik_route, on, check=True)
    assert check["changed"] and maintenance_document() is None
    assert sorted(check["changes"]) == [
        f"file {FILE}",
        "sentinel.maintenance.message",
        "sentinel.maintenance.retry-after",
    ]
    applied = run(traefik_route, on)
    assert applied["changes"] == check["changes"] and applied["diff"] == check["diff"]
    router = maintenance_document()["http"]["routers"]["todo-maintenance"]
    assert router["service"] == "sentinel-maintenance@swarm" and router["rule"] == "Host(`todo.example.com`)"
    assert json.loads(applied["diff"]["after"]["maintenance_file"]) == maintenance_document()
    assert MemorySwarm.services["todo-prod"]["sentinel.maintenance.message"] == "Back soon"
    for check_mode in (True, False):
        assert not run(traefik_route, on, check=check_mode)["changed"]
    # A new message is a new version of the document; off removes it; absent removes one left without the app.
    assert run(traefik_route, {**on, "maintenance_message": "Later"})["changed"]
    assert maintenance_document()["http"]["middlewares"]["todo-maintenance"]["headers"]["customRequestHeaders"] == {
        "X-Sentinel-Maintenance": "Later"
    }
    off = run(traefik_route, {**ARGS, "maintenance": False})
    assert f"file {FILE}" in off["changes"] and maintenance_document() is None
    run(traefik_route, on)
    del MemorySwarm.services["todo-prod"]
    gone = run(traefik_route, {"name": "todo", "state": "absent"})
    assert gone["changes"] == [f"file {FILE}"] and maintenance_document() is None


def test_a_new_route_needs_domains():
    result = fail(traefik_route, {"name": "todo"})
    assert result["msg"] == "Error routing app todo: domains are required to create the route"
    assert writes() == 0


def test_omitted_options_keep_the_current_route():
    created = run(traefik_route, {**ARGS, "tls": False, "middlewares": ["auth@file"], "retry_attempts": 5})
    switched = run(traefik_route, {"name": "todo", "service": "split"})
    # The router's service changes; the rest of what changes is the canary's preview.
    assert "traefik.http.routers.todo.service" in switched["changes"]
    assert all(c == "traefik.http.routers.todo.service" or "preview" in c or "pinned" in c for c in switched["changes"])
    assert switched["route"] == {**created["route"], "service": "split", "preview_header": "X-Sentinel-Canary"}
    assert not run(traefik_route, {"name": "todo"})["changed"]


def test_the_preview_header_is_kept_through_the_split_and_goes_with_it():
    run(traefik_route, ARGS)
    split = run(traefik_route, {"name": "todo", "service": "split", "preview_header": "X-QA"})
    assert split["preview"] == {"header": "X-QA: always", "link": "https://todo.example.com/?sentinel-canary=1"}
    assert not run(traefik_route, {"name": "todo", "service": "split"})["changed"]
    back = run(traefik_route, {"name": "todo", "service": "prod"})
    assert back["preview"] is None and not [k for k in back["labels"] if "preview" in k or "pinned" in k]
    again = run(traefik_route, {"name": "todo", "service": "split"})
    assert again["route"]["preview_header"] == "X-Sentinel-Canary"


def test_a_bad_preview_header_changes_nothing():
    run(traefik_route, ARGS)
    before = dict(MemorySwarm.services["todo-prod"])
    msg = fail(traefik_route, {"name": "todo", "service": "split", "preview_header": "X Bad"})["msg"]
    assert msg.startswith("Error routing app todo: invalid preview header 'X Bad'")
    assert MemorySwarm.services["todo-prod"] == before


def test_a_hand_edited_rule_needs_the_domains_given():
    run(traefik_route, ARGS)
    MemorySwarm.services["todo-prod"]["traefik.http.routers.todo.rule"] = "PathPrefix(`/`)"
    assert "edited by hand" in fail(traefik_route, {"name": "todo", "service": "split"})["msg"]
    assert run(traefik_route, {**ARGS, "service": "split"})["changed"]


def test_diff_only_in_diff_mode():
    assert "diff" not in run(traefik_route, {"name": "todo", "domains": ["todo.example.com"]}, check=True)


def test_missing_service_fails():
    msg = fail(traefik_route, {"name": "gone", "domains": ["gone.example.com"]})["msg"]
    assert msg == "Error routing app gone: service gone-prod not found; deploy the app first"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Todo", "domains": ["a.example.com"]}, "Error routing app 'Todo': invalid app name"),
        ({"name": "edge", "domains": ["a.example.com"]}, "reserved"),
        ({"name": "todo", "domains": []}, "domains must list at least one host name"),
        ({"name": "todo", "domains": ["a.com`) || Host(`b.com"]}, "invalid domain 'a.com`) || Host(`b.com'"),
        ({"name": "todo", "domains": ["a.com"], "middlewares": ["x,y"]}, "invalid middleware 'x,y'"),
        ({"name": "todo", "domains": ["a.com"], "retry_attempts": -1}, "invalid retry_attempts"),
        ({"name": "todo", "domains": ["a.com"], "entrypoints": {"http": "w b"}}, "invalid entrypoint 'w b'"),
    ],
)
def test_bad_input_fails_before_reaching_the_engine(args, message):
    assert message in fail(traefik_route, args)["msg"]
    assert MemorySwarm.instances == [], "the engine must not even be contacted"


def test_info_reads_the_route_back():
    applied = run(traefik_route, {**ARGS, "tls": False, "service": "split"})
    info = run(traefik_route_info, {"name": "todo"})
    assert info["exists"] and not info["changed"]
    assert info["route"] == applied["route"] and info["labels"] == applied["labels"]


def test_info_without_route_or_service():
    assert run(traefik_route_info, {"name": "todo"})["exists"] is False
    missing = run(traefik_route_info, {"name": "gone"})
    assert missing["exists"] is False and missing["service_exists"] is False


def test_a_domain_another_app_routes_is_refused_and_nothing_is_written():
    run(traefik_route, ARGS)
    MemorySwarm.services["evil-prod"] = {"sentinel.app": "evil"}
    before = dict(MemorySwarm.services["evil-prod"])
    failed = fail(traefik_route, {"name": "evil", "domains": ["shop.example.com", "TODO.example.com"]})
    assert failed["msg"] == (
        "Error routing app evil: domain todo.example.com is routed by app todo: "
        "a domain belongs to one app (change or destroy todo first)"
    )
    assert MemorySwarm.services["evil-prod"] == before
    assert run(traefik_route, ARGS)["changed"] is False, "the owner keeps its own domain"


def test_route_info_names_the_owner_of_every_domain():
    run(traefik_route, {"name": "todo", "domains": ["todo.example.com", "www.todo.example.com"]})
    info = run(traefik_route_info, {"name": "shop"})
    assert info["domain_owners"] == {"todo.example.com": "todo", "www.todo.example.com": "todo"}

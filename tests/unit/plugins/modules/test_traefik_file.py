"""traefik_file run whole against the in-memory Swarm's configs: the four steps, versions, refusals.

That sentinel-traefik-sync puts the document on every manager and Traefik applies it is proven on the
real Swarm (tests/integration/test_control_plane.py: the TLS options the control_plane role keeps).
"""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files
from ansible_collections.sentinel.paas.plugins.modules import traefik_file
from memory_swarm import MemorySwarm
from module_harness import fail, run

TLS = {"tls": {"options": {"default": {"minVersion": "VersionTLS12", "cipherSuites": ["A", "B"]}}}}


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(traefik_file, "Swarm", MemorySwarm)


def kept(file="sentinel-tls.yml"):
    return [(c["Spec"]["Name"], files.text_of(c)) for c in files.versions(MemorySwarm().configs({}), file)]


def test_four_steps():
    args = {"name": "sentinel-tls", "content": TLS, "_ansible_diff": True}
    check = run(traefik_file, args, check=True)
    assert check["changed"] and check["changes"] == ["file"] and kept() == []
    assert check["config"] == "sentinel-traefik-sentinel-tls-1" and check["file"] == "sentinel-tls.yml"
    assert "minVersion: VersionTLS12" in check["diff"]["after"] and check["diff"]["before"] == ""
    applied = run(traefik_file, args)
    assert applied["changed"] and kept() == [(applied["config"], check["diff"]["after"])]
    for check_mode in (True, False):
        again = run(traefik_file, args, check=check_mode)
        assert not again["changed"] and again["changes"] == [] and again["config"] == applied["config"]


def test_new_content_is_a_new_version_and_absent_removes_them_all():
    run(traefik_file, {"name": "sentinel-tls", "content": TLS})
    changed = run(traefik_file, {"name": "sentinel-tls", "content": {"tls": {"options": {}}}})
    assert changed["changes"] == ["content"]
    assert [name for name, _text in kept()] == ["sentinel-traefik-sentinel-tls-2"]
    gone = run(traefik_file, {"name": "sentinel-tls", "state": "absent"})
    assert gone["changed"] and gone["config"] is None and kept() == []
    assert not run(traefik_file, {"name": "sentinel-tls", "state": "absent"})["changed"]


def test_a_broken_document_is_replaced():
    MemorySwarm().create_config("sentinel-traefik-sentinel-tls-1", b"tls: [", files.labels("sentinel-tls.yml", 1))
    assert run(traefik_file, {"name": "sentinel-tls", "content": TLS})["changes"] == ["content"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Upper", "invalid name"),
        ("a/b", "invalid name"),
        ("a.b", "invalid name"),
        ("a" * 41, "invalid name"),
        ("todo-split", "canary splits"),
        ("todo-maintenance", "maintenance pages"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(name, message):
    result = fail(traefik_file, {"name": name, "content": TLS})
    assert message in result["msg"] and MemorySwarm.writes == []

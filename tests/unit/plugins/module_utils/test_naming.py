"""App names: a DNS label, and nothing that collides with the platform or another app's names."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _naming


@pytest.mark.parametrize("name", ["todo", "a", "my-app2", "a" * 31, "http", "todo-https", "shop-api"])
def test_valid_names(name):
    assert _naming.app_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Todo", "lowercase"),
        ("todo\n", "lowercase"),  # a pattern with $ would accept the trailing newline
        ("-todo", "lowercase"),
        ("todo-", "lowercase"),
        ("a" * 32, "lowercase"),
        ("1todo", "lowercase"),
        (None, "lowercase"),
        ("edge", "reserved by the platform"),
        ("monitoring", "reserved by the platform"),
        ("prometheus", "reserved by the platform"),
        ("node-exporter", "reserved by the platform"),
        ("sentinel", "reserved by the platform"),
        ("sentinel-web", "reserved by the platform"),
        ("todo-http", "app X's routers are X-http"),
        ("todo-preview", "ending in -http, -preview, -pinned, -preview-on, -preview-off, -maintenance are reserved"),
        ("todo-pinned", "reserved"),
        ("todo-preview-on", "reserved"),
        ("todo-preview-off", "reserved"),
    ],
)
def test_invalid_names(name, reason):
    assert reason in _naming.app_name_error(name)


def test_every_platform_service_name_is_reserved_as_an_app_name():
    for component, service in _naming.PLATFORM_SERVICES.items():
        assert _naming.app_name_error(component.replace("_", "-")), service


def test_a_build_tag_is_the_source_digest_after_the_commit():
    source = "0123456789abcdef" * 4
    assert _naming.build_tag(source) == "src-0123456789ab"
    assert _naming.build_tag(source, "fedcba9876543210" * 2) == "git-fedcba987654-0123456789ab"
    assert _naming.registry_repository("todo") == "127.0.0.1:5000/todo"

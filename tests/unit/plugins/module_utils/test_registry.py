"""The cluster registry's client (module_utils/_registry.py): its paging and the names it reads from images."""

from __future__ import annotations

import io
import json

from ansible.module_utils import urls
from ansible_collections.sentinel.paas.plugins.module_utils import _registry


def test_every_page_of_the_catalog_is_read(monkeypatch, tmp_path):
    names = [f"app{i:04d}" for i in range(2500)]
    asked = []

    def fake_open_url(url, **_kw):
        asked.append(url)
        last = url.split("&last=")[1] if "&last=" in url else ""
        page = [n for n in names if n > last][: _registry.CATALOG_PAGE]
        return io.BytesIO(json.dumps({"repositories": page}).encode())

    credential = tmp_path / "credential"
    credential.write_text(json.dumps({"username": "sentinel", "password": "pw", "seed": "s"}))
    monkeypatch.setattr(_registry._naming, "REGISTRY_CREDENTIAL_FILE", str(credential))
    monkeypatch.setattr(urls, "open_url", fake_open_url)
    assert _registry.Registry().repositories() == names
    assert len(asked) == 3 and asked[1].endswith("&last=app0999")


def test_an_image_of_the_cluster_registry_names_its_repository():
    assert _registry.app_of("127.0.0.1:5000/todo:r3@sha256:abc") == "todo"
    assert _registry.app_of("127.0.0.1:5000/todo@sha256:abc") == "todo"
    assert _registry.app_of("registry.example.com/todo:1@sha256:abc") is None
    assert _registry.app_of(None) is None

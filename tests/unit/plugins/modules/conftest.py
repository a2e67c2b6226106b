"""Every module unit test here runs main() with exit_json/fail_json raising (module_harness)."""

from __future__ import annotations

import pytest
from module_harness import patch_exits


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    patch_exits(monkeypatch)

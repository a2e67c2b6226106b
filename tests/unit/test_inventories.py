"""The shipped inventories say what the README says they do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _inventory(path: str) -> dict:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "playbooks" / "collections")}
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(ROOT / path), "--list"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(listed.stdout)


def test_local_inventory_is_one_manager_reached_without_ssh():
    inventory = _inventory("inventories/local")
    assert inventory["managers"]["hosts"] == ["localhost"]
    host = inventory["_meta"]["hostvars"]["localhost"]
    assert host["ansible_connection"] == "local"
    assert host["control_plane_advertise_addr"] == "127.0.0.1"


def test_example_inventory_has_managers_and_workers():
    inventory = _inventory("inventories/example")
    assert inventory["managers"]["hosts"] and inventory["workers"]["hosts"]
    assert len(inventory["managers"]["hosts"]) % 2 == 1, "an odd number of managers keeps the Raft quorum"

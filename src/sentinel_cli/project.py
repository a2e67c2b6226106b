"""Where the collection's playbooks and inventories are, seen from the installed CLI."""

from __future__ import annotations

import os
from pathlib import Path

# The CLI is installed from a checkout of the collection (pip install -e .); SENTINEL_HOME
# points at another checkout when needed.
HOME = Path(os.environ.get("SENTINEL_HOME", Path(__file__).resolve().parents[2]))
PLAYBOOKS = HOME / "playbooks"
COLLECTIONS = PLAYBOOKS / "collections"  # holds ansible_collections/sentinel/paas -> HOME
LOCAL_INVENTORY = HOME / "inventories" / "local" / "hosts.yml"


def playbook(name: str) -> Path:
    path = PLAYBOOKS / name
    if not path.is_file():
        raise FileNotFoundError(f"playbook {path} not found (is SENTINEL_HOME a Sentinel checkout?)")
    return path

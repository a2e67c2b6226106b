"""Where the collection's playbooks and inventories are, seen from the installed CLI.

The CLI only runs the playbooks of the sentinel.paas collection. It finds the collection, in order:
SENTINEL_HOME (a checkout or an installed collection), the checkout it was installed from
(pip install -e .), or the collection installed where Ansible looks for collections
(ansible-galaxy collection install), so that a CLI installed on its own works outside a checkout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]  # src/sentinel_cli/project.py in a checkout
# Ansible's default COLLECTIONS_PATHS, searched when ANSIBLE_COLLECTIONS_PATH is not set (a
# collections_path set in ansible.cfg is not read: set the variable, or SENTINEL_HOME, instead).
DEFAULT_COLLECTIONS_PATHS = ("~/.ansible/collections", "/usr/share/ansible/collections")
INSTALL_HINT = "install the collection (ansible-galaxy collection install sentinel-paas-*.tar.gz) or set SENTINEL_HOME"


def installed_collection(environ: Mapping[str, str]) -> Path | None:
    """The sentinel.paas collection in Ansible's collections paths, None when none holds it."""
    paths = environ.get("ANSIBLE_COLLECTIONS_PATH") or os.pathsep.join(DEFAULT_COLLECTIONS_PATHS)
    for root in filter(None, paths.split(os.pathsep)):
        home = Path(root).expanduser() / "ansible_collections" / "sentinel" / "paas"
        if (home / "playbooks").is_dir():
            return home
    return None


def find_home(environ: Mapping[str, str] = os.environ, checkout: Path = CHECKOUT) -> Path:
    """The collection the CLI runs: SENTINEL_HOME, its own checkout, else the installed one (or the
    checkout path, where playbook() then says how to install the collection)."""
    if environ.get("SENTINEL_HOME"):
        return Path(environ["SENTINEL_HOME"])
    if (checkout / "galaxy.yml").is_file():
        return checkout
    return installed_collection(environ) or checkout


def collections_root(home: Path) -> Path:
    """The directory to put on ANSIBLE_COLLECTIONS_PATH so that sentinel.paas is ``home``."""
    # Installed, home is ROOT/ansible_collections/sentinel/paas; a checkout has its own
    # playbooks/collections/ansible_collections/sentinel/paas, a link back to the checkout.
    if home.parent.parent.name == "ansible_collections":
        return home.parents[2]
    return home / "playbooks" / "collections"


HOME = find_home()
PLAYBOOKS = HOME / "playbooks"
COLLECTIONS = collections_root(HOME)
LOCAL_INVENTORY = HOME / "inventories" / "local" / "hosts.yml"


def playbook(name: str) -> Path:
    path = PLAYBOOKS / name
    if not path.is_file():
        raise FileNotFoundError(f"playbook {path} not found: {INSTALL_HINT}")
    return path

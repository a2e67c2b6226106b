# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one naming convention of Sentinel on a cluster: everything derives from the app name.

Private to this collection.
"""

from __future__ import annotations

import re

# A DNS label short enough that every derived name stays within Docker's limits.
APP_NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$")
# Names whose derived network would collide with the platform's own (sentinel-edge).
RESERVED_APP_NAMES = frozenset({"edge"})

EDGE_NETWORK = "sentinel-edge"
ROLES = ("prod", "canary", "db")

LABEL_APP = "sentinel.app"
LABEL_ROLE = "sentinel.role"
LABEL_RELEASE = "sentinel.release"
LABEL_CONFIG_HASH = "sentinel.config-hash"  # what cannot be read back (secrets) is compared by hash

PLATFORM_SERVICES = {
    "traefik": "sentinel-traefik",
    "prometheus": "sentinel-prometheus",
    "grafana": "sentinel-grafana",
    "node_exporter": "sentinel-node-exporter",
}


def app_name_error(name: object) -> str | None:
    """Why ``name`` is not a valid app name, or None when it is."""
    if not isinstance(name, str) or not APP_NAME_PATTERN.match(name):
        return (
            f"invalid app name {name!r}: use 1-31 lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    if name in RESERVED_APP_NAMES:
        return f"invalid app name {name!r}: it is reserved by the platform"
    return None


def app_network(app: str) -> str:
    return f"sentinel-{app}"


def service_name(app: str, role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return f"{app}-{role}"


def db_volume(app: str) -> str:
    return f"sentinel-{app}-db"


def db_password_secret(app: str) -> str:
    """The raw password, for the database service (POSTGRES_PASSWORD_FILE)."""
    return f"sentinel-{app}-db-password"


def db_pgpass_secret(app: str) -> str:
    """The same password as a libpq pgpass file, for the app (PGPASSFILE)."""
    return f"sentinel-{app}-db-pgpass"


def router_name(app: str) -> str:
    return app


def split_service(app: str) -> str:
    """The file-provider weighted service that splits traffic between prod and canary."""
    return f"{app}-split"


def split_file(app: str) -> str:
    """File name of the app's split document in Traefik's dynamic configuration directory."""
    return f"{app}-split.yml"


def sticky_cookie(app: str) -> str:
    return f"sentinel_{app.replace('-', '_')}"


def app_labels(app: str, role: str) -> dict[str, str]:
    return {LABEL_APP: app, LABEL_ROLE: role}


# Label prefixes each module owns on NAME-prod (see docs/conventions.md); each leaves the other's alone.
def route_label_prefixes(app: str) -> tuple[str, ...]:
    """Labels owned by traefik_route: routers NAME and NAME-*, middlewares NAME-*.

    The dot and hyphen after the router name keep app ``todo`` off routers of app ``todo2``.
    """
    return (f"traefik.http.routers.{app}.", f"traefik.http.routers.{app}-", f"traefik.http.middlewares.{app}-")


TRAEFIK_DYNAMIC_DIR = "/etc/sentinel/traefik/dynamic"
TRAEFIK_CERT_RESOLVER = "sentinel"
TRAEFIK_ENTRYPOINTS = ("web", "websecure")

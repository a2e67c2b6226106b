# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one naming convention of Sentinel on a cluster: everything derives from the app name.

Private to this collection.
"""

from __future__ import annotations

import re

# A DNS label short enough that every derived name stays within Docker's limits.
APP_NAME_PATTERN = re.compile(r"[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?")
# Names whose derived objects (network sentinel-NAME, ...) would collide with the platform's own.
RESERVED_APP_NAMES = frozenset(
    {
        "edge",
        "monitoring",
        "traefik",
        "traefik-sync",
        "docker-proxy",
        "prometheus",
        "alertmanager",
        "grafana",
        "node-exporter",
        "maintenance",
        "notifier",
        "swarm-exporter",
        "backup-ship",
        "registry",
        "registry-proxy",
    }
)
# App X's routers are X and X-SUFFIX (see route_label_prefixes): an app named X-http would take
# X's redirect router, and Traefik drops both routers of a name defined twice.
ROUTER_SUFFIXES = {
    "redirect": "http",
    "preview": "preview",
    "pinned": "pinned",
    "preview_on": "preview-on",
    "preview_off": "preview-off",
    "maintenance": "maintenance",
}
RESERVED_APP_SUFFIXES = tuple(f"-{suffix}" for suffix in ROUTER_SUFFIXES.values())

EDGE_NETWORK = "sentinel-edge"
# Prometheus, node_exporter, Grafana and Traefik's metrics: apps never join it (docs/conventions.md, "Networks").
MONITORING_NETWORK = "sentinel-monitoring"
ROLES = ("prod", "canary", "baseline", "db")
# Roles that run beside production during a canary: made from production's settings, taking a
# share of its traffic through the split. The baseline runs production's image, so that a rollout
# compares the canary with a version of the same age and share (canary_rollout.yml's baseline).
SIDE_ROLES = ("canary", "baseline")

LABEL_APP = "sentinel.app"
LABEL_ROLE = "sentinel.role"
LABEL_RELEASE = "sentinel.release"
LABEL_CONFIG_HASH = "sentinel.config-hash"  # what cannot be read back (secrets) is compared by hash
LABEL_SECRET_KEY = "sentinel.secret-env"  # on the app's secret_env secrets: the variable it holds
# On production's service (app_alerts): the app's own alert thresholds, sentinel.alert.p95-seconds and so on.
ALERT_LABEL_PREFIX = "sentinel.alert."
# On a receiver's secret (notify_receiver): its name, its kind and, for an app's own receiver, the app.
LABEL_RECEIVER = "sentinel.receiver"
LABEL_RECEIVER_KIND = "sentinel.receiver-kind"
LABEL_RECEIVER_APP = "sentinel.receiver-app"
SECRET_NAME_MAX = 64  # Docker's limit on a secret's name

PLATFORM_SERVICES = {
    "traefik": "sentinel-traefik",
    # Writes the Traefik documents kept in the Swarm into every manager's directory (_traefik_files).
    "traefik_sync": "sentinel-traefik-sync",
    # The engine's read calls Traefik's Swarm provider needs, on a socket only Traefik mounts.
    "docker_proxy": "sentinel-docker-proxy",
    "prometheus": "sentinel-prometheus",
    "alertmanager": "sentinel-alertmanager",
    "grafana": "sentinel-grafana",
    "node_exporter": "sentinel-node-exporter",
    # The page of apps in maintenance (traefik_route's maintenance), on the edge network.
    "maintenance": "sentinel-maintenance",
    # Delivers Alertmanager's alerts and the operations' events to the receivers (notify_receiver).
    "notifier": "sentinel-notifier",
    # The apps' tasks as the Swarm knows them (desired, running), as metrics (the prometheus role).
    "swarm_exporter": "sentinel-swarm-exporter",
    # Copies every node's database backups to the backup target, off the node (db_backup_target).
    "backup_ship": "sentinel-backup-ship",
    # The cluster registry of images built from source (roles/registry), on one manager's volume.
    "registry": "sentinel-registry",
    # On every node, the registry on the node's loopback: an engine trusts plain HTTP there only.
    "registry_proxy": "sentinel-registry-proxy",
}


def app_name_error(name: object) -> str | None:
    """Why ``name`` is not a valid app name, or None when it is."""
    if not isinstance(name, str) or not APP_NAME_PATTERN.fullmatch(name):
        return (
            f"invalid app name {name!r}: use 1-31 lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    if name in RESERVED_APP_NAMES or name.startswith("sentinel"):
        return f"invalid app name {name!r}: it is reserved by the platform"
    if name.endswith(RESERVED_APP_SUFFIXES):
        endings = ", ".join(RESERVED_APP_SUFFIXES)
        return f"invalid app name {name!r}: names ending in {endings} are reserved (app X's routers are X-http, ...)"
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


def secret_env_prefix(app: str, key: str) -> str:
    """Every version of the app's secret ``key`` (swarm_app's secret_env) is named this and a number."""
    return f"sentinel-{app}-env-{key}-"


def secret_env_name(app: str, key: str, version: int) -> str:
    return f"{secret_env_prefix(app, key)}{version}"


def load_service(app: str) -> str:
    """The load generator of a rollout (canary_load); the platform's prefix keeps it off the app's names."""
    return f"sentinel-load-{app}"


def router_name(app: str) -> str:
    return app


def redirect_router(app: str) -> str:
    """The router that sends plain HTTP to HTTPS (see RESERVED_APP_SUFFIXES)."""
    return f"{router_name(app)}-{ROUTER_SUFFIXES['redirect']}"


def preview_router(app: str, kind: str) -> str:
    """A router of the canary's preview (traefik_route): ``preview`` sends whoever asks for the
    canary to it, ``pinned`` whoever asks for production there, ``preview_on`` and ``preview_off``
    answer a preview link by setting the cookie."""
    return f"{router_name(app)}-{ROUTER_SUFFIXES[kind]}"


def preview_middleware(app: str, kind: str) -> str:
    """A middleware of a preview link: ``preview_on`` and ``preview_off`` set the cookie, ``preview_link``
    sends the browser back to the page without the link's parameter."""
    return f"{app}-{kind.replace('_', '-')}"


# The canary's preview (traefik_route): ?sentinel-canary=1 (or 0) sets this cookie to always (or never).
PREVIEW_PARAMETER = "sentinel-canary"
PREVIEW_COOKIE = "sentinel-canary"


def maintenance_router(app: str) -> str:
    """The router that, above every other of the app, sends its traffic to the maintenance page."""
    return f"{router_name(app)}-{ROUTER_SUFFIXES['maintenance']}"


def maintenance_middleware(app: str) -> str:
    """The headers of the app's maintenance page: its message (to the page server) and Retry-After."""
    return f"{app}-maintenance"


def maintenance_file(app: str) -> str:
    """File name of the document that serves the app's maintenance router and middleware. Traefik's file provider
    keeps it while production runs no task, when the Swarm provider drops every router on NAME-prod's labels."""
    return f"{app}-maintenance.yml"


# What traefik_route records on NAME-prod while the app is in maintenance (the page's Retry-After and message).
MAINTENANCE_LABEL_PREFIX = "sentinel.maintenance."

# The maintenance page server (roles/control_plane/files/maintenance_page.py): its port, and the request header
# that carries an app's message to it, percent-encoded.
MAINTENANCE_PORT = 8080
MAINTENANCE_HEADER = "X-Sentinel-Maintenance"
MAINTENANCE_HEALTH_PATH = "/.well-known/sentinel-maintenance-health"  # the one path it answers 200 to
# Above any router a rule's length or a user's priority makes, so the page wins on every entrypoint of the app.
MAINTENANCE_PRIORITY = 1_000_000_000


def redirect_middleware(app: str) -> str:
    return f"{app}-https"


def hsts_middleware(app: str) -> str:
    """Strict-Transport-Security on the app's HTTPS answers (traefik_route's hsts)."""
    return f"{app}-hsts"


def retry_middleware(app: str) -> str:
    return f"{app}-retry"


def split_service(app: str) -> str:
    """The file-provider weighted service that splits traffic between prod and canary."""
    return f"{app}-split"


def guard_service(app: str, role: str) -> str:
    """The file-provider failover service in the split that answers from production whenever
    ``role`` (canary, baseline) cannot (no running task, a dead task, a node gone): its share of the split."""
    return f"{service_name(app, role)}-guard"


def split_file(app: str) -> str:
    """File name of the app's split document in Traefik's dynamic configuration directory."""
    return f"{app}-split.yml"


def sticky_cookie(app: str) -> str:
    return f"sentinel_{app.replace('-', '_')}"


def app_labels(app: str, role: str) -> dict[str, str]:
    return {LABEL_APP: app, LABEL_ROLE: role}


# Label prefixes each module owns on NAME-prod (see docs/conventions.md); each leaves the other's alone.
def route_label_prefixes(app: str) -> tuple[str, ...]:
    """Labels owned by traefik_route: routers NAME and NAME-*, middlewares NAME-*, the maintenance record.

    The dot and hyphen after the router name keep app ``todo`` off routers of app ``todo2``.
    """
    router = router_name(app)
    return (
        f"traefik.http.routers.{router}.",
        f"traefik.http.routers.{router}-",
        f"traefik.http.middlewares.{app}-",
        MAINTENANCE_LABEL_PREFIX,
    )


TRAEFIK_DYNAMIC_DIR = "/etc/sentinel/traefik/dynamic"
TRAEFIK_CERT_RESOLVER = "sentinel"
# Traefik's entrypoints by purpose: plain HTTP (:80), HTTPS (:443), Prometheus metrics (TRAEFIK_METRICS_PORT).
TRAEFIK_ENTRYPOINTS = {"http": "web", "https": "websecure", "metrics": "metrics"}
TRAEFIK_HTTP_PORT = 80  # the web entrypoint, published on every manager's host by the control_plane role
TRAEFIK_METRICS_PORT = 8082
# Traefik's own entrypoint (ping, API) on its container's loopback: reached with docker exec only
# (module_utils/_traefik_api.py), never by apps on the edge network.
TRAEFIK_API_ADDRESS = "127.0.0.1:8080"
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
NOTIFIER_PORT = 9095
SWARM_EXPORTER_PORT = 9324
# On every manager: the socket of sentinel-docker-proxy (the control_plane role), the engine's read calls only,
# for Traefik and the Swarm exporter.
DOCKER_PROXY_DIR = "/var/lib/sentinel/docker-proxy"
# The notifier reads every receiver from /run/secrets/RECEIVER_SECRET_PREFIX<name>.
RECEIVER_SECRET_PREFIX = "sentinel-receiver-"
# Where every node's engine reaches the cluster registry (through sentinel-registry-proxy), and the registry's
# credential on every manager (JSON: username, password, seed), which the modules log in with.
REGISTRY_PORT = 5000
REGISTRY_ADDRESS = f"127.0.0.1:{REGISTRY_PORT}"
REGISTRY_CREDENTIAL_FILE = "/etc/sentinel/registry/credential"
REGISTRY_CONFIG_FILE = "/etc/docker/registry/config.yml"  # in the registry's task: the official image's path
# How long the NodeDown rule remembers a node that stopped reporting (a Prometheus duration): so long a
# removed node alerts, and so long `cluster remove` silences it.
NODE_DOWN_MEMORY = "1d"


# -- Platform names for the roles (exposed to roles and playbooks by plugins/filter/naming.py) --
PLATFORM_ROLE = "platform"  # the LABEL_ROLE value of every platform object
PLATFORM_LABELS = {LABEL_ROLE: PLATFORM_ROLE}
TRAEFIK_SWARM_PROVIDER = "swarm"  # Traefik calls the service of Swarm service NAME "NAME@swarm"
TRAEFIK_FILE_PROVIDER = "file"  # and a service of the dynamic directory's documents "NAME@file"
# Whose Traefik service serves each role: production's comes from its Swarm labels; the canary's
# (and a baseline's) from its split document (canary_weights), so that it exists, and fails over, without tasks.
TRAEFIK_PROVIDERS = {"prod": TRAEFIK_SWARM_PROVIDER, "canary": TRAEFIK_FILE_PROVIDER, "baseline": TRAEFIK_FILE_PROVIDER}
TRAEFIK_DASHBOARD_ROUTER = "sentinel-dashboard"
TRAEFIK_DASHBOARD_AUTH_MIDDLEWARE = "sentinel-dashboard-auth"
PLATFORM_SUFFIX_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # fullmatch: $ would pass a trailing newline


def platform_name(component: str, suffix: str = "") -> str:
    """The platform service of ``component`` (a key of PLATFORM_SERVICES), or with a suffix an object it owns.

    ``platform_name("prometheus")`` is ``sentinel-prometheus``; ``platform_name("prometheus", "data")`` is
    its volume ``sentinel-prometheus-data``.
    """
    if component not in PLATFORM_SERVICES:
        raise ValueError(f"unknown platform component {component!r}: use one of {', '.join(sorted(PLATFORM_SERVICES))}")
    if suffix and not (isinstance(suffix, str) and PLATFORM_SUFFIX_PATTERN.fullmatch(suffix)):
        raise ValueError(f"invalid suffix {suffix!r}: use lowercase letters and digits, joined by single hyphens")
    return f"{PLATFORM_SERVICES[component]}-{suffix}" if suffix else PLATFORM_SERVICES[component]


def traefik_service(app: str, role: str) -> str:
    """Traefik's name of the service that serves ``role`` (prod, canary): ``NAME-prod@swarm``, ``NAME-canary@file``."""
    return f"{service_name(app, role)}@{TRAEFIK_PROVIDERS[role]}"


def traefik_service_regex(roles: tuple[str, ...] | list[str] = ("prod", "canary"), app: str = "(.+)") -> str:
    """A regular expression for Traefik's names of apps' services, traefik_service(app, role).

    Group 1 is the app, group 2 the role; with ``app`` (a valid app name, no metacharacters), the
    names of that app's services, the role in group 1. Python and Prometheus (RE2, which anchors
    it) read it alike.
    """
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown!r}" if unknown else "give at least one role")
    unserved = [role for role in roles if role not in TRAEFIK_PROVIDERS]
    if unserved:
        raise ValueError(f"no Traefik service serves role {unserved[0]!r}")
    providers = sorted({TRAEFIK_PROVIDERS[role] for role in roles})
    return f"{app}-({'|'.join(roles)})@(?:{'|'.join(providers)})"


def registry_repository(app: str) -> str:
    """The cluster registry's repository of an app's images built from source."""
    return f"{REGISTRY_ADDRESS}/{app}"


def build_tag(source_digest: str, commit: str | None = None) -> str:
    """The tag of an image built from source: its source's digest, after the git commit when there is one.

    The same source (context, Dockerfile, build args) gives the same tag, so a build that exists is not built again.
    """
    return f"git-{commit[:12]}-{source_digest[:12]}" if commit else f"src-{source_digest[:12]}"

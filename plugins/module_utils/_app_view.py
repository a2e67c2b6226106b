# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app as the info modules show it: its services with their tasks, and its route.

Shared by swarm_app_info and app_info. Private to this collection.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import parse_route, preview_of


def describe_service(swarm, service, with_tasks):
    s = service["Spec"]
    labels = s.get("Labels") or {}
    container = s["TaskTemplate"]["ContainerSpec"]
    tasks = swarm.service_tasks(s["Name"])
    secrets = [ref["SecretName"] for ref in container.get("Secrets") or []]
    app = labels.get(_naming.LABEL_APP)
    refs = [
        {"name": ref["SecretName"], "target": (ref.get("File") or {}).get("Name")}
        for ref in container.get("Secrets") or []
    ]
    secret_env = spec.secret_env_refs(refs, app) if app else {}
    env = dict(item.split("=", 1) if "=" in item else (item, "") for item in container.get("Env") or [])
    update = service.get("UpdateStatus")
    info = {
        "name": s["Name"],
        "image": container["Image"],
        "port": spec.port_of(labels, app, labels.get(_naming.LABEL_ROLE)),
        "replicas": {
            "desired": ((s.get("Mode") or {}).get("Replicated") or {}).get("Replicas"),
            "running": sum(1 for t in tasks if t["desired_state"] == "running" and t["state"] == "running"),
        },
        "update_status": {"state": update.get("State"), "message": update.get("Message", "")} if update else None,
        "release": spec.release_of(labels) or None,
        "labels": labels,
        "secrets": secrets,
        "secret_env": secret_env,
        # What the user set (swarm_app's env option): the variables the module adds are left out.
        "env": spec.user_env(
            env, has_db=bool(app) and _naming.db_pgpass_secret(app) in secrets, secret_keys=secret_env
        ),
    }
    if with_tasks:
        info["tasks"] = tasks
    return info


def describe_app(swarm, app, with_tasks):
    services = {}
    for role in _naming.ROLES:
        service = swarm.service(_naming.service_name(app, role))
        if service and (service["Spec"].get("Labels") or {}).get(_naming.LABEL_APP) == app:
            services[role] = describe_service(swarm, service, with_tasks)
    network = _naming.app_network(app)
    prod_labels = services["prod"]["labels"] if "prod" in services else {}
    route = parse_route(app, prod_labels)
    return {
        "name": app,
        "exists": bool(services),
        "network": network if swarm.network(network) else None,
        "services": services,
        "route": route,
        "preview": preview_of(route),
    }


def app_names(swarm):
    """Apps with at least one prod, canary or db service (platform services carry role platform)."""
    names = set()
    for service in swarm.services({_naming.LABEL_APP: None}):
        labels = service["Spec"].get("Labels") or {}
        if labels.get(_naming.LABEL_ROLE) in _naming.ROLES:
            names.add(labels[_naming.LABEL_APP])
    return sorted(names)

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# Apache License 2.0 (see LICENSE)
"""The one private wrapper around the Docker SDK for Python used by every module.

Works with Docker SDK 5.x (Debian bookworm's python3-docker on nodes) and 7.x.
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    import docker
    from docker.errors import APIError, NotFound
    from docker.tls import TLSConfig

    DOCKER_IMPORT_ERROR = None
except ImportError:  # reported by require_docker_sdk()
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class APIError(Exception):  # placeholders so the except clauses below still parse
        pass

    class NotFound(APIError):
        pass


DOCKER_ARGUMENT_SPEC = {
    "docker_host": {
        "type": "str",
        "default": "unix:///var/run/docker.sock",
        "fallback": (env_fallback, ["DOCKER_HOST"]),
    },
    "tls": {"type": "bool", "default": False},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path"},
    "timeout": {"type": "int", "default": 60},
}

# The engine answers this when two writers race on one service spec; re-reading and
# re-applying is the documented way out.
_OUT_OF_SEQUENCE = "update out of sequence"
_MAX_ATTEMPTS = 5


def docker_argument_spec(**extra):
    spec = dict(DOCKER_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


def require_docker_sdk(module):
    if DOCKER_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)


class Swarm:
    """A manager's engine API, reduced to what Sentinel's modules need."""

    def __init__(self, module):
        require_docker_sdk(module)
        p = module.params
        tls = None
        if p["tls"]:
            client_cert = (p["client_cert"], p["client_key"]) if p["client_cert"] else None
            tls = TLSConfig(client_cert=client_cert, ca_cert=p["ca_path"], verify=p["validate_certs"])
        self.api = docker.APIClient(base_url=p["docker_host"], tls=tls, timeout=p["timeout"], version="auto")

    # -- reading: absent is None ---------------------------------------------------------
    def service(self, name):
        try:
            return self.api.inspect_service(name)
        except NotFound:
            return None

    def network(self, name):
        try:
            return self.api.inspect_network(name)
        except NotFound:
            return None

    def secret(self, name):
        found = [s for s in self.api.secrets(filters={"name": name}) if s["Spec"]["Name"] == name]
        return found[0] if found else None

    def volume(self, name):
        try:
            return self.api.inspect_volume(name)
        except NotFound:
            return None

    def services(self, labels):
        """Services carrying all of ``labels`` ({key: value})."""
        return self.api.services(filters={"label": [f"{k}={v}" for k, v in labels.items()]})

    def tasks(self, service_name, desired_state=None):
        filters = {"service": service_name}
        if desired_state:
            filters["desired-state"] = desired_state
        return self.api.tasks(filters=filters)

    def nodes(self):
        return {n["ID"]: n for n in self.api.nodes()}

    # -- writing ----------------------------------------------------------------------
    def update_service(self, name, build_update):
        """Apply ``build_update(current_service) -> kwargs for APIClient.update_service``.

        Re-reads and retries when another writer changed the service in between.
        """
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            current = self.api.inspect_service(name)
            try:
                return self.api.update_service(
                    current["ID"], version=current["Version"]["Index"], **build_update(current)
                )
            except APIError as exc:
                if _OUT_OF_SEQUENCE not in str(exc) or attempt == _MAX_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
        return None

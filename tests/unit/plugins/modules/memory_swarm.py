"""An in-memory stand-in for plugins/module_utils/_swarm.Swarm, for swarm_app's own logic.

It keeps service specs, networks, secrets, volumes and configs the way the engine returns them (specs
as written, a version per write), so a module run against it shows what the module plans,
writes and reports. What it cannot show (the engine's own normalising of specs, tasks really
starting, rolling updates) is proven against a real Swarm in tests/integration.
"""

from __future__ import annotations

import base64
import copy
import hashlib

from ansible_collections.sentinel.paas.plugins.module_utils._swarm import ImageNotFound, Swarm

NODE_ID = "node-1"  # the engine the module talks to
OTHER_NODE_ID = "node-2"


class MemorySwarm:
    """One engine's state, shared by every module run of a test (class attributes, reset per test)."""

    services: dict = {}
    networks: dict = {}
    secrets_by_name: dict = {}
    volumes: dict = {}
    configs_by_name: dict = {}
    writes: list = []
    missing_images: set = set()

    def __init__(self, module=None):
        pass

    @classmethod
    def reset(cls):
        cls.services, cls.networks, cls.secrets_by_name, cls.volumes, cls.configs_by_name = {}, {}, {}, {}, {}
        cls.writes, cls.missing_images = [], set()

    # -- reading ----------------------------------------------------------------------
    def service(self, name):
        return copy.deepcopy(self.services.get(name))

    def network(self, name):
        return copy.deepcopy(self.networks.get(name))

    def network_names(self):
        return {n["Id"]: n["Name"] for n in self.networks.values()}

    def secret(self, name):
        return copy.deepcopy(self.secrets_by_name.get(name))

    def volume(self, name):
        return copy.deepcopy(self.volumes.get(name))

    def config(self, name):
        return copy.deepcopy(self.configs_by_name.get(name))

    def tasks(self, service_name=None, desired_state=None):
        return []  # nothing runs in memory

    service_tasks = Swarm.service_tasks

    def secrets(self, labels):
        """Secrets carrying all of ``labels`` (a None value: any value); the engine never sends their data."""
        found = [_without("data", s) for s in self.secrets_by_name.values() if _carries(s, labels)]
        return copy.deepcopy(found)

    def configs(self, labels):
        """Configs carrying all of ``labels`` (a None value: any value), their data base64 as the engine sends it."""
        return [copy.deepcopy(c) for c in self.configs_by_name.values() if _carries(c, labels)]

    def local_node_id(self):
        return NODE_ID

    def nodes(self):
        return {node_id: {"ID": node_id, "Description": {"Hostname": node_id}} for node_id in (NODE_ID, OTHER_NODE_ID)}

    def image_digest(self, image):
        if image.split("@")[0] in self.missing_images:
            raise ImageNotFound(f"image {image} does not exist in its registry (manifest unknown)")
        return f"{image.split('@')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"

    def wait_converged(self, name, timeout):
        self.writes.append(("wait", name))
        return self.service(name)

    # -- writing ----------------------------------------------------------------------
    def create_network(self, name, labels=None, encrypted=False):
        self.writes.append(("create network", name))
        options = {"encrypted": ""} if encrypted else {}
        self.networks[name] = {
            "Id": f"id-{name}",
            "Name": name,
            "Driver": "overlay",
            "Labels": labels or {},
            "Options": options,
        }

    def create_secret(self, name, data, labels=None):
        self.writes.append(("create secret", name))
        self.secrets_by_name[name] = {"ID": f"id-{name}", "Spec": {"Name": name, "Labels": labels or {}}, "data": data}

    def create_config(self, name, data, labels=None):
        self.writes.append(("create config", name))
        encoded = base64.b64encode(data).decode()
        self.configs_by_name[name] = {
            "ID": f"id-{name}",
            "Spec": {"Name": name, "Labels": dict(labels or {}), "Data": encoded},
        }

    def remove_config(self, config_id):
        name = next(n for n, c in self.configs_by_name.items() if c["ID"] == config_id)
        self.writes.append(("remove config", name))
        del self.configs_by_name[name]

    def create_volume(self, name, labels=None):
        self.writes.append(("create volume", name))
        self.volumes[name] = {"Name": name, "Driver": "local", "Labels": labels or {}}

    def create_service(self, name, **spec):
        self.writes.append(("create service", name))
        self.services[name] = {"ID": f"id-{name}", "Version": {"Index": 1}, "Spec": _spec(name, spec)}

    def update_service(self, name, build_update):
        self.writes.append(("update service", name))
        current = self.service(name)
        kwargs = build_update(current)
        self.services[name] = {
            "ID": current["ID"],
            "Version": {"Index": current["Version"]["Index"] + 1},
            "Spec": _spec(kwargs.pop("name"), kwargs),
        }

    # The real Swarm's, on top of update_service above.
    set_service_labels = Swarm.set_service_labels
    set_service_secrets = Swarm.set_service_secrets
    _resend_spec = Swarm._resend_spec

    def remove_service(self, service_id):
        name = next(n for n, s in self.services.items() if service_id in (s["ID"], n))  # as the engine: ID or name
        self.writes.append(("remove service", name))
        del self.services[name]

    def remove_network(self, name):
        self.writes.append(("remove network", name))
        self.networks.pop(name, None)

    def remove_secret(self, name):
        self.writes.append(("remove secret", name))
        self.secrets_by_name.pop(name, None)

    def remove_volume(self, name):
        self.writes.append(("remove volume", name))
        self.volumes.pop(name, None)


def _carries(resource, labels):
    have = resource["Spec"]["Labels"]
    return all(key in have and (value is None or have[key] == value) for key, value in labels.items())


def _without(key, resource):
    return {k: v for k, v in resource.items() if k != key}


def _spec(name, kwargs):
    """A service Spec as the engine returns it, from APIClient.create_service/update_service arguments."""
    return copy.deepcopy(
        {
            "Name": name,
            "Labels": kwargs.get("labels") or {},
            "TaskTemplate": kwargs["task_template"],
            "Mode": kwargs.get("mode"),
            "UpdateConfig": kwargs.get("update_config"),
            "RollbackConfig": kwargs.get("rollback_config"),
            "EndpointSpec": kwargs.get("endpoint_spec"),
        }
    )

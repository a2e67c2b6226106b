#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_app
short_description: Reconcile one Sentinel app on a Docker Swarm
description:
  - Creates, updates or removes one app on a Swarm, from a manager node. An app is an overlay network
    C(sentinel-NAME), a production service C(NAME-prod) (or a canary C(NAME-canary)) on that network and
    on the edge network C(sentinel-edge), and optionally a PostgreSQL service C(NAME-db) with a local volume
    C(sentinel-NAME-db) and its password in two Docker secrets.
  - Only the fields this module manages are compared (server-owned fields and the digest the engine pins
    to the image are ignored). Labels owned by P(sentinel.paas.traefik_route#module) (router and middleware
    labels of the app) are preserved exactly.
  - Each change of the task spec (image, env, healthcheck, limits, secrets, stop grace period, networks)
    is a new release. The service records it in labels C(sentinel.release) (a counter from 1),
    C(sentinel.release.image) (the image, pinned to the digest the registry served), C(sentinel.release.time)
    (UTC) and C(sentinel.history) (JSON list of the last 10 releases with release, image and time).
  - The database password is generated once (or taken from O(postgres_password)) and stored only in Docker
    secrets; the secret carries a salted hash of it in label C(sentinel.config-hash) so a given password can
    be compared. Changing the password of an existing database is not supported (Postgres keeps the
    password it was initialised with) and fails.
  - The database is pinned (placement constraint C(node.id)) to the manager the module runs on when it is
    created, because its local volume lives there; later runs keep that constraint.
  - Options shown without a default keep the service's current value when omitted, so O(name) and O(replicas)
    alone scale an app. When the service is created they take the value given as "on creation"; a new canary
    takes them from production (except O(image) and O(replicas)).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Views of the created, removed or updated resources; for updated services only the changed fields.
  idempotent:
    support: full
options:
  name:
    description: App name (a DNS label, C(^[a-z][a-z0-9-]{0,30}$), not C(edge)). Every Docker name derives from it.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the app; V(absent) removes it.
      - With O(role=prod), V(absent) removes canary, production and database services and the network; the
        database volume and the password secrets (the key to that data) only with O(delete_data). With
        O(role=canary), only the canary service.
    type: str
    choices: [present, absent]
    default: present
  role:
    description:
      - V(prod) manages C(NAME-prod) and everything of the app; V(canary) manages C(NAME-canary) only, on the
        same networks and with the same database wiring as production, which must exist already.
    type: str
    choices: [prod, canary]
    default: prod
  image:
    description:
      - Image of the service (C(TaskTemplate.ContainerSpec.Image)). Required to create the service.
    type: str
  replicas:
    description: Number of tasks (C(Mode.Replicated.Replicas)). On creation V(1).
    type: int
  env:
    description:
      - Environment of the containers (C(ContainerSpec.Env)). With O(postgres), C(PGHOST), C(PGPORT), C(PGUSER),
        C(PGDATABASE) and C(PGPASSFILE) are set by the module and may not be given here. On creation empty.
    type: dict
  port:
    description: >-
      Container port Traefik sends requests to
      (label C(traefik.http.services.NAME-ROLE.loadbalancer.server.port)). On creation V(8000).
    type: int
  healthcheck:
    description:
      - Container healthcheck (C(ContainerSpec.Healthcheck)). On creation none, so the image's own HEALTHCHECK applies.
    type: dict
    suboptions:
      test:
        description:
          - Command as a list (C(CMD) is prepended unless it starts with C(CMD)/C(CMD-SHELL)), or a shell string.
        type: raw
        required: true
      interval:
        description: Time between checks (seconds or a duration such as V(10s)).
        type: raw
      timeout:
        description: Time one check may take.
        type: raw
      retries:
        description: Consecutive failures that make the container unhealthy.
        type: int
      start_period:
        description: Grace period after start during which failures do not count.
        type: raw
  limits:
    description: Resource limits (C(TaskTemplate.Resources.Limits)).
    type: dict
    suboptions:
      cpus:
        description: CPUs (C(NanoCPUs)), such as V(0.5).
        type: float
      memory:
        description: Memory (C(MemoryBytes)), such as V(256M) (binary units).
        type: str
  labels:
    description:
      - Your own service labels (C(Spec.Labels)). Keys starting with C(sentinel.) or C(traefik.) are rejected.
    type: dict
  postgres:
    description:
      - Give the app a PostgreSQL service C(NAME-db), reachable only on the app's network. Turning it off for an
        app that has a database fails; remove the app (O(state=absent)) first. On creation V(false).
    type: bool
  postgres_image:
    description: Image of the database service. On creation V(postgres:15).
    type: str
  postgres_password:
    description:
      - Password of the database user C(NAME). Generated when the database is created if not given; kept after.
      - Stored only in the secrets C(sentinel-NAME-db-password) (raw) and C(sentinel-NAME-db-pgpass) (a pgpass
        line, mounted in the app at C(/run/secrets/pgpass), C(PGPASSFILE)).
    type: str
  pgpass_uid:
    description:
      - Numeric user and group ID that owns C(/run/secrets/pgpass) in the app's containers
        (C(SecretReference.File.UID/GID)). libpq reads a password file only when it is private to its user
        (mode 0400), so set the UID the image runs as. On creation V(0) (root).
    type: str
  update:
    description:
      - Rolling update settings (C(UpdateConfig)); rollbacks (C(RollbackConfig)) use the same, pausing on failure.
        On creation the defaults of the suboptions.
    type: dict
    suboptions:
      parallelism:
        description: Tasks updated at once (0 = all).
        type: int
        default: 1
      delay:
        description: Wait between batches.
        type: raw
        default: 0
      order:
        description: V(start-first) starts the new task before stopping the old one.
        type: str
        choices: [start-first, stop-first]
        default: start-first
      failure_action:
        description: What the engine does when an updated task fails.
        type: str
        choices: [rollback, pause, continue]
        default: rollback
      monitor:
        description: How long each updated task is watched for failure.
        type: raw
        default: 10
  stop_grace_period:
    description: Time a task gets to stop before it is killed (C(ContainerSpec.StopGracePeriod)). On creation V(10).
    type: raw
  wait:
    description:
      - After a change, wait until every desired task runs the new spec and is healthy; fail when the engine
        rolls the update back or tasks keep failing.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 300
  delete_data:
    description:
      - With O(state=absent) and O(role=prod), also remove the database volume (its data is lost) and the
        password secrets. Without it both stay, so deploying the app again finds its data and password.
    type: bool
    default: false
notes:
  - Runs on a Swarm manager. Services use C(endpoint_mode=dnsrr) (Traefik routes to task addresses; the app
    reaches its database by DNS), which works with and without IPVS.
"""

EXAMPLES = r"""
- name: Deploy the to-do app with a database
  sentinel.paas.swarm_app:
    name: todo
    image: registry.example.com/todo:1
    replicas: 3
    postgres: true
    env:
      LOG_LEVEL: info
    limits:
      memory: 256M

- name: Start a canary on the same networks and database
  sentinel.paas.swarm_app:
    name: todo
    role: canary
    image: registry.example.com/todo:2

- name: Remove the app and its data
  sentinel.paas.swarm_app:
    name: todo
    state: absent
    delete_data: true
"""

RETURN = r"""
app:
  description: The app after the run (as planned in check mode). Never contains the database password.
  returned: always
  type: dict
  contains:
    name:
      description: App name.
      type: str
    exists:
      description: Whether the managed service exists after the run.
      type: bool
    network:
      description: The app's overlay network.
      type: str
    image:
      description: Image reference deployed (pinned to a digest when the registry could be asked).
      type: str
    release:
      description: Release number of the managed service.
      type: int
    services:
      description: Service names of the app by role.
      type: dict
    database:
      description: Service, volume and secret names of the database, or null.
      type: dict
changes:
  description: What changed, as C(resource) (created or removed) or C(resource.field) (updated).
  returned: always
  type: list
  elements: str
  sample: [todo-prod.image, todo-prod.replicas]
diff:
  description: Before and after of the changed resources (only changed fields of updated services).
  returned: when diff mode is on
  type: dict
"""

import secrets as random_secrets
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._diff import ChangeSet
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    ImageNotFound,
    ServiceNotConverged,
    Swarm,
    docker_argument_spec,
)

DEFAULT_POSTGRES_IMAGE = "postgres:15"


class AppError(Exception):
    """An expected failure, reported as the module's message."""


class AppManager:
    def __init__(self, module, swarm):
        self.module = module
        self.swarm = swarm
        self.p = module.params
        self.app = self.p["name"]
        self.role = self.p["role"]
        self.changes = ChangeSet()
        self.warnings = []
        self.wrote = False  # set before the first write: a later failure still reports changed
        self.with_db = False

    # -- reading ------------------------------------------------------------------------
    def owned_service(self, role):
        """The app's service of ``role``, None when absent; fails on a service Sentinel does not own."""
        name = _naming.service_name(self.app, role)
        service = self.swarm.service(name)
        if service and (service["Spec"].get("Labels") or {}).get(_naming.LABEL_APP) != self.app:
            raise AppError(
                f"service {name} exists but is not managed by Sentinel (no label {_naming.LABEL_APP}={self.app})"
            )
        return service

    def view_of(self, service):
        if service is None:
            return None
        ids = {n["Id"]: n["Name"] for n in self.swarm.api.networks()}
        return spec.comparable(spec.current_view(service["Spec"], ids), self.app)

    # -- present ------------------------------------------------------------------------
    def present(self):
        prod = self.owned_service("prod")
        db = self.owned_service("db")
        network = _naming.app_network(self.app)
        if self.role == "canary":
            if prod is None or self.swarm.network(network) is None:
                raise AppError(f"app {self.app} has no production service; deploy it (role=prod) first")
            self.with_db = db is not None
        else:
            # Omitted, postgres keeps what the app has.
            self.with_db = self.p["postgres"] if self.p["postgres"] is not None else db is not None
            if db is not None and not self.with_db:
                raise AppError(
                    f"app {self.app} has a database ({db['Spec']['Name']}) but postgres is false; "
                    "turning the database off is not supported: remove the app (state=absent) first"
                )
            for net in (network, _naming.EDGE_NETWORK):
                self.changes.record(f"network {net}", self.network_view(net), {"driver": "overlay"})
            if self.with_db:
                self.plan_database(db)
        service_name = _naming.service_name(self.app, self.role)
        current = prod if self.role == "prod" else self.owned_service("canary")
        current_view = self.view_of(current)
        params = spec.effective_params(self.p, current_view, self.view_of(prod) if self.role == "canary" else None)
        if not params["image"]:
            raise AppError(f"image is required to create {service_name}")
        if self.with_db:
            self.check_env(params["env"])
        desired = spec.build_view(params, with_db=self.with_db)
        fields = self.changes.record(service_name, current_view, desired)
        image_ref = self.image_ref(params["image"], current, fields)
        release = spec.release_labels(current and current["Spec"].get("Labels"), fields, image_ref, _now())
        if self.changes.changed and not self.module.check_mode:
            self.wrote = True
            self.apply_present(service_name, current, desired, image_ref, release, fields)
        return self.result(service_name, exists=True, image=image_ref, release=int(release[_naming.LABEL_RELEASE]))

    def check_env(self, env):
        clash = sorted(set(env) & set(spec.DB_ENV_KEYS))
        if clash:
            raise AppError(f"env {', '.join(clash)} is set by the module for the app's database; remove it from env")

    def network_view(self, name):
        network = self.swarm.network(name)
        return {"driver": network["Driver"]} if network else None

    def plan_database(self, db):
        self.db_secrets = self.plan_secrets(db)
        volume = _naming.db_volume(self.app)
        if db is None:
            # Pin a new database to this node: the volume is created here, next to it.
            self.db_constraints = [f"node.id=={self.swarm.local_node_id()}"]
            self.changes.record(
                f"volume {volume}", self.swarm.volume(volume) and {"driver": "local"}, {"driver": "local"}
            )
        else:
            self.db_constraints = self.view_of(db)["constraints"]
        # Omitted, postgres_image keeps the database's image.
        image = self.p["postgres_image"] or (self.view_of(db)["image"] if db else DEFAULT_POSTGRES_IMAGE)
        self.db_desired = spec.db_view(self.app, image, self.db_constraints)
        self.db_current = db
        self.db_fields = self.changes.record(_naming.service_name(self.app, "db"), self.view_of(db), self.db_desired)
        self.db_image = self.image_ref(image, db, self.db_fields)

    def plan_secrets(self, db):
        """Secrets to create: {name: (content, labels)}. The password lives only in this data."""
        names = (_naming.db_password_secret(self.app), _naming.db_pgpass_secret(self.app))
        existing = {n: self.swarm.secret(n) for n in names}
        given = self.p.get("postgres_password")
        for name, secret in existing.items():
            if secret and given is not None:
                stored = (secret["Spec"].get("Labels") or {}).get(_naming.LABEL_CONFIG_HASH)
                if not spec.password_matches(given, stored):
                    raise AppError(
                        f"postgres_password differs from the one in secret {name}: changing the database "
                        "password is not supported (Postgres keeps the password it was initialised with)"
                    )
        missing = [n for n, s in existing.items() if s is None]
        if not missing:
            return {}
        if len(missing) < len(names) and given is None:
            raise AppError(f"secret {missing[0]} is missing; pass postgres_password to recreate it")
        if len(missing) == len(names) and db is not None and given is None:
            raise AppError("the database exists but its secrets are missing; pass postgres_password to recreate them")
        volume = _naming.db_volume(self.app)
        if db is None and given is None and self.swarm.volume(volume) is not None:
            # A new random password would not open data initialised with the old one.
            raise AppError(
                f"volume {volume} keeps the data of an earlier deployment: pass its postgres_password to use it, "
                "or remove it (state=absent, delete_data=true)"
            )
        password = given if given is not None else random_secrets.token_urlsafe(24)
        contents = {names[0]: password, names[1]: spec.pgpass_line(password)}
        for name in missing:
            self.changes.record(f"secret {name}", None, {"name": name})
        labels = {
            **_naming.app_labels(self.app, "db"),
            _naming.LABEL_CONFIG_HASH: spec.password_hash(password, random_secrets.token_hex(8)),
        }
        return {name: (contents[name], labels) for name in missing}

    def image_ref(self, image, current, fields):
        """What to deploy: the running pinned reference when the image did not change, else the
        image pinned to the digest its registry serves now (validated before any write)."""
        if current is not None and "image" not in fields:
            return current["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        try:
            pinned = self.swarm.image_digest(image)
        except ImageNotFound as exc:
            raise AppError(str(exc)) from None
        if pinned is None:
            self.warnings.append(f"could not ask the registry for the digest of {image}; deploying the tag unpinned")
        return pinned or image

    def apply_present(self, service_name, current, desired, image_ref, release, fields):
        if self.role == "prod":
            for net, labels in (
                (_naming.app_network(self.app), {_naming.LABEL_APP: self.app}),
                (_naming.EDGE_NETWORK, {}),
            ):
                if self.swarm.network(net) is None:
                    self.swarm.create_network(net, labels=labels)
            if self.with_db:
                self.apply_database()
        labels = {**desired["labels"], **release}
        if self.write_service(service_name, current, desired, image_ref, labels, fields) and self.p["wait"]:
            self.wait(service_name, image_ref)

    def apply_database(self):
        for name, (content, labels) in self.db_secrets.items():
            self.swarm.create_secret(name, content.encode(), labels)
        volume = _naming.db_volume(self.app)
        if self.db_current is None and self.swarm.volume(volume) is None:
            self.swarm.create_volume(volume, labels=_naming.app_labels(self.app, "db"))
        name = _naming.service_name(self.app, "db")
        # The database is healthy before the app (re)starts against it.
        changed = self.write_service(
            name, self.db_current, self.db_desired, self.db_image, self.db_desired["labels"], self.db_fields
        )
        if changed and self.p["wait"]:
            self.wait(name, self.db_image)

    def write_service(self, name, current, desired, image_ref, labels, fields):
        """Create or update one service; True when its tasks change (worth waiting for)."""
        if current is None:
            self.swarm.api.create_service(**self.engine_spec(name, desired, image_ref, labels, None))
            return True
        if not fields:
            return False

        def build(latest):
            # Router labels of traefik_route are kept exactly as found at write time.
            kept = spec.route_labels(latest["Spec"].get("Labels") or {}, self.app)
            return self.engine_spec(name, desired, image_ref, {**labels, **kept}, latest["Spec"]["TaskTemplate"])

        self.swarm.update_service(name, build)
        return bool(set(fields) & set(spec.TASK_FIELDS + ("replicas",)))

    def engine_spec(self, name, desired, image_ref, labels, base_template):
        network_ids = {n: self.swarm.network(n)["Id"] for n in desired["networks"]}
        secret_ids = {s["name"]: self.swarm.secret(s["name"])["ID"] for s in desired["secrets"]}
        return spec.service_spec(name, desired, labels, image_ref, network_ids, secret_ids, base_template)

    def wait(self, name, image):
        try:
            self.swarm.wait_converged(name, self.p["wait_timeout"])
        except ServiceNotConverged as exc:
            raise AppError(f"service {name} (image {image}) did not converge: {exc}") from None

    # -- absent -------------------------------------------------------------------------
    def absent(self):
        if self.role == "canary":
            canary = self.owned_service("canary")
            self.changes.record(_naming.service_name(self.app, "canary"), self.view_of(canary), None)
            if canary and not self.module.check_mode:
                self.wrote = True
                self.swarm.remove_service(canary["ID"])
            return self.result(_naming.service_name(self.app, "canary"), exists=False)
        services = {role: self.owned_service(role) for role in ("canary", "prod", "db")}
        for role, service in services.items():
            self.changes.record(_naming.service_name(self.app, role), self.view_of(service), None)
        # The password secrets are the key to the data: they go with the volume, not before it.
        secret_names = (_naming.db_password_secret(self.app), _naming.db_pgpass_secret(self.app))
        secrets_found = [n for n in secret_names if self.p["delete_data"] and self.swarm.secret(n)]
        for name in secrets_found:
            self.changes.record(f"secret {name}", {"name": name}, None)
        network = _naming.app_network(self.app)
        self.changes.record(f"network {network}", self.network_view(network), None)
        volume = _naming.db_volume(self.app)
        remove_volume = self.p["delete_data"] and self.swarm.volume(volume) is not None
        if remove_volume:
            self.changes.record(f"volume {volume}", {"driver": "local"}, None)
        elif self.p["delete_data"] and services["db"] is not None:
            pinned = self.view_of(services["db"])["constraints"]
            if f"node.id=={self.swarm.local_node_id()}" not in pinned:
                raise AppError(f"the database volume {volume} is on another node ({', '.join(pinned)}); run there")
        if self.changes.changed and not self.module.check_mode:
            self.wrote = True
            for service in services.values():
                if service:
                    self.swarm.remove_service(service["ID"])
            for name in secrets_found:
                self.swarm.remove_secret(name)
            if self.network_view(network):
                self.swarm.remove_network(network)
            if remove_volume:
                self.swarm.remove_volume(volume)
        return self.result(_naming.service_name(self.app, "prod"), exists=False)

    # -- result -------------------------------------------------------------------------
    def result(self, service_name, exists, image=None, release=None):
        database = None
        if self.role == "prod" and exists and self.with_db:
            database = {
                "service": _naming.service_name(self.app, "db"),
                "volume": _naming.db_volume(self.app),
                "secrets": [_naming.db_password_secret(self.app), _naming.db_pgpass_secret(self.app)],
            }
        app = {
            "name": self.app,
            "exists": exists,
            "network": _naming.app_network(self.app),
            "services": {self.role: service_name},
            "image": image,
            "release": release,
            "database": database,
        }
        result = {"changed": self.changes.changed, "changes": self.changes.changes, "app": app}
        if self.module._diff:
            result["diff"] = self.changes.diff
        if self.warnings:
            result["warnings"] = self.warnings
        return result


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def argument_spec():
    # Options without a default keep the service's current value when omitted (see DOCUMENTATION).
    duration = {"type": "raw"}
    return docker_argument_spec(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        role={"type": "str", "choices": ["prod", "canary"], "default": "prod"},
        image={"type": "str"},
        replicas={"type": "int"},
        env={"type": "dict"},
        port={"type": "int"},
        healthcheck={
            "type": "dict",
            "options": {
                "test": {"type": "raw", "required": True},
                "interval": duration,
                "timeout": duration,
                "retries": {"type": "int"},
                "start_period": duration,
            },
        },
        limits={"type": "dict", "options": {"cpus": {"type": "float"}, "memory": {"type": "str"}}},
        labels={"type": "dict"},
        postgres={"type": "bool"},
        postgres_image={"type": "str"},
        postgres_password={"type": "str", "no_log": True},
        pgpass_uid={"type": "str", "no_log": False},
        update={
            "type": "dict",
            "options": {
                "parallelism": {"type": "int", "default": 1},
                "delay": {"type": "raw", "default": 0},
                "order": {"type": "str", "choices": ["start-first", "stop-first"], "default": "start-first"},
                "failure_action": {"type": "str", "choices": ["rollback", "pause", "continue"], "default": "rollback"},
                "monitor": {"type": "raw", "default": 10},
            },
        },
        stop_grace_period=duration,
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
        delete_data={"type": "bool", "default": False},
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    verb = "deploying" if module.params["state"] == "present" else "removing"
    name = module.params["name"]
    try:
        spec.validate(module.params)
    except spec.AppSpecError as exc:
        module.fail_json(msg=f"Error {verb} app {name}: {exc}", changed=False)
    manager = AppManager(module, Swarm(module))
    try:
        result = manager.present() if module.params["state"] == "present" else manager.absent()
    except (AppError, spec.AppSpecError) as exc:
        module.fail_json(msg=f"Error {verb} app {name}: {exc}", changed=manager.wrote)
    except APIError as exc:
        module.fail_json(msg=f"Error {verb} app {name}: Docker API: {exc}", changed=manager.wrote)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

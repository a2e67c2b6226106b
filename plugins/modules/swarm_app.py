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
  - A new network C(sentinel-NAME) is created encrypted (IPsec between nodes) when C(sentinel-edge) is, as the
    C(control_plane) role makes it with C(control_plane_encrypted_networks); an existing network is left as it is.
  - Only the fields this module manages are compared (server-owned fields and the digest the engine pins
    to the image are ignored). Labels owned by P(sentinel.paas.traefik_route#module) (router and middleware
    labels of the app) are preserved exactly.
  - Each change of the task spec (image, env, healthcheck, limits, secrets, stop grace period, networks)
    is a new release, numbered from 1; the service's label C(sentinel.release) names the one it runs.
    Production's releases are recorded after the update (with O(wait), once it converged), each in a Docker config
    C(sentinel-release-NAME-N) (labels C(sentinel.release.app), C(sentinel.release.number)) holding as JSON the
    image pinned to the digest the registry served, the environment (O(env)), the secret names of
    O(secret_env) (never a value), the fields that changed, the time (UTC), O(release_by) and
    O(release_reason). M(sentinel.paas.release_info) reads them; the app keeps the last O(releases_kept).
    An image of the cluster registry (M(sentinel.paas.image_build)) is also tagged C(rN) there, N the release.
  - The database password is generated once (or taken from O(postgres_password)) and stored only in Docker
    secrets; the secret carries a salted hash of it in label C(sentinel.config-hash) so a given password can
    be compared. Changing the password of an existing database is not supported (Postgres keeps the
    password it was initialised with) and fails.
  - The database is pinned (placement constraint C(node.id)) to the node its local volume lives on, O(db_node), else
    the manager the module runs on when it is created; later runs keep that constraint.
  - Options shown without a default keep the service's current value when omitted, so O(name) and O(replicas)
    alone scale an app. When the service is created they take the value given as "on creation"; a new canary
    takes them from production (except O(image) and O(replicas)).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: Views of the created, removed or updated resources; for updated services only the changed fields.
options:
  state:
    description:
      - V(present) creates or updates the app; V(absent) removes it.
      - With O(role=prod), V(absent) removes canary, baseline, production and database services and the network;
        the database volume and the password secrets (the key to that data) only with O(delete_data). With
        O(role=canary) or O(role=baseline), only that service.
    type: str
    choices: [present, absent]
    default: present
  role:
    description:
      - V(prod) manages C(NAME-prod) and everything of the app; V(canary) manages C(NAME-canary) only, on the
        same networks and with the same database wiring as production, which must exist already.
      - V(baseline) manages C(NAME-baseline) as V(canary) does C(NAME-canary). A rollout with a baseline runs
        production's image in it beside the canary, to compare the two at the same age and share.
    type: str
    choices: [prod, canary, baseline]
    default: prod
  image:
    description:
      - Image of the service (C(TaskTemplate.ContainerSpec.Image)). Required to create the service.
    type: str
  replicas:
    description: Number of tasks (C(Mode.Replicated.Replicas)), at most O(max_replicas). On creation V(1).
    type: int
  max_replicas:
    description:
      - The most tasks O(replicas) may ask for; a guard against a typo that would flood the cluster.
    type: int
    default: 100
  env:
    description:
      - Environment of the containers (C(ContainerSpec.Env)). With O(postgres), C(PGHOST), C(PGPORT), C(PGUSER),
        C(PGDATABASE) and C(PGPASSFILE) are set by the module and may not be given here. On creation empty.
    type: dict
  secret_env:
    description:
      - Secrets of the app, as a dict of C(KEY) to value. Each value is kept only in a Docker secret
        C(sentinel-NAME-env-KEY-N), mounted read-only in the containers at C(/run/secrets/KEY); the environment gets
        C(KEY_FILE=/run/secrets/KEY), the convention of the official images (C(POSTGRES_PASSWORD_FILE)).
      - Given, these are all the app's secrets. A changed value becomes a new version N, the service switches to it
        through the rolling update (a new release), and a version that neither a service nor a kept release
        (O(releases_kept)) names is removed once that update converged (never with O(wait=false), nor after a
        failed one, since a rollback needs it). So a rollback to a kept release gets its values back, and a leaked
        value is gone for good once no kept release names it.
        A value is compared through a salted hash in the secret's label C(sentinel.config-hash), so the same values
        change nothing.
      - Values are never returned, logged or shown in a diff (names only). On creation none; a new canary takes
        production's. Not with O(secret_env_from) or O(secret_env_release).
    type: dict
  secret_env_merge:
    description:
      - With V(true), O(secret_env) names only the secrets that change, as C(playbooks/config_set.yml) gives them. A
        C(KEY) with a value takes it, a C(KEY) given null goes, and the service keeps every other secret it has (their
        values cannot be read back, so no caller could give them all).
    type: bool
    default: false
  secret_env_from:
    description:
      - Take the secrets of the app's service of this role as they are, by name (the values never leave the Swarm);
        a promotion gives production the canary's. Not with O(secret_env).
    type: str
    choices: [prod, canary, baseline]
  secret_env_release:
    description:
      - Take the secrets production's kept release N named, by name, as C(playbooks/release_rollback.yml) does
        beside that release's O(image) and O(env). Refused when release N is not kept. A version that is gone (a
        record written before versions were kept with their releases) gives way to the one production names now,
        with a warning; refused when production has none for that key. Only for O(role=prod). Not with
        O(secret_env) or O(secret_env_from).
    type: int
  port:
    description: >-
      Container port Traefik sends requests to
      (label C(traefik.http.services.NAME-ROLE.loadbalancer.server.port)). On creation V(8000).
    type: int
  health_path:
    description:
      - An HTTP path of the app that answers 2xx or 3xx while a task can serve (such as V(/healthz)). Traefik asks
        it on every task every 2 s and takes a task that fails out of the load balancer until it answers again,
        so a dead task or a lost node stops getting requests within seconds, and a task shutting down as soon as
        it says so (labels C(traefik.http.services.NAME-ROLE.loadbalancer.healthcheck.path), C(.interval) 2s,
        C(.timeout) 1s).
      - V("") turns it off. On creation off.
    type: str
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
    description:
      - Image of the database service. On creation V(postgres:15).
      - A new image of another PostgreSQL major version (by its tag, such as V(postgres:16)) is refused, since
        a server opens only data of its own major version; move the data with a dump and restore or pg_upgrade
        first.
    type: str
  db_node:
    description:
      - The Swarm node ID the database (C(NAME-db)) is pinned to, with its volume. Omitted, an existing database
        stays where it is and a new one goes to the manager the module runs on (its volume is made there).
      - A change moves the database's task to that node, where it opens the node's own volume C(sentinel-NAME-db)
        (the engine makes an empty one when there is none); the data does not move with it.
        C(playbooks/db_move.yml) copies it there first (sentinel db move).
      - With O(state=absent) and O(delete_data), a volume on another node is left there with a warning (only that
        node's engine removes it; C(playbooks/destroy.yml) does).
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
      - Each suboption left out keeps the service's current setting (on creation, the value it names).
    type: dict
    suboptions:
      parallelism:
        description: Tasks updated at once (0 = all). On creation V(1).
        type: int
      delay:
        description: Wait between batches. On creation V(0).
        type: raw
      order:
        description: V(start-first) starts the new task before stopping the old one. On creation V(start-first).
        type: str
        choices: [start-first, stop-first]
      failure_action:
        description: What the engine does when an updated task fails. On creation V(rollback).
        type: str
        choices: [rollback, pause, continue]
      monitor:
        description: How long each updated task is watched for failure. On creation V(10).
        type: raw
  stop_grace_period:
    description: Time a task gets to stop before it is killed (C(ContainerSpec.StopGracePeriod)). On creation V(10).
    type: raw
  force_update:
    description:
      - Start new tasks of the service even though its spec is unchanged (C(TaskTemplate.ForceUpdate)), through the
        rolling update (O(update)); the scheduler places them afresh, which spreads them over the nodes. Always a
        change; not a new release.
    type: bool
    default: false
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
  release_by:
    description: Who makes this change, as the release record of production keeps it (for example V(ann@laptop)).
    type: str
  release_reason:
    description: Why, as the release record of production keeps it (for example V(deploy), V(rollback to v3)).
    type: str
  releases_kept:
    description: How many of production's release records the app keeps, the newest; older ones are removed.
    type: int
    default: 50
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
    port:
      description: Container port Traefik sends the managed service's requests to; null when it is removed.
      type: int
    services:
      description: Service names of the app by role.
      type: dict
    database:
      description: Service, volume and secret names of the database, or null.
      type: dict
    secret_env:
      description: The secret names the managed service mounts, by C(KEY) (never a value); null when removed.
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
from functools import partial

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _app_spec as spec
from ansible_collections.sentinel.paas.plugins.module_utils import _db_schedule, _naming, _registry
from ansible_collections.sentinel.paas.plugins.module_utils import _release_record as releases
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._diff import ChangeSet
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    ImageNotFound,
    ServiceNotConverged,
    Swarm,
    docker_argument_spec,
)

NETWORK = {"driver": "overlay"}
VOLUME = {"driver": "local"}


class AppError(Exception):
    """An expected failure, reported as the module's message."""


class Step:
    """One resource of the plan: its current and desired view (None: absent) and the write between them.

    ``apply()`` runs only when the two differ, outside check mode.
    """

    def __init__(self, key, before, after, apply):
        self.key, self.before, self.after, self.apply = key, before, after, apply


class ServiceStep(Step):
    """A service's step: also the image reference it deploys and the labels it writes."""

    def __init__(self, manager, name, service, before, after, image_ref):
        super().__init__(name, before, after, lambda: manager.write_service(service, self))
        self.fields = spec.changed_fields(after, before, manager.app)
        self.image_ref = image_ref
        self.labels = after["labels"]


class AppManager:
    """Plans the whole app (every resource's current and desired view), then applies the plan."""

    def __init__(self, module, swarm):
        self.module = module
        self.swarm = swarm
        self.p = module.params
        self.app = self.p["name"]
        self.role = self.p["role"]
        self.changes = ChangeSet()
        self.warnings = []
        self.wrote = False  # set before the first write: a later failure still reports changed
        self._network_names = None
        self.app_step = None  # the step of the managed service, set by plan_present
        self.after_converged = []  # steps that wait until the managed service runs what it names now

    def run(self):
        steps, result = self.plan_present() if self.p["state"] == "present" else self.plan_absent()
        planned = [(step, self.changes.record(step.key, step.before, step.after)) for step in steps]
        writes = [] if self.module.check_mode else [step for step, fields in planned if fields]
        self.wrote = bool(writes)
        for step in writes:
            if step not in self.after_converged:
                step.apply()
        waits = self.p["state"] == "present" and self.p["wait"] and not self.module.check_mode
        if waits and self.app_step not in writes:
            self.finish_interrupted_update(self.app_step.key)
        # Only once the update converged (a failed one raised above): a rollback needs what it names.
        for step in writes:
            if step in self.after_converged:
                step.apply()
        return self.result(**result)

    def finish_interrupted_update(self, name):
        """A run killed mid-roll left Swarm rolling out the spec this run asks for: wait for the
        outcome (and fail on a rollback) instead of reporting success while old tasks still serve."""
        state = ((self.swarm.service(name) or {}).get("UpdateStatus") or {}).get("State")
        if state in ("updating", "rollback_started"):
            try:
                self.swarm.wait_converged(name, self.p["wait_timeout"])
            except ServiceNotConverged as exc:
                raise AppError(f"the unfinished update of service {name} did not converge: {exc}") from None

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
        if self._network_names is None:
            self._network_names = self.swarm.network_names()
        return spec.comparable(spec.current_view(service["Spec"], self._network_names), self.app)

    def network_view(self, name):
        network = self.swarm.network(name)
        return {"driver": network["Driver"]} if network else None

    # -- present ------------------------------------------------------------------------
    def plan_present(self):
        prod, db = self.owned_service("prod"), self.owned_service("db")
        if self.role in _naming.SIDE_ROLES:
            if prod is None or self.swarm.network(_naming.app_network(self.app)) is None:
                raise AppError(f"app {self.app} has no production service; deploy it (role=prod) first")
            with_db, steps = db is not None, []
        else:
            # Omitted, postgres keeps what the app has.
            with_db = self.p["postgres"] if self.p["postgres"] is not None else db is not None
            if db is not None and not with_db:
                raise AppError(
                    f"app {self.app} has a database ({db['Spec']['Name']}) but postgres is false; "
                    "turning the database off is not supported: remove the app (state=absent) first"
                )
            steps = self.network_steps()
            if with_db:
                steps += self.database_steps(db)
        current = prod if self.role == "prod" else self.owned_service(self.role)
        refs, secret_steps = self.secret_env_plan(prod)
        step, image_ref, release = self.app_service_step(current, prod, with_db, refs)
        self.app_step = step
        # The same rule as the release number's: a new service, or a change that starts new tasks.
        new_release = self.role == "prod" and (step.before is None or spec.needs_release(step.fields))
        steps_after = [self.release_record_step(release, step, with_db)] if new_release else []
        in_use = {s["name"] for s in step.after["secrets"]} | self.secrets_in_use(exclude=self.role)
        in_use |= self.secrets_of_releases(writing=new_release)
        port = spec.port_of(step.after["labels"], self.app, self.role)
        result = {
            "exists": True,
            "with_db": with_db,
            "image": image_ref,
            "release": release,
            "port": port,
            "secret_env": spec.secret_env_refs(step.after["secrets"], self.app),
        }
        # Without wait nothing says the update took: the old versions stay for a run that waits.
        self.after_converged = self.unused_secret_steps(in_use) if self.p["wait"] else []
        return [*steps, *secret_steps, step, *steps_after, *self.after_converged], result

    def network_steps(self):
        steps = []
        # The edge network carries the platform's labels, as the control plane makes it (whoever comes first).
        networks = (
            (_naming.app_network(self.app), {_naming.LABEL_APP: self.app}),
            (_naming.EDGE_NETWORK, dict(_naming.PLATFORM_LABELS)),
        )
        # The control plane encrypts the edge network on request (control_plane_encrypted_networks); a new
        # app network follows it. Encryption is made at creation only, so it is not compared.
        edge = self.swarm.network(_naming.EDGE_NETWORK)
        encrypted = edge is not None and "encrypted" in (edge.get("Options") or {})
        for name, labels in networks:
            current = self.network_view(name)
            if current not in (None, NETWORK):
                raise AppError(f"network {name} exists with driver {current['driver']}; Sentinel needs an overlay")
            create = partial(self.swarm.create_network, name, labels, encrypted=encrypted)
            steps.append(Step(f"network {name}", current, NETWORK, create))
        return steps

    def database_steps(self, db):
        """Secrets, volume and service of NAME-db, in the order they must exist."""
        steps = self.secret_steps(db)
        volume = _naming.db_volume(self.app)
        current = self.view_of(db)
        here, node = self.swarm.local_node_id(), self.p["db_node"]
        if node is not None and node not in self.swarm.nodes():
            raise AppError(f"db_node {node} is not a node ID of this Swarm")
        if db is None and node in (None, here):
            # Pin a new database to this node: the volume is created here, next to it.
            constraints = [f"node.id=={here}"]
            steps.append(
                Step(
                    f"volume {volume}",
                    VOLUME if self.swarm.volume(volume) else None,
                    VOLUME,
                    partial(self.swarm.create_volume, volume, _naming.app_labels(self.app, "db")),
                )
            )
        else:
            # Elsewhere the engine makes an empty volume when the task starts, if the node has none.
            constraints = [f"node.id=={node}"] if node else current["constraints"]
        image = self.p["postgres_image"]
        if image is None:  # omitted: the database keeps its image
            image = current["image"] if current else spec.DEFAULT_POSTGRES_IMAGE
        elif current is not None:
            refusal = spec.postgres_upgrade_error(current["image"], image)
            if refusal:
                raise AppError(refusal)
        desired = spec.db_view(self.app, image, constraints)
        steps.append(self.service_step(_naming.service_name(self.app, "db"), db, current, desired, image))
        return steps

    def secret_steps(self, db):
        """Steps creating the password secrets that are missing. The password lives only in these steps."""
        names = (_naming.db_password_secret(self.app), _naming.db_pgpass_secret(self.app))
        existing = {n: self.swarm.secret(n) for n in names}
        given = self.p.get("postgres_password")
        for name, secret in existing.items():
            if secret and given is not None:
                stored = _config_hash(secret)
                if not spec.password_matches(given, stored):
                    raise AppError(
                        f"postgres_password differs from the one in secret {name}: changing the database "
                        "password is not supported (Postgres keeps the password it was initialised with)"
                    )
        missing = [n for n, s in existing.items() if s is None]
        if not missing:
            return []
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
        labels = {
            **_naming.app_labels(self.app, "db"),
            _naming.LABEL_CONFIG_HASH: spec.password_hash(password, random_secrets.token_hex(8)),
        }
        return [
            Step(f"secret {n}", None, {"name": n}, partial(self.swarm.create_secret, n, contents[n].encode(), labels))
            for n in missing
        ]

    def secret_env_plan(self, prod):
        """The secrets the managed service is to name ({KEY: secret name}) and the steps creating the new
        versions among them; None (no steps) when neither secret_env nor secret_env_from is given, which
        keeps the service's own (a new canary's: production's)."""
        source, values = self.p["secret_env_from"], self.p["secret_env"]
        if self.p["secret_env_release"] is not None:
            return self.secret_env_of_release(self.p["secret_env_release"], prod), []
        if source:
            service = prod if source == "prod" else self.owned_service(source)
            if service is None:
                raise AppError(f"app {self.app} has no {source} service to take the secrets of")
            return spec.secret_env_refs(self.view_of(service)["secrets"], self.app), []
        if values is None:
            return None, []
        refs, steps = {}, []
        if self.p["secret_env_merge"]:
            # Merged into the service's own secrets; a new canary's are production's.
            current = (None if self.role == "prod" else self.owned_service(self.role)) or prod
            refs = spec.secret_env_refs(self.view_of(current)["secrets"], self.app) if current else {}
        for key, value in sorted(values.items()):
            if value is None:  # secret_env_merge: the key goes
                refs.pop(key, None)
                continue
            versions = {s["Spec"]["Name"]: s for s in self.secret_env_versions(key)}
            same = [n for n, s in versions.items() if spec.password_matches(value, _config_hash(s))]
            if same:
                refs[key] = same[0]
                continue
            prefix = _naming.secret_env_prefix(self.app, key)
            number = max((int(n[len(prefix) :]) for n in versions if n[len(prefix) :].isdigit()), default=0) + 1
            name = refs[key] = _naming.secret_env_name(self.app, key, number)
            labels = {
                _naming.LABEL_APP: self.app,
                _naming.LABEL_SECRET_KEY: key,
                _naming.LABEL_CONFIG_HASH: spec.password_hash(value, random_secrets.token_hex(8)),
            }
            create = partial(self.swarm.create_secret, name, value.encode(), labels)
            steps.append(Step(f"secret {name}", None, {"name": name}, create))
        return refs, steps

    def secret_env_of_release(self, number, prod):
        """The secrets a kept release named ({KEY: secret name}). A version gone from the Swarm (removed
        before versions were kept with their releases) gives way to production's current one, with a warning."""
        found = [c for c in self.release_records() if releases.number_of(c) == number]
        if not found:
            raise AppError(f"app {self.app} has no release v{number}")
        refs = dict(releases.record_of(found[0]).get("secret_env") or {})
        current = spec.secret_env_refs(self.view_of(prod)["secrets"], self.app) if prod else {}
        for key, name in sorted(refs.items()):
            if self.swarm.secret(name) is not None:
                continue
            if key not in current:
                raise AppError(
                    f"the secret {name} of release v{number} is gone and production has no {key} to keep: "
                    f"give {key} a value first (sentinel config set {self.app} --secret {key})"
                )
            refs[key] = current[key]
            self.warnings.append(f"the secret {name} of release v{number} is gone: {key} keeps {current[key]}")
        return refs

    def secrets_of_releases(self, writing=False):
        """Names of the secrets the app's kept releases name (those that stay beside a new record when
        ``writing`` one), so that a rollback finds them."""
        records = self.release_records()
        kept = releases.kept_beside_new(records, self.p["releases_kept"]) if writing else records
        return {name for c in kept for name in (releases.record_of(c).get("secret_env") or {}).values()}

    def secret_env_versions(self, key=None):
        """The app's secret_env secrets (of one KEY, or all)."""
        return self.swarm.secrets({_naming.LABEL_APP: self.app, _naming.LABEL_SECRET_KEY: key})

    def secrets_in_use(self, exclude):
        """Names of the secrets the app's services name, but for the service of role ``exclude``."""
        names = [_naming.service_name(self.app, role) for role in ("prod", *_naming.SIDE_ROLES) if role != exclude]
        services = [self.swarm.service(name) for name in names]
        # A service of that name that is not the app's (refused where it is managed) names none of its secrets.
        ours = [s for s in services if s and (s["Spec"].get("Labels") or {}).get(_naming.LABEL_APP) == self.app]
        return {secret["name"] for s in ours for secret in self.view_of(s)["secrets"]}

    def unused_secret_steps(self, in_use):
        """Steps removing the secret_env versions no service will name: after the services' steps, since
        the engine refuses to remove a secret a service names."""
        names = sorted(s["Spec"]["Name"] for s in self.secret_env_versions())
        remove = self.swarm.remove_secret
        return [Step(f"secret {n}", {"name": n}, None, partial(remove, n)) for n in names if n not in in_use]

    def app_service_step(self, current, prod, with_db, secret_env_refs):
        """The step of NAME-prod or NAME-canary, with the image reference and release it deploys."""
        name = _naming.service_name(self.app, self.role)
        current_view = self.view_of(current)
        side = self.role in _naming.SIDE_ROLES
        given = dict(self.p, secret_env_refs=secret_env_refs)
        params = spec.effective_params(given, current_view, self.view_of(prod) if side else None)
        if not params["image"]:
            raise AppError(f"image is required to create {name}")
        clash = sorted(set(params["env"]) & set(spec.secret_env_file_vars(params["secret_env_refs"])))
        if clash:
            raise AppError(f"env {', '.join(clash)} is set by the module for secret_env; remove it from env")
        if with_db:
            clash = sorted(set(params["env"]) & set(spec.DB_ENV_KEYS))
            if clash:
                raise AppError(
                    f"env {', '.join(clash)} is set by the module for the app's database; remove it from env"
                )
        desired = spec.build_view(params, with_db=with_db)
        running = current and current["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        desired, current_view = spec.compare_digests(desired, current_view, params["image"], running)
        step = self.service_step(name, current, current_view, desired, params["image"], self.p["force_update"])
        labels = current and current["Spec"].get("Labels")
        recorded = max(map(releases.number_of, self.release_records()), default=0) if self.role == "prod" else 0
        release = spec.release_number(labels, step.fields, recorded)
        step.labels = {**step.labels, _naming.LABEL_RELEASE: str(release)}
        return step, step.image_ref, release

    def release_records(self):
        return self.swarm.configs({releases.LABEL_APP: self.app})

    def release_record_step(self, number, step, with_db):
        """Records production's new release once its update converged (a step after the service's),
        and prunes the app's records to the newest ``releases_kept``."""
        refs = spec.secret_env_refs(step.after["secrets"], self.app)
        production = {
            "image": step.image_ref,
            "env": spec.user_env(step.after["env"], has_db=with_db, secret_keys=refs),
            "secret_env": refs,
        }
        note = {"by": self.p["release_by"], "reason": self.p["release_reason"]}
        # A new service's fields all "change": its record says it was created instead.
        changes = ["created"] if step.before is None else step.fields
        record = releases.new_record(self.app, number, production, changes, note, _now())
        name = releases.config_name(self.app, number)

        def write():
            pruned = releases.to_prune(self.release_records(), self.p["releases_kept"])
            self.swarm.create_config(name, releases.data_of(record), releases.labels(self.app, number))
            for old in pruned:
                self.swarm.remove_config(old["ID"])
            self.tag_release(number, step.image_ref)

        return Step(f"release {name}", None, releases.shown(record, number), write)

    def tag_release(self, number, image):
        """An image of the cluster registry (built from source) is also tagged rN, the release it became; the release
        is made either way."""
        repository, digest = _registry.app_of(image), _registry.digest_of(image)
        if not (repository and digest):
            return
        try:
            _registry.Registry().tag(repository, digest, f"r{number}")
        except (OSError, ValueError, _registry.RegistryError) as exc:
            self.warnings.append(f"release v{number} is not tagged r{number} in the cluster registry: {exc}")

    def service_step(self, name, current, current_view, desired, image, restart=False):
        desired = spec.with_restart(desired, current_view, restart)
        fields = spec.changed_fields(desired, current_view, self.app)
        return ServiceStep(self, name, current, current_view, desired, self.image_ref(image, current, fields))

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

    def write_service(self, current, step):
        """Create or update one service, then wait (with O(wait)) when its tasks change."""
        name = step.key
        if current is None:
            self.swarm.create_service(**self.engine_spec(name, step, None))
        else:

            def build(latest):
                # Router labels of traefik_route are kept exactly as found at write time.
                kept = spec.route_labels(latest["Spec"].get("Labels") or {}, self.app)
                return self.engine_spec(name, step, latest["Spec"]["TaskTemplate"], kept)

            self.swarm.update_service(name, build)
        if (current is None or set(step.fields) & set(spec.RESTART_FIELDS)) and self.p["wait"]:
            try:
                self.swarm.wait_converged(name, self.p["wait_timeout"])
            except ServiceNotConverged as exc:
                raise AppError(f"service {name} (image {step.image_ref}) did not converge: {exc}") from None

    def engine_spec(self, name, step, base_template, route_labels=None):
        network_ids = {n: self.swarm.network(n)["Id"] for n in step.after["networks"]}
        secret_ids = {s["name"]: self.swarm.secret(s["name"])["ID"] for s in step.after["secrets"]}
        labels = {**step.labels, **(route_labels or {})}
        return spec.service_spec(name, step.after, labels, step.image_ref, network_ids, secret_ids, base_template)

    # -- absent -------------------------------------------------------------------------
    def plan_absent(self):
        roles = (self.role,) if self.role in _naming.SIDE_ROLES else (*_naming.SIDE_ROLES, "prod", "db")
        services = {role: self.owned_service(role) for role in roles}
        steps = [
            Step(s["Spec"]["Name"], self.view_of(s), None, partial(self.swarm.remove_service, s["ID"]))
            for s in services.values()
            if s
        ]
        if self.role == "prod":
            steps += self.schedule_absent_steps()
            steps += self.app_resources_absent_steps(services["db"])
            steps += [
                Step(
                    f"release {c['Spec']['Name']}",
                    {"release": releases.number_of(c)},
                    None,
                    partial(self.swarm.remove_config, c["ID"]),
                )
                for c in self.release_records()
            ]
        # The whole app goes with its records; a side service leaves what the others and the records name.
        kept = set() if self.role == "prod" else self.secrets_in_use(exclude=self.role) | self.secrets_of_releases()
        steps += self.unused_secret_steps(kept)
        result = {"exists": False, "with_db": False, "image": None, "release": None, "port": None, "secret_env": None}
        return steps, result

    def schedule_absent_steps(self):
        """The database's backup schedule (db_schedule) goes with the app; its backups stay."""
        schedule = self.swarm.service(_db_schedule.service_name(self.app))
        if not _db_schedule.is_schedule_of(schedule, self.app):
            return []
        remove = partial(self.swarm.remove_service, schedule["ID"])
        return [Step(schedule["Spec"]["Name"], _db_schedule.view(schedule), None, remove)]

    def app_resources_absent_steps(self, db):
        """Secrets (only with delete_data: they are the key to the data), network, and volume (delete_data)."""
        steps = []
        delete_data = self.p["delete_data"]
        for name in (_naming.db_password_secret(self.app), _naming.db_pgpass_secret(self.app)):
            if delete_data and self.swarm.secret(name):
                steps.append(Step(f"secret {name}", {"name": name}, None, partial(self.swarm.remove_secret, name)))
        network = _naming.app_network(self.app)
        remove_network = partial(self.swarm.remove_network, network)
        steps.append(Step(f"network {network}", self.network_view(network), None, remove_network))
        volume = _naming.db_volume(self.app)
        if delete_data and self.swarm.volume(volume) is not None:
            steps.append(Step(f"volume {volume}", VOLUME, None, partial(self.swarm.remove_volume, volume)))
        elif delete_data and db:
            pinned = self.view_of(db)["constraints"]
            if f"node.id=={self.swarm.local_node_id()}" not in pinned:
                # Only its own engine removes a node's volume: the caller does it there (playbooks/destroy.yml).
                self.warnings.append(
                    f"the database volume {volume} is on another node ({', '.join(pinned)}): remove it there"
                )
        return steps

    # -- result -------------------------------------------------------------------------
    def result(self, exists, with_db, image, release, port, secret_env):
        service_name = _naming.service_name(self.app, self.role)
        database = None
        if self.role == "prod" and exists and with_db:
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
            "port": port,
            "database": database,
            "secret_env": secret_env,
        }
        result = {"changed": self.changes.changed, "changes": self.changes.changes, "app": app}
        if self.module._diff:
            result["diff"] = self.changes.diff
        if self.warnings:
            result["warnings"] = self.warnings
        return result


def _config_hash(resource):
    return (resource["Spec"].get("Labels") or {}).get(_naming.LABEL_CONFIG_HASH)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def argument_spec():
    # Options without a default keep the service's current value when omitted (see DOCUMENTATION).
    duration = {"type": "raw"}
    return docker_argument_spec(
        **app_name_argument(),
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        role={"type": "str", "choices": ["prod", *_naming.SIDE_ROLES], "default": "prod"},
        image={"type": "str"},
        replicas={"type": "int"},
        max_replicas={"type": "int", "default": spec.DEFAULT_MAX_REPLICAS},
        env={"type": "dict"},
        secret_env={"type": "dict", "no_log": True},
        secret_env_merge={"type": "bool", "default": False},
        secret_env_from={"type": "str", "choices": ["prod", *_naming.SIDE_ROLES]},
        secret_env_release={"type": "int", "no_log": False},
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
        health_path={"type": "str"},
        postgres={"type": "bool"},
        postgres_image={"type": "str"},
        db_node={"type": "str"},
        postgres_password={"type": "str", "no_log": True},
        pgpass_uid={"type": "str", "no_log": False},
        update={
            "type": "dict",
            "options": {
                "parallelism": {"type": "int"},
                "delay": {"type": "raw"},
                "order": {"type": "str", "choices": ["start-first", "stop-first"]},
                "failure_action": {"type": "str", "choices": ["rollback", "pause", "continue"]},
                "monitor": {"type": "raw"},
            },
        },
        stop_grace_period=duration,
        force_update={"type": "bool", "default": False},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
        delete_data={"type": "bool", "default": False},
        release_by={"type": "str"},
        release_reason={"type": "str"},
        releases_kept={"type": "int", "default": releases.DEFAULT_KEEP},
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("secret_env", "secret_env_from", "secret_env_release")],
        supports_check_mode=True,
    )
    verb = "deploying" if module.params["state"] == "present" else "removing"
    name = module.params["name"]
    try:
        spec.validate(module.params)
    except spec.AppSpecError as exc:
        module.fail_json(msg=f"Error {verb} app {name}: {exc}", changed=False)
    manager = AppManager(module, Swarm(module))
    try:
        result = manager.run()
    except (AppError, spec.AppSpecError) as exc:
        module.fail_json(msg=f"Error {verb} app {name}: {exc}", changed=manager.wrote)
    except APIError as exc:
        module.fail_json(msg=f"Error {verb} app {name}: Docker API: {exc}", changed=manager.wrote)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

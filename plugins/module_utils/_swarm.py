# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one private wrapper around the Docker SDK for Python used by every module.

Works with Docker SDK 5.x (Debian bookworm's python3-docker on nodes) and 7.x.
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _registry

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
# Task states after which no container of the task runs.
_ENDED_TASK_STATES = frozenset({"complete", "shutdown", "failed", "rejected", "remove", "orphaned"})


def _constraints(task_spec):
    return sorted((task_spec.get("Placement") or {}).get("Constraints") or [])


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
        self._module = module
        self._logged_in = False

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

    def config(self, name):
        found = [c for c in self.api.configs(filters={"name": name}) if c["Spec"]["Name"] == name]
        return found[0] if found else None

    def services(self, labels):
        """Services carrying all of ``labels`` ({key: value}; a None value: any value of that key)."""
        return self.api.services(filters=_label_filters(labels))

    def secrets(self, labels):
        """Secrets carrying all of ``labels`` (as :meth:`services`); the engine never returns their data."""
        return self.api.secrets(filters=_label_filters(labels))

    def configs(self, labels):
        """Configs carrying all of ``labels`` (as :meth:`services`), their data included."""
        return self.api.configs(filters=_label_filters(labels))

    def app_services(self, role):
        """The ``role`` service (prod, canary, db) of every app."""
        return self.services({_naming.LABEL_APP: None, _naming.LABEL_ROLE: role})

    def tasks(self, service_name=None, desired_state=None):
        """Tasks of one service, or of every service when ``service_name`` is None."""
        filters = {"service": service_name} if service_name else {}
        if desired_state:
            filters["desired-state"] = desired_state
        return self.api.tasks(filters=filters)

    def network_names(self):
        """{network ID: name}: a service spec names its networks by ID."""
        return {n["Id"]: n["Name"] for n in self.api.networks()}

    def nodes(self):
        return {n["ID"]: n for n in self.api.nodes()}

    # -- writing ----------------------------------------------------------------------
    def create_service(self, **spec):
        """Create a service from keyword arguments of APIClient.create_service."""
        self._log_in_for(spec["task_template"]["ContainerSpec"]["Image"])
        return self.api.create_service(**spec)

    def update_service(self, name, build_update):
        """Apply ``build_update(current_service) -> kwargs for APIClient.update_service``.

        Re-reads and retries when another writer changed the service in between.
        """
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            current = self.api.inspect_service(name)
            update = build_update(current)
            self._log_in_for(((update.get("task_template") or {}).get("ContainerSpec") or {}).get("Image"))
            try:
                return self.api.update_service(current["ID"], version=current["Version"]["Index"], **update)
            except APIError as exc:
                if _OUT_OF_SEQUENCE not in str(exc) or attempt == _MAX_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
        return None

    def set_service_labels(self, name, build_labels):
        """Replace a service's labels with ``build_labels(current_labels)``; the rest of its spec is
        sent back exactly as read. Service labels are not part of the task spec: tasks keep running.
        """

        def edit(spec):
            spec["Labels"] = build_labels(dict(spec.get("Labels") or {}))

        return self._resend_spec(name, edit)

    def set_service_secrets(self, name, build_secrets):
        """Replace a service's secret references (the engine's ``{SecretID, SecretName, File}``) with
        ``build_secrets(current_references)``; the rest of its spec is sent back as read. Its tasks roll."""

        def edit(spec):
            container = spec["TaskTemplate"]["ContainerSpec"]
            container["Secrets"] = build_secrets(list(container.get("Secrets") or []))

        return self._resend_spec(name, edit)

    def _resend_spec(self, name, edit):
        """Update the service with its spec as read, after ``edit(spec)`` changed it in place."""

        def update(current):
            spec = current["Spec"]
            edit(spec)
            kwargs = {
                "name": spec["Name"],
                "labels": spec.get("Labels") or {},
                "task_template": spec["TaskTemplate"],
                "mode": spec.get("Mode"),
                "update_config": spec.get("UpdateConfig"),
                "rollback_config": spec.get("RollbackConfig"),
                "endpoint_spec": spec.get("EndpointSpec"),
            }
            if spec.get("Networks"):  # the pre-1.25 place for networks, still returned by old services
                kwargs["networks"] = spec["Networks"]
            return kwargs

        return self.update_service(name, update)

    def stop_tasks(self, name, timeout):
        """Scale a replicated service to 0 and wait until none of its tasks runs any more. Removing a service
        alone leaves its containers stopping on their nodes for a while, where only their own engine sees them.
        A task on a node that is not ready counts as stopped: its node cannot say, and runs nothing for the Swarm.
        Returns whether they stopped within ``timeout`` seconds."""

        def edit(spec):
            spec["Mode"] = {"Replicated": {"Replicas": 0}}

        self._resend_spec(name, edit)
        ready = {node_id for node_id, n in self.nodes().items() if (n.get("Status") or {}).get("State") == "ready"}
        deadline = time.monotonic() + timeout
        while any(
            t["Status"]["State"] not in _ENDED_TASK_STATES and t.get("NodeID") in ready for t in self.tasks(name)
        ):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    # -- app resources: networks, secrets, volumes, images, waits -----------------------
    def local_node_id(self):
        """The Swarm node ID of the engine this module talks to."""
        return self.api.info()["Swarm"]["NodeID"]

    def create_network(self, name, labels=None, encrypted=False):
        """An attachable overlay network (attachable: one-off containers can join it to debug)."""
        options = {"encrypted": ""} if encrypted else None  # IPsec between nodes, as the edge network has it
        network = self.api.create_network(name, driver="overlay", attachable=True, labels=labels or {}, options=options)
        return network["Id"]

    def create_secret(self, name, data, labels=None):
        return self.api.create_secret(name, data, labels=labels or {})["ID"]

    def create_config(self, name, data, labels=None):
        """Create a config; the engine answers 409 when one of that name exists (what leases rely on)."""
        return self.api.create_config(name, data, labels=labels)

    def remove_config(self, config_id):
        self.api.remove_config(config_id)

    def create_volume(self, name, labels=None):
        """A local named volume on this engine's node."""
        return self.api.create_volume(name, driver="local", labels=labels or {})

    def remove_service(self, name):
        self._retry_while_busy(lambda: self.api.remove_service(name), timeout=0)

    def remove_network(self, name, timeout=60):
        # Endpoints of tasks that are still stopping keep a network busy for a few seconds.
        self._retry_while_busy(lambda: self.api.remove_network(name), timeout)
        # ... and this node lists it until they are gone: wait, so the next read sees it absent.
        deadline = time.monotonic() + timeout
        while self.network(name) is not None and time.monotonic() < deadline:
            time.sleep(0.5)

    def remove_secret(self, name, timeout=60):
        secret = self.secret(name)
        if secret:
            self._retry_while_busy(lambda: self.api.remove_secret(secret["ID"]), timeout)

    def remove_volume(self, name, timeout=60):
        # The volume stays in use until the removed service's container is gone.
        self._retry_while_busy(lambda: self.api.remove_volume(name), timeout)

    def _retry_while_busy(self, remove, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                remove()
                return
            except NotFound:
                return
            except APIError as exc:
                # A removed overlay network lingers on this node until its last local endpoint is
                # gone; removing it again then answers 500 "not found": it is gone already.
                if "not found" in str(exc).lower():
                    return
                if "in use" not in str(exc) and "active endpoints" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def image_digest(self, image):
        """``repo@sha256:...`` as the registry serves ``image`` now; None when it cannot be asked.

        Raises ImageNotFound when the registry answers that the image does not exist.
        """
        self._log_in_for(image)
        try:
            descriptor = self.api.inspect_distribution(image)["Descriptor"]
        except APIError as exc:
            text = str(exc).lower()
            if any(marker in text for marker in ("manifest unknown", "not found", "does not exist")):
                cause = exc.explanation or exc
                raise ImageNotFound(f"image {image} does not exist in its registry ({cause})") from None
            return None  # no registry access from here (auth, offline): deploy the tag as given
        return f"{image.split('@', 1)[0]}@{descriptor['digest']}"

    # -- the cluster registry (roles/registry) ----------------------------------------------
    def _log_in_for(self, image):
        """Log in to the cluster registry before a call about one of its images: the SDK then sends the login
        with the call, and the Swarm passes it to the nodes that pull (as `docker service --with-registry-auth`)."""
        if self._logged_in or not image or not image.startswith(_naming.REGISTRY_ADDRESS + "/"):
            return
        try:
            kept = _registry.credential()
            self.api.login(kept["username"], kept["password"], registry=_naming.REGISTRY_ADDRESS, reauth=True)
        except (OSError, ValueError, APIError) as exc:
            # Then the registry refuses the pull itself, and says so in the task's error.
            self._module.warn(f"could not log in to the cluster registry {_naming.REGISTRY_ADDRESS}: {exc}")
            return
        self._logged_in = True

    def build_image(self, archive, tag, dockerfile, build_args):
        """Build the gzip tar ``archive`` (a build context) as ``tag``; yield the engine's decoded progress lines.

        Intermediate containers go even when a step fails (forcerm); the engine keeps its build cache.
        """
        with open(archive, "rb") as context:
            yield from self.api.build(
                fileobj=context,
                custom_context=True,
                encoding="gzip",
                tag=tag,
                dockerfile=dockerfile,
                buildargs=build_args,
                forcerm=True,
                decode=True,
            )

    def push_image(self, image):
        """Push ``REPO:TAG`` and return the digest the registry gave it; raises APIError with the registry's error."""
        self._log_in_for(image)
        repository, tag = image.rsplit(":", 1)
        digest = None
        for line in self.api.push(repository, tag=tag, stream=True, decode=True):
            if line.get("error"):
                raise APIError(line["error"])
            digest = (line.get("aux") or {}).get("Digest") or digest
        if not digest:
            raise APIError(f"the registry gave no digest for {image}")
        return digest

    def service_tasks(self, name):
        """Tasks of a service with the hostname of their node, newest first."""
        hostnames = {node_id: n["Description"]["Hostname"] for node_id, n in self.nodes().items()}
        tasks = sorted(self.tasks(name), key=lambda t: t.get("CreatedAt", ""), reverse=True)
        return [
            {
                "id": t["ID"][:12],
                "node": hostnames.get(t.get("NodeID"), t.get("NodeID")),
                "desired_state": t["DesiredState"],
                "state": t["Status"]["State"],
                "error": t["Status"].get("Err") or "",
                "message": t["Status"].get("Message") or "",
                "image": t["Spec"]["ContainerSpec"]["Image"],
            }
            for t in tasks
        ]

    # -- this engine's containers ------------------------------------------------------
    def local_task_containers(self, service_name):
        """Running containers of the service's tasks on THIS engine's node (IDs, newest first)."""
        found = self.api.containers(filters={"label": f"com.docker.swarm.service.name={service_name}"})
        return [c["Id"] for c in sorted(found, key=lambda c: c.get("Created", 0), reverse=True)]

    def exec_in(self, container_id, cmd, timeout=None):
        """Run ``cmd`` (argv) in a running container: (exit code, stdout, stderr) as text.

        ``timeout``: how long the command may run quietly, in seconds, when that is longer than the client's own
        timeout (a dump prints nothing until it ends); past it, an OSError while the command may still run."""
        exec_id = self.api.exec_create(container_id, cmd, stdout=True, stderr=True)["Id"]
        kept = self.api.timeout
        self.api.timeout = max(timeout or 0, kept)
        try:
            stdout, stderr = self.api.exec_start(exec_id, demux=True)
        finally:
            self.api.timeout = kept
        code = self.api.exec_inspect(exec_id).get("ExitCode")
        return code, (stdout or b"").decode("utf-8", "replace"), (stderr or b"").decode("utf-8", "replace")

    def local_task_container(self, service_name):
        """The newest running container of the service's tasks on THIS engine's node; NoLocalTask when none runs
        here."""
        containers = self.local_task_containers(service_name)
        if not containers:
            running = [t["node"] for t in self.service_tasks(service_name) if t["state"] == "running"]
            where = f"runs on {', '.join(running)}, not on this host" if running else "has no running task"
            raise NoLocalTask(f"{service_name} {where}")
        return containers[0]

    def exec_in_local_task(self, service_name, cmd):
        """Run ``cmd`` in the newest running task of the service on THIS engine's node (a platform service's own
        tools, such as Traefik's wget or Alertmanager's amtool): (exit code, stdout, stderr).

        Raises NoLocalTask when none runs here, or when it stopped before the exec (a restart)."""
        container = self.local_task_container(service_name)
        try:
            return self.exec_in(container, cmd)
        except APIError as exc:
            raise NoLocalTask(f"its container did not run the command: {exc}") from None

    def wait_converged(self, name, timeout, poll=0.25, settle=1.0, max_failures=3):
        """Wait until every desired task of the service runs the current spec (healthy: Swarm
        keeps a task in "starting" until its healthcheck passes). Returns the service.

        Raises ServiceNotConverged when the engine rolls the update back (after waiting for the
        rollback to finish, so the old spec runs again) or pauses it, when tasks of a new service
        keep failing, or at ``timeout``.

        Converged means one of two things. A rolling update this wait saw in progress is done when
        the engine says it completed: the engine watched each new task for the update config's
        monitor period first. Otherwise (a new service, a scale, an update done before the first
        poll), the same running tasks for ``settle`` seconds: a container that fails its
        healthcheck and then exits 0 (a graceful shutdown) is reported "running" for an instant,
        because the engine takes a health wait that ended in a clean exit as a start.
        """
        deadline = time.monotonic() + timeout
        settled, settled_since = None, 0.0  # the running tasks, when they first looked converged
        watched_update = None  # when the rolling update this wait saw in progress started
        ended_before = None  # tasks that had ended before this wait: an engine restart's, not ours
        while True:
            service = self.api.inspect_service(name)
            spec = service["Spec"]
            all_tasks = self.tasks(name)
            # The current spec's tasks: its container, and its placement (a database moved to another node).
            current = (spec["TaskTemplate"]["ContainerSpec"], _constraints(spec["TaskTemplate"]))
            tasks = [t for t in all_tasks if (t["Spec"].get("ContainerSpec"), _constraints(t["Spec"])) == current]
            status = service.get("UpdateStatus") or {}
            state = status.get("State")
            now = time.monotonic()
            timed_out = now > deadline
            if state in ("rollback_paused", "rollback_completed", "paused") or (
                state == "rollback_started" and timed_out
            ):
                raise ServiceNotConverged(
                    f"update {state.replace('_', ' ')} ({status.get('Message', '')}){_task_errors(all_tasks)}"
                )
            if state == "updating":
                watched_update = status.get("StartedAt")
            # "complete" counts too: a task Swarm stops for failing its healthcheck ends cleanly
            # when the app shuts down gracefully, and a service's task should never just end.
            ended = [t for t in tasks if t["Status"]["State"] in ("failed", "rejected", "complete")]
            if ended_before is None:
                ended_before = {t["ID"] for t in ended}
            failed = [t for t in ended if t["ID"] not in ended_before]
            if len(failed) >= max_failures and state is None:
                raise ServiceNotConverged(f"its tasks keep failing{_task_errors(failed)}")
            replicas = (spec.get("Mode") or {}).get("Replicated", {}).get("Replicas")
            running = [t for t in tasks if t["DesiredState"] == "running" and t["Status"]["State"] == "running"]
            converged = state in (None, "completed") and (replicas is None or len(running) == replicas)
            running_ids = sorted(t["ID"] for t in running)
            if converged and state == "completed" and watched_update and status.get("StartedAt") == watched_update:
                return service
            if converged and running_ids == settled and now - settled_since >= settle:
                return service
            if not converged:
                settled = None
            elif running_ids != settled:
                settled, settled_since = running_ids, now
            if timed_out and not converged:
                raise ServiceNotConverged(
                    f"not converged after {timeout} s: {len(running)} of {replicas} tasks running"
                    f"{_task_errors(all_tasks)}"
                )
            time.sleep(poll)

    # -- logs ---------------------------------------------------------------------------
    def service_logs(self, name, since=None, tail="all"):
        """(log lines, engine errors) of every task of service ``name`` (stdout and stderr),
        lines oldest first; None when the service does not exist.

        Each line is the engine's timestamp (RFC 3339, UTC, nine fraction digits), a space and the
        line as the task wrote it: what ``docker service logs --timestamps --raw`` printed. (The
        CLI's ``service.N.task@node |`` prefix is built from the task attributes the engine adds
        with ``details``; that stays off.) The errors are what the engine wrote into the stream
        instead of a line (``Error grabbing logs: ...`` when a task's node does not answer).
        ``since`` is in the engine's format, unix seconds with an optional fraction
        (``1764624629.123456789``, what the docker CLI sends); None for every line kept.
        """
        service = self.service(name)
        if service is None:
            return None
        # Given, so the SDK does not inspect the service a second time to learn it.
        tty = bool(service["Spec"]["TaskTemplate"].get("ContainerSpec", {}).get("TTY"))
        output = self.api.service_logs(
            name,
            details=False,
            follow=False,
            stdout=True,
            stderr=True,
            timestamps=True,
            since=since or 0,
            tail=tail,
            is_tty=tty,
        )
        return self.log_lines(output)

    @staticmethod
    def log_lines(output):
        """APIClient.service_logs' answer as (lines sorted by their leading timestamp, other lines).

        The SDK (5.x and 7.x) already strips the 8-byte frame headers of a non-TTY service's
        multiplexed stream and yields each frame's payload (of every stream: stdout, stderr and
        the engine's own errors); for a TTY service it yields the raw bytes as they come. Either
        way a generator of bytes (a bytes value is taken too), joined before decoding so a
        character split across chunks survives. The timestamps have a fixed width, so they sort
        as text; the sort is stable, so lines of one instant keep their order.
        """
        data = output if isinstance(output, bytes) else b"".join(output)
        lines, other = [], []
        for line in data.decode("utf-8", "replace").split("\n"):
            line = line[:-1] if line.endswith("\r") else line  # a TTY ends lines with \r\n
            if line:
                (lines if Swarm._starts_with_timestamp(line) else other).append(line)
        return sorted(lines, key=lambda line: line.split(" ", 1)[0]), other

    @staticmethod
    def _starts_with_timestamp(line):
        stamp, space = line.partition(" ")[:2]
        try:
            time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return False
        return bool(space) and stamp[19:20] in (".", "Z", "+", "-")


class ImageNotFound(Exception):
    pass


class ServiceNotConverged(Exception):
    pass


class NoLocalTask(Exception):
    """The service has no running task on this host now (none placed here, starting, restarting)."""


def _label_filters(labels):
    return {"label": [k if v is None else f"{k}={v}" for k, v in labels.items()]}


def _task_errors(tasks, limit=3):
    """The distinct errors of the most recent failed tasks."""
    errors = []
    for task in sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True):
        error = task["Status"].get("Err")
        if error and error not in errors:
            errors.append(error)
    return f"; task errors: {'; '.join(errors[:limit])}" if errors else ""

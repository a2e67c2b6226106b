"""swarm_app and swarm_app_info against the real 3-node test Swarm."""

from __future__ import annotations

import json
import secrets
import time

import pytest

pytestmark = pytest.mark.cluster

MODULE = "sentinel.paas.swarm_app"
INFO = "sentinel.paas.swarm_app_info"
TODO_UID = "10001"  # the todo image's USER: libpq reads /run/secrets/pgpass only when it owns it


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture
def apps(ansible):
    """Names of apps a test creates; every one is removed with its data afterwards."""
    created: list[str] = []
    yield created
    for name in reversed(created):
        result = ansible.module(MODULE, {"name": name, "state": "absent", "delete_data": True})
        assert not result.failed, result.msg


def four_steps(ansible, args: dict):
    """check -> changed, apply -> changed, check -> unchanged, apply -> unchanged (all with --diff)."""
    first = ansible.module(MODULE, args, check=True, diff=True)
    assert not first.failed, first.msg
    assert first.changed and first["changes"], first.raw
    applied = ansible.module(MODULE, args, diff=True)
    assert not applied.failed, applied.msg
    assert applied.changed
    assert applied["changes"] == first["changes"], "check mode must predict the real run"
    again = ansible.module(MODULE, args, check=True, diff=True)
    assert not again.failed, again.msg
    assert not again.changed, again["changes"]
    assert again["diff"] == {"before": {}, "after": {}}
    last = ansible.module(MODULE, args, diff=True)
    assert not last.failed, last.msg
    assert not last.changed, last["changes"]
    return first, applied


def snapshot(client) -> dict:
    """What an app run could change on the cluster (service versions catch in-place updates)."""
    return {
        "services": sorted((s.name, s.attrs["Version"]["Index"]) for s in client.services.list()),
        "networks": sorted(n.name for n in client.networks.list()),
        "secrets": sorted(s.name for s in client.secrets.list()),
        "volumes": sorted(v.name for v in client.volumes.list()),
    }


def service(client, name: str) -> dict:
    return client.api.inspect_service(name)


def plant_labels(client, name: str, labels: dict) -> None:
    """Add labels the way traefik_route does: the rest of the spec sent back as read."""
    current = service(client, name)
    spec = current["Spec"]
    client.api.update_service(
        current["ID"],
        current["Version"]["Index"],
        name=spec["Name"],
        labels={**spec["Labels"], **labels},
        task_template=spec["TaskTemplate"],
        mode=spec["Mode"],
        update_config=spec.get("UpdateConfig"),
        rollback_config=spec.get("RollbackConfig"),
        endpoint_spec=spec.get("EndpointSpec"),
    )


def run_probe(cluster, network: str, code: str, attempts: int = 20):
    """Run python3 ``code`` in a container on ``network`` on the manager; retries while DNS settles."""
    client = cluster.manager.client
    last = None
    for _ in range(attempts):
        try:
            output = client.containers.run(
                cluster.image("sentinel-test/base:latest"), ["python3", "-c", code], network=network, remove=True
            )
            return json.loads(output)
        except Exception as exc:  # a container error carries the probe's stderr
            last = exc
            time.sleep(1)
    raise AssertionError(f"probe on {network} kept failing: {last}")


TODO_PROBE = """
import json, urllib.request
base = "http://{host}:8000"
req = urllib.request.Request(base + "/api/todos", data=json.dumps({{"title": "{title}"}}).encode(),
                             headers={{"Content-Type": "application/json"}})
created = json.loads(urllib.request.urlopen(req, timeout=5).read()) if "{title}" else None
listed = json.loads(urllib.request.urlopen(base + "/api/todos", timeout=5).read())
version = json.loads(urllib.request.urlopen(base + "/version", timeout=5).read())
print(json.dumps({{"created": created, "listed": listed, "version": version}}))
"""


def test_app_without_database(cluster, ansible, apps):
    name = unique("plain")
    apps.append(name)
    args = {"name": name, "image": cluster.image("sentinel-test/todo:1"), "env": {"GREETING": "hi"}}
    first, applied = four_steps(ansible, args)
    # sentinel-edge is created too when no earlier app (or the control plane) made it.
    assert {f"network sentinel-{name}", f"{name}-prod"} <= set(first["changes"])
    assert first["diff"]["before"][f"{name}-prod"] is None
    assert first["diff"]["after"][f"{name}-prod"]["image"] == args["image"]

    spec = service(cluster.manager.client, f"{name}-prod")["Spec"]
    labels = spec["Labels"]
    assert labels["sentinel.app"] == name and labels["sentinel.role"] == "prod"
    assert labels["sentinel.release"] == "1"
    assert labels["traefik.enable"] == "true"
    assert labels["traefik.swarm.network"] == "sentinel-edge"
    assert labels[f"traefik.http.services.{name}-prod.loadbalancer.server.port"] == "8000"
    (record,) = ansible.module("sentinel.paas.release_info", {"name": name})["releases"]
    assert record["image"].startswith(args["image"] + "@sha256:") and record["live"]
    assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert spec["UpdateConfig"]["Order"] == "start-first"
    assert spec["UpdateConfig"]["FailureAction"] == "rollback"
    assert spec["RollbackConfig"]["Order"] == "start-first"
    assert "GREETING=hi" in spec["TaskTemplate"]["ContainerSpec"]["Env"]
    assert not any(e.startswith("PG") for e in spec["TaskTemplate"]["ContainerSpec"]["Env"])
    network = cluster.manager.client.networks.get(f"sentinel-{name}")
    assert network.attrs["Driver"] == "overlay" and network.attrs["Attachable"]

    answer = run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-prod", title=""))
    assert answer["version"]["version"] == "1"

    info = ansible.module(INFO, {"name": name})
    assert not info.failed, info.msg
    (app,) = info["apps"]
    assert app["exists"] and app["network"] == f"sentinel-{name}"
    prod = app["services"]["prod"]
    assert prod["replicas"] == {"desired": 1, "running": 1}
    assert prod["release"] == 1
    assert prod["env"] == {"GREETING": "hi"}
    assert {t["node"] for t in prod["tasks"]} <= {"node1", "node2", "node3"}

    listing = ansible.module(INFO, {"tasks": False})
    assert name in [a["name"] for a in listing["apps"]]
    unknown = ansible.module(INFO, {"name": "never-deployed"})
    assert not unknown.failed and unknown["apps"] == [
        {"name": "never-deployed", "exists": False, "network": None, "services": {}, "route": None, "preview": None}
    ]


def test_app_with_postgres_serves_todos_and_keeps_its_password_secret(cluster, ansible, apps):
    name, other = unique("todo"), unique("other")
    apps.extend([other, name])
    password = f"pw-{secrets.token_hex(12)}"
    args = {
        "name": name,
        "image": cluster.image("sentinel-test/todo:1"),
        "postgres": True,
        "postgres_image": cluster.image("sentinel-test/postgres:latest"),
        "postgres_password": password,
        "pgpass_uid": TODO_UID,
    }
    first, applied = four_steps(ansible, args)
    for expected in (
        f"secret sentinel-{name}-db-password",
        f"secret sentinel-{name}-db-pgpass",
        f"volume sentinel-{name}-db",
        f"{name}-db",
        f"{name}-prod",
    ):
        assert expected in first["changes"]

    client = cluster.manager.client
    db = service(client, f"{name}-db")["Spec"]
    assert db["TaskTemplate"]["Networks"] == [{"Target": client.networks.get(f"sentinel-{name}").id}]
    assert db["EndpointSpec"]["Mode"] == "dnsrr"
    manager_id = client.info()["Swarm"]["NodeID"]
    assert db["TaskTemplate"]["Placement"]["Constraints"] == [f"node.id=={manager_id}"]
    assert client.volumes.get(f"sentinel-{name}-db")

    # The DB path for real: a to-do written through the app comes back from Postgres.
    answer = run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-prod", title="buy milk"))
    assert answer["created"]["title"] == "buy milk"
    assert "buy milk" in [t["title"] for t in answer["listed"]]

    # Only the name: every omitted option keeps what the app has.
    only_name = ansible.module(MODULE, {"name": name}, check=True, diff=True)
    assert not only_name.failed and not only_name.changed, only_name.raw

    # A canary on the same networks reaches the same database (its pgpass owner comes from prod).
    canary = ansible.module(MODULE, {"name": name, "role": "canary", "image": cluster.image("sentinel-test/todo:2")})
    assert canary.changed and not canary.failed, canary.msg
    answer = run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-canary", title=""))
    assert answer["version"]["version"] == "2"
    assert "buy milk" in [t["title"] for t in answer["listed"]]

    # The password is only in the secrets: not in specs, labels, env, tasks or module output.
    inspected = [client.api.inspect_service(s) for s in (f"{name}-prod", f"{name}-db", f"{name}-canary")]
    inspected += [s.attrs for s in client.secrets.list() if name in s.name]
    inspected += client.api.tasks(filters={"label": f"sentinel.app={name}"})
    outputs = [first.raw, applied.raw, canary.raw, ansible.module(INFO, {"name": name}).raw]
    assert password not in json.dumps(inspected)
    assert password not in json.dumps(outputs)

    # The same password again is no change; another one is refused and changes nothing.
    assert not ansible.module(MODULE, args).changed
    before = snapshot(client)
    changed_password = ansible.module(MODULE, {**args, "postgres_password": "something-else"})
    assert changed_password.failed and "password is not supported" in changed_password.msg
    assert snapshot(client) == before
    # Turning the database off is a conflict, not a silent data loss.
    no_db = ansible.module(MODULE, {**args, "postgres": False, "postgres_password": None})
    assert no_db.failed and "has a database" in no_db.msg
    assert snapshot(client) == before

    # Isolation: another app's container cannot reach this app's database.
    assert ansible.module(MODULE, {"name": other, "image": cluster.image("sentinel-test/todo:1")}).changed
    db_task = next(t for t in client.api.tasks(filters={"service": f"{name}-db", "desired-state": "running"}))
    db_ip = db_task["NetworksAttachments"][0]["Addresses"][0].split("/")[0]
    # A bare TCP connect proves nothing here: this machine's outer network accepts every outbound
    # connection (a proxy answers "HTTP/1.1 ..."). Only Postgres answers an SSLRequest with S or N.
    isolation_probe = f"""
import json, socket
def reach(host):
    try:
        with socket.create_connection((host, 5432), timeout=3) as conn:
            conn.settimeout(3)
            conn.sendall(bytes([0, 0, 0, 8, 4, 210, 22, 47]))  # SSLRequest
            return "postgres" if conn.recv(1) in (b"S", b"N") else "not postgres"
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({{"by_name": reach("{name}-db"), "by_ip": reach("{db_ip}")}}))
"""
    reached = run_probe(cluster, f"sentinel-{other}", isolation_probe)
    assert reached["by_name"] != "postgres" and reached["by_ip"] != "postgres", reached
    # ... while the app's own network does reach it (the probe can tell the difference).
    assert run_probe(cluster, f"sentinel-{name}", isolation_probe) == {"by_name": "postgres", "by_ip": "postgres"}
    # The documented limit (docs/conventions.md, "Networks"): apps share the edge network, so there
    # any app reaches another's production; only the databases are private to their app.
    assert run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-prod", title=""))["version"]


def test_image_change_replicas_router_labels_and_rollback(cluster, ansible, apps):
    name = unique("upd")
    apps.append(name)
    client = cluster.manager.client
    args = {"name": name, "image": cluster.image("sentinel-test/todo:1")}
    assert ansible.module(MODULE, args).changed

    # traefik_route's labels, planted by hand: swarm_app must keep them exactly.
    route = {
        f"traefik.http.routers.{name}.rule": f"Host(`{name}.example.test`)",
        f"traefik.http.routers.{name}.entrypoints": "web",
        f"traefik.http.middlewares.{name}-redirect.redirectscheme.scheme": "https",
    }
    plant_labels(client, f"{name}-prod", route)
    assert not ansible.module(MODULE, args, check=True).changed, "router labels are not swarm_app's to change"

    v2 = {**args, "image": cluster.image("sentinel-test/todo:2")}
    first, applied = four_steps(ansible, v2)
    assert first["changes"] == [f"{name}-prod.image", f"release sentinel-release-{name}-2"]
    assert first["diff"]["before"][f"{name}-prod"] == {"image": args["image"]}
    assert first["diff"]["after"][f"{name}-prod"] == {"image": v2["image"]}
    assert applied["app"]["release"] == 2
    current = service(client, f"{name}-prod")
    labels = current["Spec"]["Labels"]
    assert labels["sentinel.release"] == "2"
    records = ansible.module("sentinel.paas.release_info", {"name": name})
    assert [r["release"] for r in records["releases"]] == [2, 1] and records["live"] == 2
    assert records["releases"][0]["image"] == applied["app"]["image"]
    assert current["UpdateStatus"]["State"] == "completed"
    assert {k: labels[k] for k in route} == route
    running = client.api.tasks(filters={"service": f"{name}-prod", "desired-state": "running"})
    assert [t["Spec"]["ContainerSpec"]["Image"].split("@")[0] for t in running] == [v2["image"]]

    three = {"name": name, "replicas": 3}  # what scale.yml sends: the rest stays as it is
    first, applied = four_steps(ansible, three)
    assert first["changes"] == [f"{name}-prod.replicas"]
    assert applied["app"]["release"] == 2, "scaling is not a release"
    info = ansible.module(INFO, {"name": name})["apps"][0]["services"]["prod"]
    assert info["replicas"] == {"desired": 3, "running": 3}
    assert {k: service(client, f"{name}-prod")["Spec"]["Labels"][k] for k in route} == route

    # An image that does not exist: clear error before any write, production untouched.
    before = snapshot(client)
    missing = ansible.module(MODULE, {**three, "image": cluster.image("sentinel-test/todo:404")})
    assert missing.failed and "sentinel-test/todo:404 does not exist" in missing.msg
    assert not missing.changed
    assert snapshot(client) == before

    # A release whose tasks never turn healthy: the engine rolls back, the module says so.
    sick = {
        **three,
        "env": {"BROKEN": "1"},
        "healthcheck": {"test": "exit 1", "interval": "1s", "timeout": "1s", "retries": 1, "start_period": "1ms"},
        "wait_timeout": 120,
    }
    failed = ansible.module(MODULE, sick)
    assert failed.failed and "rollback" in failed.msg and v2["image"] in failed.msg, failed.msg
    assert failed.changed
    after = service(client, f"{name}-prod")
    assert after["Spec"]["Labels"]["sentinel.release"] == "2"
    assert "BROKEN=1" not in after["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env", [])
    assert {k: after["Spec"]["Labels"][k] for k in route} == route


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Bad_Name"}, "invalid app name 'Bad_Name'"),
        ({"name": "-x"}, "invalid app name '-x'"),
        ({"name": "a" * 40}, "invalid app name"),
        ({"name": "edge"}, "reserved by the platform"),
        ({"replicas": -1}, "replicas must be 0 or more"),
        ({"labels": {"traefik.http.routers.x.rule": "Host(`evil`)"}}, "reserved prefix"),
        ({"labels": {"sentinel.release": "99"}}, "reserved prefix"),
        ({"image": "registry:5000/sentinel-test/todo:404"}, "sentinel-test/todo:404 does not exist in its registry"),
        ({"role": "canary"}, "has no production service"),
        ({"env": {"PGHOST": "x"}, "postgres": True}, "set by the module"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(cluster, ansible, args, message):
    client = cluster.manager.client
    full = {"name": unique("bad"), "image": cluster.image("sentinel-test/todo:1"), **args}
    before = snapshot(client)
    for check in (True, False):
        result = ansible.module(MODULE, full, check=check)
        assert result.failed, result.raw
        assert message in result.msg
        assert result.msg.startswith(f"Error deploying app {full['name']}:")
        assert not result.changed
    assert snapshot(client) == before


def test_absent_keeps_data_unless_asked(cluster, ansible, apps):
    name = unique("gone")
    apps.append(name)
    client = cluster.manager.client
    present = {
        "name": name,
        "image": cluster.image("sentinel-test/todo:1"),
        "postgres": True,
        "postgres_image": cluster.image("sentinel-test/postgres:latest"),
        "pgpass_uid": TODO_UID,
    }
    assert ansible.module(MODULE, present).changed
    run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-prod", title="keep me"))

    first, applied = four_steps(ansible, {"name": name, "state": "absent"})
    records = [f"release sentinel-release-{name}-1"]  # production's release records go with it
    assert sorted(first["changes"]) == sorted([f"{name}-prod", f"{name}-db", f"network sentinel-{name}", *records])
    assert not [s for s in client.services.list() if s.name.startswith(f"{name}-")]
    assert f"sentinel-{name}" not in [n.name for n in client.networks.list()]
    # The data stays, and so does its key: the password secrets.
    assert client.volumes.get(f"sentinel-{name}-db")
    assert len([s for s in client.secrets.list() if s.name.startswith(f"sentinel-{name}-db-")]) == 2

    # Deploying again finds the old to-do: same volume, same password.
    assert ansible.module(MODULE, present).changed
    answer = run_probe(cluster, "sentinel-edge", TODO_PROBE.format(host=f"{name}-prod", title=""))
    assert "keep me" in [t["title"] for t in answer["listed"]]

    # A kept volume without its secrets (removed by hand): a new random password could not open
    # the data, so the module refuses before any write.
    assert ansible.module(MODULE, {"name": name, "state": "absent"}).changed
    for secret in [s for s in client.secrets.list() if s.name.startswith(f"sentinel-{name}-db-")]:
        secret.remove()
    before = snapshot(client)
    refused = ansible.module(MODULE, present)
    assert refused.failed and "keeps the data of an earlier deployment" in refused.msg, refused.msg
    assert snapshot(client) == before

    first, _ = four_steps(ansible, {"name": name, "state": "absent", "delete_data": True})
    assert first["changes"] == [f"volume sentinel-{name}-db"]
    assert f"sentinel-{name}-db" not in [v.name for v in client.volumes.list()]
    assert not [s for s in client.secrets.list() if s.name.startswith(f"sentinel-{name}-")]

    unknown = ansible.module(MODULE, {"name": unique("never"), "state": "absent", "delete_data": True})
    assert not unknown.failed and not unknown.changed

"""Database backups and restores through the real CLI, on the 3-node test Swarm with real PostgreSQL.

An app with its own database, to-dos written through Traefik, backups made under load, the data deleted
and put back; damaged backups refused with nothing changed.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
import requests

from tests.harness.cli import Sentinel
from tests.harness.http import Edge, Load
from tests.harness.wait import eventually
from tests.integration.test_app_lifecycle import TODO_UID, cluster_state, task_container

pytestmark = pytest.mark.cluster

APP = "vault"
DOMAIN = "vault.sentinel.test"
BACKUPS = f"/var/lib/sentinel/backups/{APP}"
TODOS = ["pay the rent", "water the plants", "back up the database"]


def deploy_with_a_database(platform, sentinel, app: str, *options: str):
    return sentinel(
        "deploy", app, "--image", platform.image("sentinel-test/todo:1"), "--domain", f"{app}.sentinel.test",
        "--no-tls", "--postgres", "--postgres-image", platform.image("sentinel-test/postgres:15"),
        "--run-as", TODO_UID, *options,
    )  # fmt: skip


def deploy(platform, sentinel) -> Edge:
    # On the first manager, where node_files looks; a database goes to the emptiest node by default.
    run = deploy_with_a_database(platform, sentinel, APP, "--db-node", "node1")
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until(f"{APP} through Traefik", lambda e: e.get("/api/todos").status_code == 200, timeout=60)
    return edge


def titles(edge: Edge) -> list[str]:
    return sorted(t["title"] for t in edge.get("/api/todos").json())


@pytest.fixture(scope="module")
def node_files(platform, cluster_factory):
    """Shell on the database's node (the first manager, until the move test): where the backups are."""
    node = cluster_factory.host.containers.get(platform.manager.container)

    def sh(script: str) -> str:
        result = node.exec_run(["sh", "-c", script])
        assert result.exit_code == 0, result.output.decode()
        return result.output.decode()

    return sh


@pytest.fixture(scope="module")
def vault(platform, sentinel, node_files):
    """The app with its database and three to-dos."""
    edge = deploy(platform, sentinel)
    for title in TODOS:
        assert edge.post_json("/api/todos", {"title": title}).status_code == 201
    yield edge
    sentinel("destroy", APP, "--delete-data", "--yes")
    node_files(f"rm -rf {BACKUPS}")  # backups outlive a destroy


def psql(platform, sql: str) -> str:
    """SQL as the app's database user, in its database's container."""
    result = task_container(platform, f"{APP}-db").exec_run(["psql", "-U", APP, "-d", APP, "-XAtc", sql])
    assert result.exit_code == 0, result.output.decode()
    return result.output.decode()


def test_a_backup_with_an_id_is_made_once_in_four_steps(platform, ansible, vault):
    args = {"name": APP, "backup": "four-steps"}
    check = ansible.module("sentinel.paas.db_backup", args, check=True, diff=True)
    assert check.changed and check["backup"] is None, check.raw
    assert "four-steps" in check["diff"]["after"]["backups"] and "four-steps" not in check["diff"]["before"]["backups"]
    applied = ansible.module("sentinel.paas.db_backup", args, diff=True)
    assert applied.changed, applied.msg
    record = applied["backup"]
    assert record["id"] == "four-steps" and record["size"] > 0 and record["tables"] == ["public todos"]
    for check_mode in (True, False):
        again = ansible.module("sentinel.paas.db_backup", args, check=check_mode)
        assert not again.changed and again["backup"] == record, again.raw
    gone = ansible.module("sentinel.paas.db_backup", {**args, "state": "absent"})
    assert gone.changed and gone["backup"] is None


def test_a_backup_under_load_fails_no_request_and_is_listed(platform, sentinel, vault):
    with Load(vault, clients=2) as load:
        run = sentinel("db", "backup", APP, "--id", "under-load")
    assert run.returncode == 0, run.error
    assert not load.failures, load.summary("backup")
    print(f"\n{load.summary('a backup')}; the backup took {run.data['backup']['seconds']} s")
    backup = run.data["backup"]
    assert backup["id"] == "under-load" and backup["tables"] == ["public todos"] and len(backup["sha256"]) == 64
    listed = sentinel("db", "backups", APP)
    assert listed.returncode == 0, listed.error
    assert [b["id"] for b in listed.data["backups"]] == ["under-load"]
    text = sentinel("db", "backups", APP, json_output=False)
    assert "under-load" in text.stdout and "todos" in text.stdout


@pytest.mark.parametrize("damage", ["a-changed-byte", "not-an-archive"])
def test_a_damaged_backup_is_refused_before_the_data_is_touched(platform, sentinel, vault, node_files, damage):
    name = f"damaged-{damage}"
    assert sentinel("db", "backup", APP, "--id", name).returncode == 0
    dump, record = f"{BACKUPS}/{name}.dump", f"{BACKUPS}/{name}.json"
    if damage == "a-changed-byte":
        node_files(f"printf 'X' | dd of={dump} bs=1 seek=200 conv=notrunc 2>/dev/null")
        message = "damaged"
    else:  # whole, as recorded, but not something pg_restore reads
        node_files(f"head -c 4096 /dev/urandom > {dump}")
        checksum = node_files(f"sha256sum {dump}").split()[0]
        saved = json.loads(node_files(f"cat {record}"))
        node_files(f"cat > {record} <<'EOF'\n{json.dumps({**saved, 'sha256': checksum})}\nEOF")
        message = "not a readable pg_dump archive"
    before, todos = cluster_state(platform), titles(vault)

    run = sentinel("db", "restore", APP, "--from", name, "--yes")
    assert run.returncode == 1
    assert message in run.error
    assert cluster_state(platform) == before
    assert titles(vault) == todos
    assert vault.get().status_code == 200  # not left in maintenance
    node_files(f"rm -f {dump} {record}")


@pytest.mark.parametrize(
    "args, message",
    [
        (["backup", "nope"], "app nope not found"),
        (["backup", APP, "--id", "../escape"], "invalid backup id"),
        (["restore", APP, "--from", "never-made", "--yes"], "has no backup 'never-made'"),
        (["restore", "nope", "--yes"], "app nope not found"),
        (["schedule", APP, "5s"], "at most one backup every 10s"),
        (["schedule", "nope", "daily"], "app nope not found"),
        (["psql", "nope", "-c", "SELECT 1"], "app nope not found"),
        (["move", APP, "--to", "nosuch", "--yes"], "node nosuch is not in the Swarm"),
        (["move", "nope", "--to", "node2", "--yes"], "app nope not found"),
    ],
    ids=[
        "unknown-app",
        "bad-id",
        "unknown-backup",
        "restore-unknown-app",
        "too-often",
        "schedule-unknown-app",
        "psql-unknown-app",
        "move-unknown-node",
        "move-unknown-app",
    ],
)
def test_bad_input_is_refused_and_changes_nothing(platform, sentinel, vault, args, message):
    before = cluster_state(platform)
    run = sentinel("db", *args)
    assert run.returncode == 1
    assert message in run.error
    assert cluster_state(platform) == before


def test_an_app_without_a_database_is_refused(platform, sentinel, vault):
    name = "nodb"
    run = sentinel("deploy", name, "--image", platform.image("sentinel-test/todo:1"), "--domain", "nodb.sentinel.test")
    assert run.returncode == 0, run.error
    try:
        before = cluster_state(platform)
        run = sentinel("db", "backup", name)
        assert run.returncode == 1 and "has no database" in run.error
        assert cluster_state(platform) == before
    finally:
        sentinel("destroy", name, "--yes")


def test_psql_runs_sql_and_opens_a_session_in_the_database(platform, sentinel, vault):
    run = sentinel("db", "psql", APP, "-c", "SELECT title FROM todos ORDER BY title")
    assert run.returncode == 0, run.error
    assert all(title in run.data["output"] for title in TODOS) and run.data["output"].rstrip().endswith("rows)")
    # A session at a terminal: psql's prompt, a query typed, its answer, \q. The pager off: the test nodes are
    # reached by a docker exec inside a docker exec, whose inner terminal gets its size when the outer one's
    # resize arrives; typed at once on a busy machine, psql saw no size yet, paged, and the pager took the \q (CI38).
    typed = "\\pset pager off\nSELECT count(*) AS n FROM todos;\n\\q\n"
    code, seen = sentinel.in_terminal("db", "psql", APP, answer={rf"{APP}=[#>] $": typed})
    assert code == 0, seen[-2000:]
    assert re.search(rf"n\s*\r?\n-+\r?\n\s*{len(titles(vault))}\s", seen), seen[-2000:]
    bad = sentinel("db", "psql", APP, "-c", "SELECT * FROM no_such_table")
    assert bad.returncode == 1 and 'relation "no_such_table" does not exist' in bad.error


def scheduled_backups(node_files) -> dict[str, int]:
    """The schedule's backups on the database's node: id -> when its record was written (epoch seconds)."""
    # 2>/dev/null: exec merges stderr, and the schedule may prune a record between the test and stat.
    listing = node_files(
        f'cd {BACKUPS} && for f in scheduled-*.json; do [ -e "$f" ] && stat -c \'%n %Y\' "$f" 2>/dev/null; done; true'
    )
    return {name[: -len(".json")]: int(written) for name, written in (line.split() for line in listing.splitlines())}


def test_scheduled_backups_come_on_time_and_only_the_newest_are_kept(platform, ansible, sentinel, vault, node_files):
    by_hand = ansible.module("sentinel.paas.db_backup", {"name": APP, "backup": "by-hand"})
    assert not by_hand.failed, by_hand.msg
    args = {"name": APP, "every": "10s", "keep": 2}
    try:
        for check_mode, changes in ((True, True), (False, True), (True, False), (False, False)):
            step = ansible.module("sentinel.paas.db_schedule", args, check=check_mode, diff=True)
            assert not step.failed and step.changed is changes, step.raw
        schedule = {"every": "10s", "seconds": 10, "keep": 2, "directory": BACKUPS, "service": f"{APP}-db-backups"}
        assert step["schedule"] == schedule

        # Each backup starts on its time (a multiple of 10 s, give or take a starved machine's waking up) and is
        # written within one period of its start; a third one prunes the first.
        made: dict[str, int] = {}
        deadline = time.monotonic() + 90
        while len(made) < 3 and time.monotonic() < deadline:
            made.update(scheduled_backups(node_files))
            time.sleep(1)
        assert len(made) >= 3, made
        for backup_id, written in made.items():
            due = datetime.strptime(backup_id, "scheduled-%Y%m%dt%H%M%Sz").replace(tzinfo=UTC).timestamp()
            assert int(due) % 10 <= 2 and 0 <= written - due < 10, f"{backup_id} written {written - due} s late"
        listed = sentinel("db", "backups", APP, json_output=False)
        assert "backed up 10s, keeping 2" in listed.stdout
    finally:
        off = sentinel("db", "schedule", APP, "--off")
    assert off.returncode == 0 and off.data["schedule"] is None, off.error
    assert not platform.manager.client.services.list(filters={"name": f"{APP}-db-backups"})

    listed = sentinel("db", "backups", APP)
    assert listed.returncode == 0, listed.error
    ids = [b["id"] for b in listed.data["backups"]]
    scheduled = sorted(set(made) | {i for i in ids if i.startswith("scheduled-")})
    assert [i for i in ids if i.startswith("scheduled-")] == scheduled[-2:] and "by-hand" in ids, ids
    assert listed.data["schedule"] is None
    newest = listed.data["backups"][-1]
    assert newest["tables"] == ["public todos"] and newest["size"] > 0 and newest["scheduled"] is True
    # A scheduled backup is restored like any other.
    run = sentinel("db", "restore", APP, "--from", newest["id"], "--yes")
    assert run.returncode == 0, run.error
    assert run.data["rows"] == {"public todos": len(titles(vault))}


def test_a_restore_failing_halfway_keeps_the_data_and_brings_the_traffic_back(platform, sentinel, vault):
    """A backup that reads well but does not restore here: it grants to a role this database no longer has."""
    psql(platform, "CREATE ROLE auditor; GRANT SELECT ON todos TO auditor")
    assert sentinel("db", "backup", APP, "--id", "grants").returncode == 0
    psql(platform, "REVOKE SELECT ON todos FROM auditor; DROP ROLE auditor")
    assert vault.post_json("/api/todos", {"title": "written after the backup"}).status_code == 201
    before, todos = cluster_state(platform), titles(vault)

    with Load(vault, clients=2) as load:
        run = sentinel("db", "restore", APP, "--from", "grants", "--yes")
    assert run.returncode == 1
    assert 'role "auditor" does not exist' in run.error and "the data is as it was" in run.error
    assert titles(vault) == todos and "written after the backup" in todos
    assert {status for status, _version in load.results} <= {200, 503}, load.failures
    assert any(status == 503 for status, _version in load.results), "it was in maintenance meanwhile"
    assert vault.get().status_code == 200, "the traffic is back"
    # The maintenance router came and went: only the services' versions moved, nothing else is left.
    after = cluster_state(platform)
    assert after["networks"] == before["networks"] and after["secrets"] == before["secrets"]
    assert set(after["services"]) == set(before["services"])


def maintenance_window(load: Load) -> tuple[int, float]:
    """How many requests the maintenance page answered, and for how long (first to last)."""
    page = [sent for (status, _v), (sent, _took) in zip(load.since(0), load.timings, strict=True) if status == 503]
    return len(page), max(page, default=0) - min(page, default=0)


def test_the_todos_come_back_after_their_data_is_deleted(platform, sentinel, vault):
    """Write to-dos, back up, destroy --delete-data, deploy again, restore: the to-dos are back."""
    written = titles(vault)
    assert set(TODOS) <= set(written)
    assert sentinel("db", "backup", APP, "--id", "before-the-loss").returncode == 0
    assert sentinel("db", "schedule", APP, "daily").returncode == 0
    assert sentinel("destroy", APP, "--delete-data", "--yes").returncode == 0
    assert not platform.manager.client.services.list(filters={"name": f"{APP}-db-backups"}), "the schedule went too"
    edge = deploy(platform, sentinel)
    assert titles(edge) == []  # a new, empty database

    with Load(edge, clients=2) as load:
        run = sentinel("db", "restore", APP, "--from", "before-the-loss", "--yes")
    assert run.returncode == 0, run.error
    assert titles(edge) == written
    assert run.data["rows"] == {"public todos": len(written)} and run.data["held"] is True
    # Meanwhile every request got the app or the maintenance page: nothing else.
    answered, held = maintenance_window(load)
    print(f"\n{load.summary('a restore')}: {answered} answered by the maintenance page, for {held:.1f} s")
    assert {status for status, _version in load.since(0)} <= {200, 503}, load.failures
    assert answered, "the app should be in maintenance while its data is restored"
    assert edge.get().status_code == 200


def volume_on(platform, node_name: str, app: str = APP) -> list[str]:
    node = next(n for n in platform.nodes if n.name == node_name)
    return [v.name for v in node.client.volumes.list(filters={"name": f"sentinel-{app}-db"})]


def database_host(platform, app: str) -> str:
    return task_container(platform, f"{app}-db").client.info()["Name"]


def test_new_databases_spread_over_the_nodes_and_keep_theirs_after_a_destroy(platform, sentinel, vault):
    """A new database goes to a node with the fewest pinned services (vault's is on node1); destroyed without
    --delete-data and deployed again, it opens its kept volume there (a failed smoke test on the way leaves it).
    A node it cannot go to is refused, and a deploy does not move an existing database: each refusal changes
    nothing."""
    app = "spread"
    before = cluster_state(platform)
    unknown = deploy_with_a_database(platform, sentinel, app, "--db-node", "nosuch")
    assert unknown.returncode == 1 and "node nosuch is not in the Swarm" in unknown.error, unknown.error
    assert cluster_state(platform) == before
    nodes = sentinel("cluster", "inspect").data["nodes"]
    fewest = min(len(n["pinned"]) for n in nodes)
    emptiest = {n["hostname"] for n in nodes if len(n["pinned"]) == fewest}
    try:
        assert deploy_with_a_database(platform, sentinel, app).returncode == 0
        placed = database_host(platform, app)
        assert placed in emptiest and placed != "node1", (placed, nodes)
        assert sentinel("db", "psql", app, "-c", "INSERT INTO todos (title) VALUES ('stay')").returncode == 0

        before = cluster_state(platform)
        moved = sentinel("deploy", app, "--db-node", "node1")
        assert moved.returncode == 1 and f"sentinel db move {app} --to node1 does" in moved.error, moved.error
        assert cluster_state(platform) == before

        assert sentinel("destroy", app, "--yes").returncode == 0
        before = cluster_state(platform)
        elsewhere = deploy_with_a_database(platform, sentinel, app, "--db-node", "node1")
        assert elsewhere.returncode == 1 and f"node {placed} keeps {app}-db's data" in elsewhere.error, elsewhere.error
        assert cluster_state(platform) == before
        # A new app failing its smoke test is removed, but not the data a destroy kept.
        failed = deploy_with_a_database(platform, sentinel, app, "--smoke-test-cmd", "exit 3")
        assert failed.returncode == 1 and "failed its smoke test" in failed.error, failed.error
        assert volume_on(platform, placed, app) == [f"sentinel-{app}-db"]
        assert deploy_with_a_database(platform, sentinel, app).returncode == 0
        assert database_host(platform, app) == placed
        kept = sentinel("db", "psql", app, "-c", "SELECT title FROM todos")
        assert "stay" in kept.data["output"], kept.data
        assert sentinel("destroy", app, "--yes").returncode == 0
    finally:
        # The app gone, no service says where its kept volume is: every node is asked.
        assert sentinel("destroy", app, "--delete-data", "--yes").returncode == 0
    assert volume_on(platform, placed, app) == []


def test_a_move_while_a_canary_runs_is_refused_and_changes_nothing(platform, sentinel, vault):
    canary = sentinel("canary", "deploy", APP, "--image", platform.image("sentinel-test/todo:2"), "--weight", "0")
    assert canary.returncode == 0, canary.error
    try:
        before = cluster_state(platform)
        run = sentinel("db", "move", APP, "--to", "node2", "--yes")
        assert run.returncode == 1 and "a canary of vault runs: promote it or roll it back" in run.error, run.error
        assert cluster_state(platform) == before
    finally:
        assert sentinel("canary", "rollback", APP, "--yes").returncode == 0


def test_a_move_to_another_node_keeps_the_data_and_everything_follows_it(platform, sentinel, vault, cluster_factory):
    """db move under load: every request gets the app or its maintenance page; the data, the backups, psql and
    the schedule are on the new node after it, the old volume is gone; destroy --delete-data removes it there.
    The file's last test: its database ends on node2."""
    todos = titles(vault)
    assert sentinel("db", "schedule", APP, "daily").returncode == 0
    node2 = cluster_factory.host.containers.get(next(n.container for n in platform.nodes if n.name == "node2"))
    try:
        with Load(vault, clients=2) as load:
            started = time.monotonic()
            run = sentinel("db", "move", APP, "--to", "node2", "--yes")
            finished = time.monotonic()
            time.sleep(2)
        assert run.returncode == 0, run.error
        down = [sent for (status, _v), (sent, _took) in zip(load.since(0), load.timings, strict=True) if status != 200]
        print(f"\n{load.summary('a move')}: {load.failures} for {max(down) - min(down):.1f} s; "
              f"reported downtime {run.data['downtime_seconds']} s")  # fmt: skip
        # Down only while it moved, and with the maintenance page (503) throughout, production stopped too (its
        # router is a file-provider document: Traefik drops the labels' routers of a service without tasks).
        assert set(load.failures) == {503} and started <= min(down) and max(down) <= finished, load.failures
        assert max(down) - min(down) <= float(run.data["downtime_seconds"]) + 1
        assert {status for status, _version in load.since(finished)} == {200}
        assert (run.data["from"], run.data["to"], run.data["held"]) == ("node1", "node2", True)
        assert run.data["rows"] == {"public todos": len(todos)} and run.data["schedule_moved"] is True
        assert run.data["old_volume_left"] is None
        assert titles(vault) == todos
        db = platform.manager.client.services.get(f"{APP}-db")
        assert {t["NodeID"] for t in db.tasks(filters={"desired-state": "running"})} == {
            platform.manager.client.nodes.get("node2").id
        }
        assert volume_on(platform, "node1") == [] and volume_on(platform, "node2") == [f"sentinel-{APP}-db"]

        # Everything about the database works on its new node: backups, psql, the schedule.
        made = sentinel("db", "backup", APP, "--id", "on-node2")
        assert made.returncode == 0, made.error
        listed = sentinel("db", "backups", APP)
        assert listed.data["node"] == "node2", listed.data
        assert [b["id"] for b in listed.data["backups"]] == [run.data["backup"]["id"], "on-node2"]
        assert listed.data["schedule"]["every"] == "daily"
        schedule = platform.manager.client.services.get(f"{APP}-db-backups").attrs["Spec"]["TaskTemplate"]
        assert schedule["Placement"]["Constraints"] == [f"node.id=={platform.manager.client.nodes.get('node2').id}"]
        counted = sentinel("db", "psql", APP, "-c", "SELECT count(*) FROM todos")
        assert counted.returncode == 0 and f"{len(todos)}\n" in counted.data["output"], counted.error

        # Where it is already: nothing to do, nothing changed. The specs are compared, not the versions: the engine
        # writes a service again when its rolling update completes (the schedule's, moved without a wait).
        before = specs(platform)
        again = sentinel("db", "move", APP, "--to", "node2", "--yes")
        assert again.returncode == 0 and again.data["changed"] is False, again.error
        assert specs(platform) == before

        assert sentinel("destroy", APP, "--delete-data", "--yes").returncode == 0
        assert volume_on(platform, "node2") == []
    finally:
        node2.exec_run(["rm", "-rf", BACKUPS])


def specs(platform) -> dict:
    """Every service's spec, network and secret: what a command that changes nothing leaves as it was."""
    client = platform.manager.client
    return {
        "services": {s.name: s.attrs["Spec"] for s in client.services.list()},
        "networks": sorted(n.name for n in client.networks.list()),
        "secrets": sorted(s.name for s in client.secrets.list()),
    }


def node_state(platform, hostname: str) -> str:
    return platform.manager.client.nodes.get(hostname).attrs["Status"]["State"]


BUCKET = "sentinel-backups"
KEY_ID, SECRET_KEY = "AKIASENTINELTEST", "Sentinel-s3cr3t-key-4711"


@pytest.fixture(scope="module")
def s3(platform, cluster_factory):
    """An S3 API (moto) on the first manager's port 9000, as an object store outside the Swarm, with a bucket;
    the target's rclone image in the registry (only this file's cluster pulls it)."""
    for image in ("sentinel-test/moto:latest", "sentinel-test/rclone:latest"):
        cluster_factory.push(platform, image, image)
    server = platform.manager.client.containers.run(
        platform.image("sentinel-test/moto:latest"), name="s3", ports={"5000/tcp": 9000}, detach=True,
        labels={"sentinel.test": "backups"},
    )  # fmt: skip
    endpoint = f"http://{platform.manager.ip}:9000"

    def bucket_made() -> bool:
        try:
            return requests.put(f"{endpoint}/{BUCKET}", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    eventually("the S3 API", bucket_made, timeout=60)
    yield endpoint
    server.remove(force=True)


def objects(endpoint: str, prefix: str) -> dict[str, int]:
    """The bucket's keys under ``prefix``, with their sizes (S3's ListObjectsV2)."""
    answer = requests.get(f"{endpoint}/{BUCKET}", params={"list-type": "2", "prefix": prefix}, timeout=10)
    assert answer.status_code == 200, answer.text
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    found = ElementTree.fromstring(answer.content).findall("s3:Contents", ns)
    return {c.find("s3:Key", ns).text: int(c.find("s3:Size", ns).text) for c in found}


def target_state(platform) -> str:
    """The backup target as the Swarm has it: its service's spec and the target's secrets."""
    client = platform.manager.client
    service = [s.attrs["Spec"] for s in client.services.list(filters={"name": "sentinel-backup-ship"})]
    secrets = [s.attrs["Spec"] for s in client.secrets.list(filters={"label": "sentinel.backup-target"})]
    return json.dumps([service, secrets], sort_keys=True)


@pytest.fixture(scope="module")
def keyed(sentinel):
    """The CLI with the target's keys in its environment, where `db target` takes them from."""
    keys = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    return Sentinel(sentinel.inventory, {**sentinel.env, **keys})


@pytest.fixture(scope="module")
def target(platform, keyed, s3):
    """Every node copying its backups to the S3 API; removed afterwards."""
    made = keyed("db", "target", BUCKET, "--endpoint", s3, "--prefix", "cluster-a")
    assert made.returncode == 0, made.error
    yield s3
    assert keyed("db", "target", "--off").returncode == 0


def test_a_backup_target_refuses_bad_input_keeps_its_keys_secret_and_in_four_steps(platform, ansible, keyed, s3):
    before = target_state(platform)
    for args, said in (
        (("db", "target", "Bad_Bucket", "--endpoint", s3), "invalid bucket"),
        (("db", "target", BUCKET, "--endpoint", "http://ops:pw@s3.example.com"), "invalid endpoint"),
        (("db", "target", BUCKET, "--prefix", "../up"), "invalid prefix"),
    ):
        refused = keyed(*args)
        assert refused.returncode != 0 and said in refused.error, refused.stdout
    unkeyed = Sentinel(keyed.inventory, {k: v for k, v in keyed.env.items() if not k.startswith("AWS_")})
    assert "$AWS_ACCESS_KEY_ID is not set" in unkeyed("db", "target", BUCKET, json_output=False).stderr
    assert target_state(platform) == before, "a refusal changes nothing"

    verbose = keyed("-vvv", "--diff", "db", "target", BUCKET, "--endpoint", s3, json_output=False)
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    shown = keyed("db", "target")
    assert shown.returncode == 0 and shown.data["url"] == f"s3://{BUCKET}/sentinel", shown.error
    client = platform.manager.client
    ship = client.services.get("sentinel-backup-ship").attrs
    assert ship["Spec"]["Mode"] == {"Global": {}}
    for text in (verbose.stdout, verbose.stderr, shown.stdout, json.dumps(ship), target_state(platform)):
        assert SECRET_KEY not in text and KEY_ID not in text
    eventually("a ship task on every node", lambda: len(_running(client, "sentinel-backup-ship")) == 3, timeout=90)

    args = {"bucket": BUCKET, "endpoint": s3, "prefix": "four-steps", "access_key_id": KEY_ID,
            "secret_access_key": SECRET_KEY, "image": platform.image("sentinel-test/rclone:latest")}  # fmt: skip
    check = ansible.module("sentinel.paas.db_backup_target", args, check=True, diff=True)
    assert check.changed and check["changes"] == ["service"], check.raw
    assert check["diff"]["after"]["target"]["prefix"] == "four-steps"
    applied = ansible.module("sentinel.paas.db_backup_target", args)
    assert applied.changed and applied["url"] == f"s3://{BUCKET}/four-steps", applied.msg
    for check_mode in (True, False):
        again = ansible.module("sentinel.paas.db_backup_target", args, check=check_mode)
        assert not again.changed and again["changes"] == [], again.raw
    assert keyed("db", "target", "--off").returncode == 0
    assert client.services.list(filters={"name": "sentinel-backup-ship"}) == []
    assert client.secrets.list(filters={"label": "sentinel.backup-target"}) == []


def _running(client, service: str) -> list[dict]:
    tasks = client.services.get(service).tasks(filters={"desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


def test_after_losing_the_databases_node_the_backup_target_brings_the_data_back(
    platform, sentinel, cluster_factory, node_files, target
):
    """docs/backups.md, 'After losing the database's node', step by step: an app whose database lives on node3
    (deploy --db-node), its backups copied off the node by the backup target (one by the target's service, one by
    db backup itself), the node lost (its machine stopped), the app destroyed and deployed again on the first
    manager, and db restore fetching the newest backup back from the target."""
    app, backups = "lost", "/var/lib/sentinel/backups/lost"
    prefix = f"cluster-a/{app}/"
    node3 = cluster_factory.host.containers.get(next(n.container for n in platform.nodes if n.name == "node3"))
    made = deploy_with_a_database(platform, sentinel, app, "--db-node", "node3")
    assert made.returncode == 0, made.error
    try:
        # Through the CLI, on node3 (a worker: the database's modules run where it is).
        wrote = sentinel("db", "psql", app, "-c", "INSERT INTO todos (title) VALUES ('kept')")
        assert wrote.returncode == 0, wrote.error
        # db backup copies each backup off the node at once.
        first = sentinel("db", "backup", app, "--id", "first")
        assert first.returncode == 0 and first.data["copied_to"] == f"s3://{BUCKET}/{prefix}first.dump", first.error
        assert sentinel("db", "psql", app, "-c", "INSERT INTO todos (title) VALUES ('safe')").returncode == 0
        latest = sentinel("db", "backup", app, "--id", "latest")
        assert latest.returncode == 0, latest.error
        assert objects(target, prefix)[f"{prefix}latest.dump"] == latest.data["backup"]["size"]
        # The service copies what it finds without being asked: a backup made behind the CLI's back.
        node3.exec_run(
            [
                "sh",
                "-c",
                f"cp {backups}/first.dump {backups}/unasked.dump && "
                f'sed \'s/"first"/"unasked"/\' {backups}/first.json > {backups}/unasked.json',
            ]
        )
        eventually("the unasked backup in the bucket", lambda: f"{prefix}unasked.json" in objects(target, prefix),
                   timeout=60)  # fmt: skip

        node3.stop(timeout=1)  # the node is lost, its volume and its backups with it
        eventually("node3 seen down", lambda: node_state(platform, "node3") == "down", timeout=90)
        assert sentinel("destroy", app, "--yes").returncode == 0
        again = deploy_with_a_database(platform, sentinel, app, "--db-node", "node1")
        assert again.returncode == 0, again.error
        assert task_container(platform, f"{app}-db").client.info()["Name"] == "node1"  # a new, empty database
        unknown = sentinel("db", "restore", app, "--from", "never", "--yes")
        assert unknown.returncode != 0 and f"nor in s3://{BUCKET}/cluster-a" in unknown.error, unknown.stdout
        restored = sentinel("db", "restore", app, "--from", "latest", "--yes")
        assert restored.returncode == 0, restored.error
        assert restored.data["fetched_from"] == f"s3://{BUCKET}/{prefix}latest.dump"
        assert restored.data["rows"] == {"public todos": 2}
        counted = sentinel("db", "psql", app, "-c", "SELECT title FROM todos ORDER BY title")
        assert "kept" in counted.data["output"] and "safe" in counted.data["output"]
    finally:
        node3.start()
        eventually("node3 back", lambda: node_state(platform, "node3") == "ready", timeout=90)
        sentinel("destroy", app, "--delete-data", "--yes")
        node_files(f"rm -rf {backups}")
        eventually("node3's engine", lambda: node3.exec_run(["docker", "info"]).exit_code == 0, timeout=60)
        node3.exec_run(["sh", "-c", f"rm -rf {backups}; docker volume rm -f sentinel-{app}-db"])

#!/usr/bin/env python3
"""How fast Sentinel feels: wall times of the everyday commands on a real cluster.

Run after `make demo` (the local one-node cluster) or with -i INVENTORY --ip ADDRESS for any
other cluster. Deploys its own app `bench` (removed at the end), sends real HTTP requests
through Traefik by Host header, and prints one line per measurement (and JSON with --json).

    .venv/bin/python scripts/benchmark.py [-i inventories/local/hosts.yml] [--ip 127.0.0.1]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = str(Path(sys.executable).parent / "sentinel")
APP, DOMAIN = "bench", "bench.sentinel.test"


class Bench:
    def __init__(self, inventory: str, ip: str, image_v1: str, image_v2: str):
        self.inventory, self.url = inventory, f"http://{ip}/"
        self.images = {"1": image_v1, "2": image_v2}
        self.results: dict[str, float] = {}

    def sentinel(self, *args: str) -> float:
        started = time.monotonic()
        proc = subprocess.run([SENTINEL, "-i", self.inventory, "-o", "json", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"sentinel {' '.join(args)} failed: {proc.stdout or proc.stderr}")
        return time.monotonic() - started

    def version(self) -> str | None:
        try:
            response = requests.get(self.url, headers={"Host": DOMAIN}, timeout=2)
        except requests.RequestException:
            return None
        return response.headers.get("X-App-Version") if response.status_code == 200 else None

    def until(self, condition, timeout: float = 120) -> float:
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise SystemExit("timed out waiting for the cluster")
            time.sleep(0.05)
        return time.monotonic() - started

    def record(self, name: str, seconds: float, goal: float | None = None, unit: str = "s") -> None:
        self.results[name] = round(seconds, 2)
        verdict = (
            "" if goal is None else "  (goal <= {:g} {}: {})".format(goal, unit, "met" if seconds <= goal else "MISSED")
        )
        print(f"{name:52} {seconds:7.2f} {unit}{verdict}", flush=True)

    def served_by(self, n: int) -> set[str]:
        hosts = set()
        for _ in range(n):
            with contextlib.suppress(requests.RequestException):
                hosts.add(requests.get(self.url, headers={"Host": DOMAIN}, timeout=2).headers.get("X-Served-By"))
        return hosts

    def split(self, n: int = 100) -> collections.Counter:
        return collections.Counter(self.version() for _ in range(n))

    def run(self) -> None:
        started = time.monotonic()
        self.sentinel("deploy", APP, "--image", self.images["1"], "--domain", DOMAIN, "--no-tls")
        self.until(lambda: self.version() == "1")
        self.record("deploy: start to first 200 through Traefik", time.monotonic() - started, 15)

        started = time.monotonic()
        self.sentinel("scale", APP, "4")
        self.until(lambda: len(self.served_by(40)) >= 4)
        self.record("scale 1 -> 4: start until all 4 answer", time.monotonic() - started, 10)

        for read in (("inspect", "app", APP), ("apps",), ("canary", "status", APP)):
            self.record(f"read: sentinel {' '.join(read)}", min(self.sentinel(*read) for _ in range(3)), 1)

        started = time.monotonic()
        self.sentinel("deploy", APP, "--image", self.images["2"])
        self.until(lambda: all(self.version() == "2" for _ in range(10)))
        self.record("redeploy with only --image, 4 replicas: until all serve it", time.monotonic() - started)
        self.sentinel("deploy", APP, "--image", self.images["1"])
        self.releases()

        self.record(
            "canary deploy (weight 10)",
            self.sentinel("canary", "deploy", APP, "--image", self.images["2"], "--weight", "10"),
        )
        self.record(
            "canary traffic --weight 50: wall time", self.sentinel("canary", "traffic", APP, "--weight", "50"), 5
        )
        self.sentinel("canary", "traffic", APP, "--weight", "100")
        returned = time.monotonic()
        self.until(lambda: all(self.version() == "2" for _ in range(10)))
        self.record("canary traffic: returned -> new split served", time.monotonic() - returned, 1)

        production = "1"  # what prod runs; each promote below rolls it to the other version
        for replicas in ("2", "4"):
            self.sentinel("scale", APP, replicas)
            other = "2" if production == "1" else "1"
            self.sentinel("canary", "deploy", APP, "--image", self.images[other], "--weight", "10")
            promote = self.sentinel("canary", "promote", APP, "--yes")
            self.record(f"canary promote, {replicas} replicas", promote)
            # The engine alone, same service and update config, to the version production does not run.
            raw = self.raw_update(self.images[production])
            self.record(f"raw docker service update --image, {replicas} replicas", raw)
            self.record(f"promote / raw update, {replicas} replicas", promote / raw, 1.3, unit="x")
            self.sentinel("deploy", APP, "--image", self.images[other])  # production back on `other`
            production = other

        self.rollouts()
        self.sentinel("destroy", APP, "--yes")

    def releases(self) -> None:
        """Issue 12's: a config change until every answer carries it (the todo app answers with
        $APP_VERSION), and a rollback to the first release until every answer is its version."""
        started = time.monotonic()
        self.sentinel("config", "set", APP, "APP_VERSION=configured")
        self.until(lambda: all(self.version() == "configured" for _ in range(10)))
        self.record("config set, 4 replicas: until every answer has it", time.monotonic() - started)
        first = min(r["release"] for r in self.sentinel_json("releases", APP)["releases"])
        started = time.monotonic()
        self.sentinel("rollback", APP, "--to", f"v{first}", "--yes")
        self.until(lambda: all(self.version() == "1" for _ in range(10)))
        self.record(f"rollback --to v{first}, 4 replicas: until every answer is v1", time.monotonic() - started)

    def rollouts(self, interval: int = 10) -> None:
        """Issue 11's goals with --interval 10s: a good 4-step rollout's total time and the judge's
        own time per step; a faulty canary's first request until production has all the traffic."""
        self.sentinel("scale", APP, "1")
        self.sentinel("deploy", APP, "--image", self.images["1"])
        auto = ["--auto", "--steps", "5,10,25,50", "--interval", f"{interval}s", "--min-requests", "20"]
        with Traffic(self) as traffic:
            started = time.monotonic()
            good = self.sentinel_json("canary", "deploy", APP, "--image", self.images["2"], *auto)
            total = time.monotonic() - started
        self.record("rollout, 4 steps of 10 s, promoted: total", total)
        # Starting the canary, the lease, the decision record's writes and the promotion.
        self.record("rollout: time beyond its 4 intervals", total - 4 * interval)
        judged = [step["judge_seconds"] for step in good["steps"]]
        self.record("rollout: the judge's own time per step (slowest)", max(judged), 1)
        self.record("rollout: failed requests", traffic.failed, 0, unit="req")
        self.sentinel("deploy", APP, "--image", self.images["1"])
        # The same with a baseline: 3 steps (it leaves room up to 33) and a relative threshold to use it.
        baseline = [*auto, "--steps", "5,10,25", "--baseline", "--max-latency-increase", "100%"]
        with Traffic(self) as traffic:
            started = time.monotonic()
            judged = self.sentinel_json("canary", "deploy", APP, "--image", self.images["2"], *baseline)
            self.record(f"rollout with --baseline, 3 steps ({judged['outcome']}): total", time.monotonic() - started)
        self.record("rollout with --baseline: failed requests", traffic.failed, 0, unit="req")
        self.sentinel("deploy", APP, "--image", self.images["1"])
        with Traffic(self) as traffic:
            bad = self.sentinel_json(
                "canary", "deploy", APP, "--image", self.images["2"], "--env", "TODO_FAIL_EVERY=2", *auto
            )
        first, last = traffic.first_and_last("2")
        self.record(f"faulty canary ({bad['outcome']}): first request -> all on production", last - first, 2 * interval)

    def sentinel_json(self, *args: str) -> dict:
        proc = subprocess.run([SENTINEL, "-i", self.inventory, "-o", "json", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"sentinel {' '.join(args)} failed: {proc.stdout or proc.stderr}")
        return json.loads(proc.stdout)

    def raw_update(self, image: str) -> float:
        """``docker service update --image`` of production, waiting as the CLI does (local engine)."""
        started = time.monotonic()
        subprocess.run(
            ["docker", "service", "update", "--quiet", "--detach=false", "--image", image, f"{APP}-prod"],
            check=True,
            capture_output=True,
        )
        return time.monotonic() - started

    def alert_latency(self, receiver_image: str) -> None:
        """Issue 14's: from the app losing its last healthy task until a webhook receiver has the alert, with the
        cluster's own timings (prometheus_app_down_for, the evaluation interval, alertmanager_group_wait). The
        receiver is a container on the monitoring network (local engine); the task cannot be placed any more."""
        import docker

        client = docker.from_env()
        receiver = client.containers.run(
            receiver_image,
            ["python3", "-c", _RECEIVER],
            name="bench-receiver",
            network="sentinel-monitoring",
            detach=True,
        )
        try:
            self.sentinel("notify", "add", "bench", "--webhook", "http://bench-receiver:8080/hook")
            self.sentinel("deploy", APP, "--image", self.images["1"], "--domain", DOMAIN, "--no-tls")
            service = client.services.get(f"{APP}-prod")
            service.update(
                constraints=["node.labels.sentinel-bench-nowhere==1"],
                update_config=docker.types.UpdateConfig(order="stop-first", failure_action="continue"),
            )
            self.until(lambda: not _running(service), timeout=120)
            lost = time.time()
            self.until(lambda: _firing(receiver, "AppWithoutHealthyTask"), timeout=600)
            self.record(
                "alert: last healthy task lost -> receiver has it", _firing(receiver, "AppWithoutHealthyTask") - lost
            )
        finally:
            self.sentinel("destroy", APP, "--yes")
            self.sentinel("notify", "remove", "bench")
            receiver.remove(force=True)

    def db_backup(self, megabytes: int, postgres_image: str) -> None:
        """Issue 15's: backup and restore of a database of about ``megabytes`` MB, and how long the app's requests
        get the maintenance page during the restore. The database is filled in its own container, on the first
        manager (local engine, or DOCKER_HOST pointing at that node's engine)."""
        import docker

        # On the first manager, whose engine DOCKER_HOST names (a new database goes to the emptiest node).
        here = next(n["hostname"] for n in self.sentinel_json("cluster", "inspect")["nodes"] if n["local"])
        self.sentinel(
            "deploy", APP, "--image", self.images["1"], "--domain", DOMAIN, "--no-tls", "--postgres",
            "--postgres-image", postgres_image, "--run-as", "10001", "--db-node", here,
        )  # fmt: skip
        try:
            self.until(lambda: self.version() == "1")
            (db,) = docker.from_env().containers.list(filters={"label": f"com.docker.swarm.service.name={APP}-db"})
            rows = megabytes * 1024 * 1024 // 1000  # rows of about 1 kB of random hex, as compressible as real text
            fill = (
                "CREATE TABLE filler AS SELECT g AS id, (SELECT string_agg(md5(random()::text || g || i), '')"
                f" FROM generate_series(1, 31) AS part(i)) AS body FROM generate_series(1, {rows}) g"
            )
            filled = db.exec_run(["psql", "-U", APP, "-d", APP, "-XAtc", fill])
            if filled.exit_code != 0:
                raise SystemExit(f"could not fill the database: {filled.output.decode()}")
            size = db.exec_run(["psql", "-U", APP, "-d", APP, "-XAtc", f"SELECT pg_database_size('{APP}')"])
            self.record("database size", int(size.output.decode()) / 2**20, unit="MB")
            started = time.monotonic()
            made = self.sentinel_json("db", "backup", APP)
            self.record("db backup: wall time", time.monotonic() - started)
            self.record("db backup: dump, check and copy", made["backup"]["seconds"])
            self.record("db backup: archive size", made["backup"]["size"] / 2**20, unit="MB")
            with Traffic(self) as traffic:
                started = time.monotonic()
                self.sentinel("db", "restore", APP, "--from", made["backup"]["id"], "--yes")
                self.record("db restore: wall time", time.monotonic() - started)
            held = [at for at, status, _version in traffic.answers if status != 200]
            self.record("db restore: requests held (first to last not 200)", (held[-1] - held[0]) if held else 0)
            self.sentinel("db", "remove", APP, made["backup"]["id"], "--yes")
            self.db_move()
        finally:
            self.sentinel("destroy", APP, "--delete-data", "--yes")

    def db_move(self) -> None:
        """The app's downtime while its database moves to another node (a cluster of one node has none to go to)."""
        nodes = self.sentinel_json("cluster", "inspect")["nodes"]
        here = next(n["hostname"] for n in nodes if f"{APP}-db" in n["pinned"])
        other = next((n["hostname"] for n in nodes if n["hostname"] != here and n["availability"] == "active"), None)
        if other is None:
            print(f"{'db move':52} skipped: no other active node than {here}", flush=True)
            return
        with Traffic(self) as traffic:
            started = time.monotonic()
            moved = self.sentinel_json("db", "move", APP, "--to", other, "--yes")
            self.record("db move: wall time", time.monotonic() - started)
        held = [at for at, status, _version in traffic.answers if status != 200]
        self.record("db move: requests held (first to last not 200)", (held[-1] - held[0]) if held else 0)
        self.record("db move: downtime reported", float(moved["downtime_seconds"]))

    def build(self, dockerfile: Path) -> None:
        """Deploys from source (--build): the todo app built from ``dockerfile`` and examples/todo/app.py, the first
        time, the same source again, and after a one-line change (the build cache warm)."""
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory(prefix="sentinel-bench-") as directory:
            source = Path(directory)
            shutil.copy(dockerfile, source / "Dockerfile")
            shutil.copy(ROOT / "examples" / "todo" / "app.py", source / "app.py")
            try:
                started = time.monotonic()
                self.sentinel("deploy", APP, "--build", str(source), "--domain", DOMAIN, "--no-tls")
                self.until(lambda: self.version() == "1")
                self.record("build: first build and deploy, to first 200", time.monotonic() - started)
                self.record(
                    "build: the same source again (nothing built)", self.sentinel("deploy", APP, "--build", str(source))
                )
                app = source / "app.py"
                app.write_text(
                    app.read_text().replace('VERSION = os.environ.get("APP_VERSION", "1")', 'VERSION = "b2"')
                )
                started = time.monotonic()
                self.sentinel("deploy", APP, "--build", str(source))
                self.until(lambda: self.version() == "b2")
                self.record("build: one-line change, warm cache, to its first 200", time.monotonic() - started)
            finally:
                self.sentinel("destroy", APP, "--yes")

    def prometheus_memory(self, apps: int) -> None:
        """Prometheus' memory with ``apps`` apps taking traffic (local cluster: reads docker stats)."""
        import docker

        names = [f"mem{i:02d}" for i in range(apps)]
        for name in names:
            self.sentinel("deploy", name, "--image", self.images["1"], "--domain", f"{name}.sentinel.test", "--no-tls")
            for _ in range(20):
                requests.get(self.url, headers={"Host": f"{name}.sentinel.test"}, timeout=5)
        time.sleep(35)  # two scrapes, so every app's series exist
        client = docker.from_env()
        (container,) = client.containers.list(filters={"label": "com.docker.swarm.service.name=sentinel-prometheus"})
        usage = container.stats(stream=False)["memory_stats"]["usage"]
        self.record(f"prometheus memory with {apps} apps", usage / 2**20, unit="MiB")
        for name in names:
            self.sentinel("destroy", name, "--yes")


# A webhook receiver: each POST's arrival time and body, one JSON line each, in /tmp/got.jsonl.
_RECEIVER = """
import http.server, json, time
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with open("/tmp/got.jsonl", "a") as log:
            log.write(json.dumps({"at": time.time(), "body": body}) + "\\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
"""


def _running(service) -> list:
    service.reload()
    return [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]


def _firing(receiver, alert: str) -> float | None:
    """When the receiver got ``alert`` firing (its arrival, time.time), None before."""
    output = receiver.exec_run(["sh", "-c", "cat /tmp/got.jsonl 2>/dev/null || true"]).output.decode()
    for line in output.splitlines():
        got = json.loads(line)
        event = json.loads(got["body"])
        if event.get("type") == "alert.firing" and event.get("alert") == alert:
            return got["at"]
    return None


class Traffic:
    """Requests without cookies in the background (each one a new user): when each version answered."""

    def __init__(self, bench: Bench):
        self.bench = bench
        self.answers: list[tuple[float, int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            session.cookies.clear()
            try:
                response = session.get(self.bench.url, headers={"Host": DOMAIN}, timeout=5)
                answer = (response.status_code, response.headers.get("X-App-Version"))
            except requests.RequestException:
                answer = (0, None)
            self.answers.append((time.monotonic(), *answer))

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def failed(self) -> int:
        """Failures production's users saw (not the canary's own injected ones)."""
        return sum(1 for _, status, version in self.answers if status == 0 or (status >= 500 and version != "2"))

    def first_and_last(self, version: str) -> tuple[float, float]:
        moments = [at for at, _, answered_by in self.answers if answered_by == version]
        return (moments[0], moments[-1]) if moments else (0.0, 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-i", "--inventory", default=str(ROOT / "inventories/local/hosts.yml"))
    parser.add_argument("--ip", default="127.0.0.1", help="address of a node that runs Traefik")
    parser.add_argument("--image-v1", default="sentinel-test/todo:1")
    parser.add_argument("--image-v2", default="sentinel-test/todo:2")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    parser.add_argument(
        "--alert-latency",
        metavar="IMAGE",
        help="also measure an alert's way to a receiver, which runs in IMAGE (any with python3: sentinel-test/base)",
    )
    parser.add_argument(
        "--prometheus-apps",
        type=int,
        default=0,
        metavar="N",
        help="also measure Prometheus' memory with N apps (local cluster only)",
    )
    parser.add_argument(
        "--db-backup",
        type=int,
        default=0,
        metavar="MB",
        help="also measure a backup and a restore of a database of about MB megabytes",
    )
    parser.add_argument("--postgres-image", default="sentinel-test/postgres:15", help="the database's image")
    parser.add_argument(
        "--build",
        type=Path,
        metavar="DOCKERFILE",
        help="also measure deploys from source of examples/todo/app.py with this Dockerfile (offline here: "
        "tests/images/todo/Dockerfile; examples/todo/Dockerfile where Docker Hub is reachable)",
    )
    parser.add_argument("--no-commands", action="store_true", help="skip the everyday commands (only the above)")
    args = parser.parse_args()
    bench = Bench(args.inventory, args.ip, args.image_v1, args.image_v2)
    if not args.no_commands:
        bench.run()
    if args.db_backup:
        bench.db_backup(args.db_backup, args.postgres_image)
    if args.prometheus_apps:
        bench.prometheus_memory(args.prometheus_apps)
    if args.build:
        bench.build(args.build)
    if args.alert_latency:
        bench.alert_latency(args.alert_latency)
    if args.json:
        Path(args.json).write_text(json.dumps(bench.results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Deploy from source (issue 16): the cluster registry, `--build`, by digest on every node.

The registry role runs Distribution and a proxy on every node's loopback; `sentinel deploy --build` builds a
directory (or a git URL) on the manager, pushes it there and deploys it by digest, so the tasks on every node run
the same bytes. A broken Dockerfile fails with its step under load, and production never notices.

The sources build FROM the todo image the test registry holds: the real examples/todo/Dockerfile starts from
python:3.11-slim, which these machines cannot pull. The app's code (examples/todo/app.py) is copied in as a user's
source would be.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.harness.http import Edge, Load
from tests.integration.test_app_lifecycle import cluster_state

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
APP = "built"
DOMAIN = "built.sentinel.test"
REGISTRY = "127.0.0.1:5000"
CREDENTIAL_FILE = "/etc/sentinel/registry/credential"


SLOW_STEP_SAYS = "the slow step started"


def source(directory: Path, version: str, broken: bool = False) -> Path:
    """A build context: the todo app's code on the test todo image, answering X-App-Version ``version``.

    A broken one has a slow step that prints SLOW_STEP_SAYS, then fails at step 4/5."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app.py").write_bytes((ROOT / "examples" / "todo" / "app.py").read_bytes())
    (directory / ".dockerignore").write_text("notes.txt\n")
    (directory / "notes.txt").write_text("left out of the context by .dockerignore\n")
    steps = ["FROM registry:5000/sentinel-test/todo:1", "COPY app.py /app/app.py"]
    # The slow step is never cached (a new token each time): its line must come as it runs, 4 s before the end.
    slow = f"RUN printf 'the slow step %s\\n' started && sleep 4 && : {time.time_ns()}"
    steps += [slow, "RUN exit 3"] if broken else []
    steps += [f"ENV APP_VERSION={version}"]
    (directory / "Dockerfile").write_text("\n".join(steps) + "\n")
    return directory


def in_node(node, *argv: str) -> str:
    """Run a command in a test node (its own shell, as an operator would) and return what it printed."""
    proc = subprocess.run(["docker", "exec", node.container, *argv], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def registry_tags(platform, credential: dict) -> list[str]:
    url = f"http://{REGISTRY}/v2/{APP}/tags/list"
    auth = f"{credential['username']}:{credential['password']}"
    answer = in_node(platform.manager, "curl", "-s", "-u", auth, url)
    return sorted(json.loads(answer).get("tags") or [])  # not JSON: the registry did not answer, the test fails


def registry_digest(platform, credential: dict, tag: str) -> str:
    """The digest the registry serves as APP:TAG."""
    auth = f"{credential['username']}:{credential['password']}"
    accept = "Accept: application/vnd.docker.distribution.manifest.v2+json"
    url = f"http://{REGISTRY}/v2/{APP}/manifests/{tag}"
    headers = in_node(platform.manager, "curl", "-s", "-I", "-H", accept, "-u", auth, url)
    return next(
        (
            line.split(":", 1)[1].strip()
            for line in headers.splitlines()
            if line.lower().startswith("docker-content-digest:")
        ),
        "",
    )


def task_digests(platform, service: str) -> dict[str, set[str]]:
    """{node: the registry digests of the images its running tasks of ``service`` run}."""
    client = platform.manager.client
    found: dict[str, set[str]] = {}
    for task in client.services.get(service).tasks(filters={"desired-state": "running"}):
        hostname = client.nodes.get(task["NodeID"]).attrs["Description"]["Hostname"]
        node = next(n for n in platform.nodes if n.name == hostname)
        container = node.client.containers.get(task["Status"]["ContainerStatus"]["ContainerID"])
        digests = node.client.images.get(container.attrs["Image"]).attrs["RepoDigests"]
        found.setdefault(hostname, set()).update(d.split("@", 1)[1] for d in digests if d.startswith(REGISTRY))
    return found


@pytest.fixture(scope="module")
def registry(platform, ansible) -> dict:
    """The cluster registry, as init runs it (the test images stand in for registry:2 and haproxy); its credential."""
    images = {
        "registry_image": platform.image("sentinel-test/registry:latest"),
        "registry_proxy_image": platform.image("sentinel-test/docker-proxy:latest"),  # Debian's HAProxy
    }
    ansible.set_vars(**images)
    run = ansible.playbook("registry.yml")
    assert run.ok, run.failures or run.stderr[-3000:]
    return json.loads(in_node(platform.manager, "cat", CREDENTIAL_FILE))


@pytest.fixture(scope="module")
def built(platform, sentinel, registry, tmp_path_factory):
    """The app, deployed from source on 3 tasks; its Edge."""
    run = sentinel(
        "deploy", APP, "--build", str(source(tmp_path_factory.mktemp("v1"), "src1")),
        "--domain", DOMAIN, "--no-tls", "--replicas", "3",
    )  # fmt: skip
    assert run.returncode == 0, run.error
    edge = Edge(platform.manager.ip, DOMAIN)
    edge.wait_until("the built app through Traefik", lambda e: e.version() == "src1", timeout=60)
    yield edge, run.data
    sentinel("destroy", APP, "--yes")


def test_the_registry_asks_every_node_for_its_password(platform, registry):
    assert registry["username"] == "sentinel" and len(registry["password"]) == 32
    assert in_node(platform.manager, "stat", "-c", "%a %U", CREDENTIAL_FILE) == "600 root"
    url = f"http://{REGISTRY}/v2/"
    auth = f"{registry['username']}:{registry['password']}"
    answers = {
        node.name: (
            in_node(node, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url),
            in_node(node, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", auth, url),
            in_node(node, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "sentinel:wrong", url),
        )
        for node in platform.nodes
        if node.role != "none"
    }
    print(f"\n(no password, password, wrong password) per node: {answers}")
    assert set(answers.values()) == {("401", "200", "401")}, answers
    assert len(answers) == 3


def test_the_registry_role_run_again_changes_nothing_and_keeps_the_password(platform, ansible, registry):
    run = ansible.playbook("registry.yml")
    assert run.ok, run.failures
    assert run.changed_tasks == []
    assert json.loads(in_node(platform.manager, "cat", CREDENTIAL_FILE)) == registry


def test_a_deploy_from_source_runs_one_digest_on_every_node(platform, registry, built):
    _, result = built
    image = result["image"]
    print(f"\ndeployed: {image}")
    assert image.startswith(f"{REGISTRY}/{APP}:src-") and "@sha256:" in image
    digests = task_digests(platform, f"{APP}-prod")
    print(f"digest per node: {digests}")
    assert len(digests) >= 2, f"3 tasks on one node only: {digests}"
    assert set().union(*digests.values()) == {image.split("@", 1)[1]}
    assert registry_digest(platform, registry, "r1") == image.split("@", 1)[1], "release v1 is tagged r1"


def test_the_same_source_is_not_built_again(sentinel, built, tmp_path):
    _, result = built
    again = sentinel("deploy", APP, "--build", str(source(tmp_path / "copy", "src1")))
    assert again.returncode == 0, again.error
    assert again.data["image"] == result["image"]
    assert again.data["changed"] is False


def test_the_registry_password_is_nowhere_in_the_open(platform, sentinel, registry, tmp_path):
    # Another app, from a new source: the run builds, logs in, pushes and deploys, all at -vvv with --diff.
    verbose = sentinel(
        "-vvv", "--diff", "deploy", "loud", "--build", str(source(tmp_path / "loud", "loud")),
        "--domain", "loud.sentinel.test", "--no-tls", json_output=False,
    )  # fmt: skip
    try:
        assert verbose.returncode == 0, verbose.stderr[-2000:]
        assert "Build and push to the cluster registry" in verbose.stderr, "the verbose run shows the build's task"
        assert "loud:src-" in verbose.stderr, "and what it built"
        assert "| Step 1/3 : FROM" in verbose.stderr, "and, as Ansible shows it to ansible-playbook and AWX, its output"
        assert registry["password"] not in verbose.stdout + verbose.stderr
    finally:
        sentinel("destroy", "loud", "--yes")


def test_a_broken_dockerfile_names_its_step_and_production_serves_on(platform, sentinel, registry, built, tmp_path):
    edge, _ = built
    before, tags_before = cluster_state(platform), registry_tags(platform, registry)
    containers_before = {c.id for c in platform.manager.client.containers.list(all=True)}
    with Load(edge) as load:
        run, progress = sentinel.timed("deploy", APP, "--build", str(source(tmp_path / "broken", "never", broken=True)))
    print(f"\n{load.summary('broken build')}\nerror: {run.error}")
    assert run.returncode != 0
    assert "failed at step 4/5 (RUN exit 3)" in run.error, run.error
    # The build's output reaches the CLI as it happens: the slow step's line comes 4 s before the next step's.
    said_at = next((at for at, line in progress if line.strip().endswith(SLOW_STEP_SAYS)), None)
    next_step_at = next((at for at, line in progress if "Step 4/5 : RUN exit 3" in line), None)
    print(f"the slow step's line came at {said_at} s, the next step's at {next_step_at} s")
    assert said_at is not None and next_step_at is not None, run.stderr[-3000:]
    assert next_step_at - said_at >= 3, "the build's output did not come as it happened"
    assert "Step 1/5 : FROM" in run.stderr
    assert cluster_state(platform) == before
    assert registry_tags(platform, registry) == tags_before, "nothing pushed"
    # The build's intermediate containers are gone; the layers of the steps that passed stay, as cache.
    assert {c.id for c in platform.manager.client.containers.list(all=True)} == containers_before
    load.assert_went_on()
    assert not load.failures, f"failed requests during the broken build: {load.failures}"
    assert set(v for _, v in load.results) == {"src1"}


def test_a_check_of_a_deploy_from_new_source_builds_nothing_and_changes_nothing(
    platform, sentinel, registry, built, tmp_path
):
    before, tags_before = cluster_state(platform), registry_tags(platform, registry)
    run = sentinel("--check", "deploy", APP, "--build", str(source(tmp_path / "checked", "checked")))
    assert run.returncode == 0, run.error
    assert cluster_state(platform) == before
    assert registry_tags(platform, registry) == tags_before


def test_a_canary_built_from_git_is_promoted(platform, sentinel, registry, built, tmp_path):
    repository = source(tmp_path / "repo", "git2")
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "v2"]):
        subprocess.run(["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@t", *argv], check=True)
    commit = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    edge, _ = built

    run = sentinel("canary", "deploy", APP, "--build", f"file://{repository}#main", "--weight", "50")
    assert run.returncode == 0, run.error
    canary_image = run.data["canary_image"]
    assert canary_image.startswith(f"{REGISTRY}/{APP}:git-{commit[:12]}-") and "@sha256:" in canary_image
    assert edge.versions(40)["git2"] > 0

    promoted = sentinel("canary", "promote", APP, "--yes")
    assert promoted.returncode == 0, promoted.error
    edge.wait_until("production on the canary's build", lambda e: e.versions(10) == {"git2": 10}, timeout=30)
    assert set().union(*task_digests(platform, f"{APP}-prod").values()) == {canary_image.split("@", 1)[1]}
    assert registry_digest(platform, registry, "r2") == canary_image.split("@", 1)[1], "the promote is release v2"


def test_image_build_check_apply_check_apply(platform, ansible, registry, tmp_path):
    args = {"name": APP, "path": str(source(tmp_path / "module", "module")), "build_args": {"NOTE": "four steps"}}
    first_check = ansible.module("sentinel.paas.image_build", args, check=True)
    applied = ansible.module("sentinel.paas.image_build", args)
    second_check = ansible.module("sentinel.paas.image_build", args, check=True)
    again = ansible.module("sentinel.paas.image_build", args)
    assert (first_check.changed, first_check["image"], first_check["built"]) == (True, None, False)
    assert (applied.changed, applied["built"], applied["steps"]) == (True, True, 3), applied.msg
    assert applied["tag"] == first_check["tag"] and applied["image"].startswith(f"{REGISTRY}/{APP}:{applied['tag']}@")
    assert (second_check.changed, second_check["image"]) == (False, applied["image"])
    assert (again.changed, again["image"], again["built"]) == (False, applied["image"], False)


def registry_get(platform, credential: dict, path: str) -> tuple[str, str]:
    """(HTTP status, body) of GET /v2/PATH on the manager's loopback, as the registry's user."""
    auth = f"{credential['username']}:{credential['password']}"
    accept = "Accept: application/vnd.docker.distribution.manifest.v2+json"
    out = in_node(
        platform.manager, "curl", "-s", "-H", accept, "-u", auth, "-w", "\n%{http_code}", f"http://{REGISTRY}/v2/{path}"
    )
    body, _, status = out.rpartition("\n")
    return status, body


def test_prune_removes_the_images_no_release_uses_and_frees_their_layers(platform, ansible, sentinel, registry):
    # After the tests above: release v1 (tagged r1 too) runs src1's build, v2 (r2) the canary's from git; the
    # module's build (the test above) was never deployed, and app loud was destroyed with its releases.
    releases = sentinel("releases", APP).data["releases"]
    used = {r["image"].split("@", 1)[1] for r in releases}
    used_tags = {r["image"].split("@", 1)[0].rsplit(":", 1)[1] for r in releases} | {"r1", "r2"}
    manifests = {
        t: json.loads(registry_get(platform, registry, f"{APP}/manifests/{t}")[1])
        for t in registry_tags(platform, registry)
    }
    print(f"\ntags: {sorted(manifests)}; the releases': {sorted(used_tags)}")
    assert len(used) == 2 and used_tags < set(manifests)

    args = {"timeout": 60}  # an option given: ad hoc, `-a {}` would be raw parameters
    first_check = ansible.module("sentinel.paas.registry_gc", args, check=True, diff=True)
    applied = ansible.module("sentinel.paas.registry_gc", args)
    second_check = ansible.module("sentinel.paas.registry_gc", args, check=True)
    again = ansible.module("sentinel.paas.registry_gc", args)
    print(f"removed: {applied.get('removed')}, kept: {applied.get('kept')}")
    assert first_check.changed and first_check["removed"] == applied["removed"], first_check.msg
    assert list(first_check["diff"]["before"].values()) == [i["tags"] for i in applied["removed"]]
    assert applied.changed and applied["kept"] == len(used) == 2, applied.msg
    assert {i["app"] for i in applied["removed"]} == {APP, "loud"}
    removed_tags = {t for image in applied["removed"] if image["app"] == APP for t in image["tags"]}
    assert removed_tags == set(manifests) - used_tags and not {i["digest"] for i in applied["removed"]} & used
    assert (second_check.changed, second_check["removed"], again.changed) == (False, [], False)

    assert set(registry_tags(platform, registry)) == used_tags
    for tag in removed_tags:  # the removed image's own config blob is gone: the collection ran
        config = manifests[tag]["config"]["digest"]
        assert registry_get(platform, registry, f"{APP}/blobs/{config}")[0] == "404"
    for tag in used_tags:  # and what the releases run is whole
        config = manifests[tag]["config"]["digest"]
        assert registry_get(platform, registry, f"{APP}/blobs/{config}")[0] == "200"

    cli = sentinel("cluster", "prune-images")
    assert cli.returncode == 0, cli.error
    assert (cli.data["removed"], cli.data["kept"], cli.data["changed"]) == ([], 2, False)

"""alertmanager_silence run whole against a real Alertmanager (the test image's, with its amtool) in a container:
the four steps, a hand-made silence left alone, refusals that change nothing.

The module reaches Alertmanager with ``docker exec``; here the stand-in Swarm runs the same argv with
``docker exec`` in the test's container. That a drain silences a node's alerts on a real cluster is
tests/integration/test_monitoring.py's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _alertmanager
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import NoLocalTask
from ansible_collections.sentinel.paas.plugins.modules import alertmanager_silence
from module_harness import fail, run

IMAGE = "sentinel-test/alertmanager:latest"
CONFIG = "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n"
NODE = {"nodename": "node-2"}


def _docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    if shutil.which("docker") is None or _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.skip(f"needs a Docker engine with {IMAGE} (make images)")
    config = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yml"
    config.write_text(CONFIG)
    config.chmod(0o644)
    name = _docker(
        "run", "-d", "--rm", "-v", f"{config}:/etc/alertmanager/alertmanager.yml:ro", IMAGE,
        "--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager", "--cluster.listen-address=",
    ).stdout.strip()  # fmt: skip
    deadline = time.monotonic() + 30
    while _docker("exec", name, "amtool", _alertmanager.LOCAL_URL, "silence", "query", check=False).returncode:
        assert time.monotonic() < deadline, _docker("logs", name, check=False).stderr[-2000:]
        time.sleep(0.3)
    yield name
    _docker("rm", "-f", name, check=False)


class ContainerSwarm:
    """The module's Swarm, with this test's Alertmanager container as the local task."""

    container: str | None = None

    def __init__(self, module):
        pass

    def exec_in_local_task(self, service, cmd):
        assert service == "sentinel-alertmanager"
        if self.container is None:
            raise NoLocalTask("sentinel-alertmanager has no running task")
        proc = _docker("exec", self.container, *cmd, check=False)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(autouse=True)
def swarm(monkeypatch, container):
    monkeypatch.setattr(alertmanager_silence, "Swarm", ContainerSwarm)
    ContainerSwarm.container = container
    yield
    ids = [s["id"] for s in silences(container)]
    if ids:
        _docker("exec", container, "amtool", _alertmanager.LOCAL_URL, "silence", "expire", *ids)


def silences(container):
    """Alertmanager's active silences, as its API gives them."""
    answer = _docker("exec", container, "amtool", _alertmanager.LOCAL_URL, "silence", "query", "-o", "json").stdout
    return json.loads(answer or "[]")


def test_four_steps_present_then_absent(container):
    args = {"matchers": NODE, "comment": "node-2 drained", "_ansible_diff": True}
    check = run(alertmanager_silence, args, check=True)
    assert check["changed"] and check["changes"] == ["silence"] and silences(container) == []
    assert check["diff"]["before"] == {"silence": None}
    assert check["diff"]["after"]["silence"]["matchers"] == NODE
    applied = run(alertmanager_silence, args)
    [made] = silences(container)
    assert applied["changed"] and applied["silences"] == [made["id"]]
    assert made["createdBy"] == "sentinel" and made["comment"] == "node-2 drained"
    assert made["matchers"] == [{"isEqual": True, "isRegex": False, "name": "nodename", "value": "node-2"}]
    for check_mode in (True, False):
        again = run(alertmanager_silence, args, check=check_mode)
        assert not again["changed"] and again["silences"] == [made["id"]]
    assert [s["id"] for s in silences(container)] == [made["id"]]

    gone = {"matchers": NODE, "state": "absent", "_ansible_diff": True}
    check = run(alertmanager_silence, gone, check=True)
    assert check["changed"] and [s["id"] for s in silences(container)] == [made["id"]]
    assert check["diff"]["after"] == {"silence": None}
    assert run(alertmanager_silence, gone)["changed"] and silences(container) == []
    for check_mode in (True, False):
        assert not run(alertmanager_silence, gone, check=check_mode)["changed"]


def test_a_silence_made_by_hand_or_for_other_labels_is_left_alone(container):
    by_hand = ["amtool", _alertmanager.LOCAL_URL, "silence", "add", "--author=ops", "--comment=x", "nodename=node-2"]
    _docker("exec", container, *by_hand)
    run(alertmanager_silence, {"matchers": {"nodename": "node-2", "app": "todo"}})
    assert len(silences(container)) == 2
    assert not run(alertmanager_silence, {"matchers": NODE, "state": "absent"})["changed"]
    made = run(alertmanager_silence, {"matchers": NODE})
    assert made["changed"] and len(silences(container)) == 3
    run(alertmanager_silence, {"matchers": NODE, "state": "absent"})
    left = silences(container)
    assert sorted((s["createdBy"], len(s["matchers"])) for s in left) == [("ops", 1), ("sentinel", 2)]


def test_a_value_cannot_break_out_of_its_matcher(container):
    odd = {"nodename": 'node-2", alertname="x'}
    run(alertmanager_silence, {"matchers": odd})
    [made] = silences(container)
    assert [(m["name"], m["value"]) for m in made["matchers"]] == [("nodename", odd["nodename"])]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"matchers": {}}, "at least one label"),
        ({"matchers": {"node name": "x"}}, "invalid label name"),
        ({"matchers": {"nodename": ""}}, "non-empty"),
        ({"matchers": NODE, "duration": "forever"}, "invalid duration"),
        ({"matchers": NODE, "duration": "0h"}, "invalid duration"),
        ({"matchers": NODE, "created_by": ""}, "created_by"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(container, args, message):
    failed = fail(alertmanager_silence, args)
    assert message in failed["msg"] and failed["msg"].startswith("Error silencing alerts with")
    assert silences(container) == []


def test_without_alertmanager_here_it_says_so():
    ContainerSwarm.container = None
    failed = fail(alertmanager_silence, {"matchers": NODE})
    assert failed["msg"] == "Error silencing alerts with nodename=node-2: sentinel-alertmanager has no running task"

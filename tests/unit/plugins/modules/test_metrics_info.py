"""metrics_info run whole: the engine replaced by a stand-in whose exec runs the module's real
command (sh + wget) on this machine against a canned Prometheus API.

What these prove is the module's own logic (validation first, available=false paths, one exec,
shape of the result); tests/integration/test_inspect_metrics.py proves it against the real
Prometheus task on the test Swarm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import module_harness
import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _metrics
from ansible_collections.sentinel.paas.plugins.modules import metrics_info


def _vector(*samples):
    return {"status": "success", "data": {"resultType": "vector", "result": list(samples)}}


def _sample(value, **labels):
    return {"metric": labels, "value": [0, str(value)]}


class _Prometheus(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        promql = parse_qs(urlsplit(self.path).query)["query"][0]
        StandIn.asked.append(promql)
        if "node_uname_info" in promql:
            body = _vector(_sample(0.5, nodename="node1"), _sample(0.25, nodename="node2"))
        elif "histogram_quantile" in promql:
            body = _vector(_sample(0.02, service="todo-prod@swarm"), _sample(0.04, service="todo-canary@file"))
        else:
            body = _vector(
                _sample(300, service="todo-prod@swarm", code="200"),
                _sample(30, service="todo-canary@file", code="200"),
                _sample(10, service="todo-canary@file", code="500"),
            )
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class StandIn:
    """Services by name, the containers of Prometheus' task on this node, and an exec that runs
    the argv here, with the local API address rewritten to the canned server."""

    services: set[str] = set()
    local_containers: list[str] = []
    tasks: list[dict] = []
    api = ""
    instances: list[StandIn] = []
    execs: list[list[str]] = []
    asked: list[str] = []
    exit_code: int | None = None

    def __init__(self, module):
        StandIn.instances.append(self)

    def service(self, name):
        return {"Spec": {"Name": name}} if name in self.services else None

    def local_task_containers(self, name):
        assert name == "sentinel-prometheus"
        return list(self.local_containers)

    def service_tasks(self, name):
        return list(self.tasks)

    def exec_in(self, container, cmd):
        StandIn.execs.append(cmd)
        if self.exit_code is not None:
            return self.exit_code, "", "sh: wget: not found"
        cmd = [a.replace(_metrics.LOCAL_API, self.api) for a in cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(autouse=True)
def patched(monkeypatch):
    monkeypatch.setattr(metrics_info, "Swarm", StandIn)
    StandIn.services = {"sentinel-prometheus", "todo-prod", "todo-canary"}
    StandIn.local_containers = ["c0ffee"]
    StandIn.tasks = []
    StandIn.instances, StandIn.execs, StandIn.asked = [], [], []
    StandIn.exit_code = None


@pytest.fixture
def prometheus():
    if not shutil.which("wget"):
        pytest.skip("wget is not installed on this machine: the module's command runs it for real")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    StandIn.api = f"http://127.0.0.1:{server.server_address[1]}/api/v1/query"
    yield
    server.shutdown()
    server.server_close()


def run(args: dict) -> dict:
    return module_harness.run(metrics_info, args, check=True)


def fail(args: dict) -> str:
    return module_harness.fail(metrics_info, args)["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Todo"}, "invalid app name 'Todo'"),
        ({"name": 'todo"} or vector(1) #'}, "invalid app name"),
        ({"name": "edge"}, "reserved"),
        ({"name": "todo", "window": "5m] or up[5m"}, "invalid window"),
        ({"window": "5"}, "invalid window"),
        ({"name": "todo", "query_timeout": 0}, "query_timeout must be at least 1"),
    ],
)
def test_bad_input_fails_before_touching_the_engine(args, message):
    assert message in fail(args)
    assert fail(args).startswith("Error reading the metrics of")
    assert StandIn.instances == []


def test_app_and_nodes_in_one_exec(prometheus):
    StandIn.services.discard("todo-canary")  # the canary is gone: its old series do not count
    result = run({"name": "todo", "window": "5m"})
    assert result["changed"] is False
    assert result["available"] is True and result["reason"] is None and result["window"] == "5m"
    assert len(StandIn.execs) == 1 and len(StandIn.asked) == 5
    assert result["app"]["prod"] == {
        "requests": 300,
        "requests_per_second": 1.0,
        "error_ratio_5xx": 0,
        "error_ratio_4xx": 0,
        "p95_seconds": 0.02,
    }
    assert result["app"]["canary"] is None
    assert result["nodes"] == {
        "node1": {"cpu": 0.5, "memory": 0.5, "disk": 0.5},
        "node2": {"cpu": 0.25, "memory": 0.25, "disk": 0.25},
    }


def test_canary_numbers(prometheus):
    canary = run({"name": "todo"})["app"]["canary"]
    assert canary["requests"] == 40 and canary["error_ratio_5xx"] == 0.25 and canary["p95_seconds"] == 0.04


def test_without_app_only_the_nodes(prometheus):
    result = run({})
    assert result["app"] is None and sorted(result["nodes"]) == ["node1", "node2"]
    assert len(StandIn.asked) == 3 and all("node_uname_info" in q for q in StandIn.asked)


def test_no_prometheus_service_is_not_a_failure():
    StandIn.services = {"todo-prod"}
    result = run({"name": "todo"})
    assert result["available"] is False and "no sentinel-prometheus service" in result["reason"]
    assert result["app"] is None and result["nodes"] == {}
    assert StandIn.execs == []


def test_prometheus_on_another_node_says_where():
    StandIn.local_containers = []
    StandIn.tasks = [{"node": "node2", "state": "running"}, {"node": "node1", "state": "shutdown"}]
    result = run({"name": "todo"})
    assert result["available"] is False
    assert result["reason"] == "sentinel-prometheus runs on node2, not on this node: ask the manager it runs on"


def test_prometheus_not_answering_is_not_a_failure():
    if not shutil.which("wget"):
        pytest.skip("wget is not installed on this machine")
    StandIn.api = "http://127.0.0.1:9/api/v1/query"  # nothing listens on the discard port
    result = run({"name": "todo", "query_timeout": 2})
    assert result["available"] is False and "is not answering" in result["reason"]


def test_no_wget_in_the_image_is_a_failure():
    StandIn.exit_code = 127
    assert "cannot run wget in the sentinel-prometheus container: sh: wget: not found" in fail({"name": "todo"})

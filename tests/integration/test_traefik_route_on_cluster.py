"""traefik_route and traefik_route_info against the real test Swarm, and through a real Traefik.

NAME-prod is a stand-in created here with the Docker SDK (swarm_app is tested on its own), so
these tests see exactly which labels traefik_route touches.
"""

from __future__ import annotations

import secrets
import time
import warnings
from functools import partial

import docker.types
import pytest
import requests

from tests.harness.wait import eventually, remove_when_free

pytestmark = pytest.mark.cluster

EDGE = "sentinel-edge"
ROUTE = "sentinel.paas.traefik_route"
INFO = "sentinel.paas.traefik_route_info"


def _other_labels(app: str) -> dict:
    """What swarm_app (and a user) would put on NAME-prod: none of it belongs to traefik_route."""
    return {
        "sentinel.app": app,
        "sentinel.role": "prod",
        "sentinel.release": "1",
        "traefik.enable": "true",
        "traefik.swarm.network": EDGE,
        f"traefik.http.services.{app}-prod.loadbalancer.server.port": "8000",
        "com.example.note": "spaces, commas = `backticks` || stay",
    }


def _owned(app: str, labels: dict) -> dict:
    prefixes = (f"traefik.http.routers.{app}.", f"traefik.http.routers.{app}-", f"traefik.http.middlewares.{app}-")
    return {k: v for k, v in labels.items() if k.startswith(prefixes)}


_eventually = partial(eventually, timeout=15, interval=0.5)


@pytest.fixture(scope="module")
def edge(platform):
    """The platform's edge network (init.yml makes it, with Traefik on it)."""
    return EDGE


class StandIn:
    """NAME-prod with the non-router labels swarm_app would set, on the app and edge networks."""

    def __init__(self, cluster, edge: str):
        self.client = cluster.manager.client
        self.app = f"rt{secrets.token_hex(3)}"
        self.name = f"{self.app}-prod"
        self.network = f"sentinel-{self.app}"
        self.client.networks.create(self.network, driver="overlay", attachable=True)
        self.client.services.create(
            cluster.image("sentinel-test/todo:1"),
            name=self.name,
            networks=[self.network, edge],
            labels=_other_labels(self.app),
            mode=docker.types.ServiceMode("replicated", replicas=1),
            # No IPVS on this kernel; Traefik routes to task IPs either way.
            endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
        )

    @property
    def spec(self) -> dict:
        return self.client.api.inspect_service(self.name)["Spec"]

    @property
    def labels(self) -> dict:
        return self.spec["Labels"]

    def running_tasks(self) -> list[str]:
        tasks = self.client.api.tasks(filters={"service": self.name})
        return sorted(t["ID"] for t in tasks if t["Status"]["State"] == "running" and t["DesiredState"] == "running")

    def wait_running(self) -> list[str]:
        return _eventually(f"{self.name} running", self.running_tasks, timeout=120)

    def remove(self) -> None:
        self.client.api.remove_service(self.name)
        remove_when_free(lambda: self.client.networks.get(self.network).remove())


@pytest.fixture
def stand_in(cluster, edge):
    app = StandIn(cluster, edge)
    yield app
    app.remove()


def _domain(app: str, name: str = "www") -> str:
    return f"{name}.{app}.example.test"


# -- module behaviour ---------------------------------------------------------------------
def test_four_steps_with_diff(ansible, stand_in):
    app = stand_in.app
    args = {"name": app, "domains": [_domain(app), _domain(app, "API")]}
    before = stand_in.labels

    check = ansible.module(ROUTE, args, check=True, diff=True)
    assert not check.failed, check.msg
    assert check.changed
    assert check["diff"]["before"] == {"labels": {}, "maintenance_file": None}
    rule = f"Host(`{_domain(app)}`) || Host(`{_domain(app, 'api')}`)"  # lowercased
    assert check["diff"]["after"]["labels"][f"traefik.http.routers.{app}.rule"] == rule
    assert check["changes"] == sorted(check["diff"]["after"]["labels"])
    assert stand_in.labels == before, "check mode must not write"

    applied = ansible.module(ROUTE, args, diff=True)
    assert applied.changed and not applied.failed, applied.msg
    assert applied["diff"] == check["diff"] and applied["changes"] == check["changes"]
    labels = stand_in.labels
    assert _owned(app, labels) == check["diff"]["after"]["labels"]
    assert {k: v for k, v in labels.items() if k not in check["diff"]["after"]["labels"]} == before

    again = ansible.module(ROUTE, args, check=True, diff=True)
    assert not again.changed and not again.failed, again.msg
    assert again["changes"] == []
    last = ansible.module(ROUTE, args, diff=True)
    assert not last.changed and not last.failed, last.msg
    assert stand_in.labels == labels

    info = ansible.module(INFO, {"name": app})
    assert info["exists"] and info["route"] == applied["route"]
    assert info["route"]["domains"] == [_domain(app), _domain(app, "api")]
    assert info["route"]["tls"] is True and info["route"]["service"] == "prod"


def test_changing_domains_touches_only_owned_labels_and_no_task(ansible, stand_in):
    app = stand_in.app
    assert not ansible.module(ROUTE, {"name": app, "domains": [_domain(app)]}).failed
    tasks = stand_in.wait_running()
    spec = stand_in.spec

    result = ansible.module(ROUTE, {"name": app, "domains": [_domain(app, "new")], "tls": False}, diff=True)
    assert result.changed and not result.failed, result.msg
    assert result["changes"] and all(_owned(app, {k: ""}) for k in result["changes"])
    after = stand_in.spec
    # Every label that is not traefik_route's is byte-identical, and so is the task spec.
    assert {k: v for k, v in after["Labels"].items() if k not in _owned(app, after["Labels"])} == _other_labels(app)
    assert after["Labels"][f"traefik.http.routers.{app}.rule"] == f"Host(`{_domain(app, 'new')}`)"
    assert after["TaskTemplate"] == spec["TaskTemplate"]
    assert after["Mode"] == spec["Mode"] and after.get("EndpointSpec") == spec.get("EndpointSpec")
    time.sleep(3)  # a restart, had there been one, would show by now
    assert stand_in.running_tasks() == tasks, "label changes must not restart tasks"


def test_service_prod_to_split(ansible, stand_in):
    app = stand_in.app
    args = {"name": app, "domains": [_domain(app)]}
    assert not ansible.module(ROUTE, args).failed
    result = ansible.module(ROUTE, dict(args, service="split"), diff=True)
    assert result.changed and not result.failed, result.msg
    # The router's service, and the canary's preview beside it (its routers and middlewares).
    previews = [
        c
        for c in result["changes"]
        if c.startswith((f"traefik.http.routers.{app}-", f"traefik.http.middlewares.{app}-preview-"))
    ]
    assert sorted(result["changes"]) == sorted([f"traefik.http.routers.{app}.service", *previews]) and previews
    assert stand_in.labels[f"traefik.http.routers.{app}.service"] == f"{app}-split@file"
    assert ansible.module(INFO, {"name": app})["route"]["service"] == "split"
    assert ansible.module(INFO, {"name": app})["route"]["preview_header"] == "X-Sentinel-Canary"
    assert not ansible.module(ROUTE, dict(args, service="split")).changed


def test_absent_removes_only_owned_labels(ansible, stand_in):
    app = stand_in.app
    original = stand_in.labels
    assert not ansible.module(ROUTE, {"name": app, "domains": [_domain(app)], "middlewares": ["x@file"]}).failed
    owned = _owned(app, stand_in.labels)
    assert owned

    check = ansible.module(ROUTE, {"name": app, "state": "absent"}, check=True, diff=True)
    assert check.changed and check["diff"] == {
        "before": {"labels": owned, "maintenance_file": None},
        "after": {"labels": {}, "maintenance_file": None},
    }
    assert _owned(app, stand_in.labels) == owned
    removed = ansible.module(ROUTE, {"name": app, "state": "absent"}, diff=True)
    assert removed.changed and not removed.failed, removed.msg
    assert stand_in.labels == original
    assert not ansible.module(ROUTE, {"name": app, "state": "absent"}).changed
    info = ansible.module(INFO, {"name": app})
    assert info["exists"] is False and info["service_exists"] is True and info["route"] is None


def test_info_and_absent_without_service(ansible, edge):
    app = f"rt{secrets.token_hex(3)}"
    info = ansible.module(INFO, {"name": app})
    assert not info.failed and info["exists"] is False and info["service_exists"] is False
    absent = ansible.module(ROUTE, {"name": app, "state": "absent"})
    assert not absent.failed and not absent.changed


@pytest.fixture(scope="module")
def routed(cluster, edge, ansible):
    """One routed stand-in that every bad-input case below must leave exactly as it is."""
    app = StandIn(cluster, edge)
    result = ansible.module(ROUTE, {"name": app.app, "domains": [_domain(app.app)]})
    assert not result.failed, result.msg
    yield app
    app.remove()


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        (["ok.example.test`) || Host(`evil.example.test"], "invalid domain 'ok.example.test`) || Host(`evil"),
        (["a.example.test || b.example.test"], "invalid domain 'a.example.test || b.example.test'"),
        (["a.example.test\nb.example.test"], "invalid domain 'a.example.test\\nb.example.test'"),
        (["a.example.test,b.example.test"], "contains ','"),
        (["$(id).example.test"], "contains '$'"),
        (["*.example.test"], "wildcards are not supported"),
        (["good.example.test", 'bad".example.test'], "invalid domain 'bad\"."),
        ([], "domains must list at least one host name"),
    ],
)
def test_bad_domains_fail_before_touching_the_service(ansible, routed, domains, message):
    labels = routed.labels
    version = routed.client.api.inspect_service(routed.name)["Version"]["Index"]
    result = ansible.module(ROUTE, {"name": routed.app, "domains": domains}, diff=True)
    assert result.failed and not result.changed
    assert result.msg.startswith(f"Error routing app {routed.app}: "), result.msg
    assert message in result.msg
    assert routed.labels == labels
    assert routed.client.api.inspect_service(routed.name)["Version"]["Index"] == version


def test_missing_service_fails_clearly(ansible, cluster, edge):
    app = f"rt{secrets.token_hex(3)}"
    result = ansible.module(ROUTE, {"name": app, "domains": [_domain(app)]}, check=True)
    assert result.failed
    assert result.msg == f"Error routing app {app}: service {app}-prod not found; deploy the app first"
    assert not cluster.manager.client.services.list(filters={"name": app})


# -- through a real Traefik ---------------------------------------------------------------
@pytest.fixture(scope="module")
def traefik(platform, edge):
    """The platform's real Traefik (control_plane role); yields the manager's address."""
    return platform.manager.ip


def _get(ip: str, host: str, scheme: str = "http") -> requests.Response:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Traefik's default certificate is self-signed
        return requests.get(f"{scheme}://{ip}/", headers={"Host": host}, allow_redirects=False, timeout=3, verify=False)


def test_traefik_routes_by_host_and_redirects_to_https(ansible, stand_in, traefik):
    app = stand_in.app
    stand_in.wait_running()
    result = ansible.module(ROUTE, {"name": app, "domains": [_domain(app)], "tls": False})
    assert result.changed and not result.failed, result.msg

    response = _eventually("the app through Traefik", lambda: (r := _get(traefik, _domain(app))).ok and r)
    assert response.status_code == 200 and response.headers["X-App-Version"] == "1"
    assert _get(traefik, _domain(app, "other")).status_code == 404

    # Omitted, tls would keep its current value (false): turning TLS on is said.
    assert not ansible.module(ROUTE, {"name": app, "domains": [_domain(app)]}).changed
    result = ansible.module(ROUTE, {"name": app, "tls": True})
    assert result.changed and not result.failed, result.msg
    redirect = _eventually(
        "the redirect to https", lambda: (r := _get(traefik, _domain(app))).status_code in (301, 308) and r
    )
    assert redirect.headers["Location"] == f"https://{_domain(app)}/"
    secure = _eventually("the app over https", lambda: (r := _get(traefik, _domain(app), "https")).ok and r)
    assert secure.headers["X-App-Version"] == "1"

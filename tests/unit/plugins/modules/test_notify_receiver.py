"""notify_receiver and notify_receiver_info run whole against the in-memory Swarm: the four steps, a change, the
notifier's secret references, refusals; never a URL or password in a label or a result.

That the notifier delivers to what it mounts, and that the URL shows nowhere on a real cluster, is
tests/integration/test_notifications.py's.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.sentinel.paas.plugins.modules import notify_receiver, notify_receiver_info
from memory_swarm import MemorySwarm
from module_harness import fail, run

URL = "https://hooks.example.com/T0K3N"
HOOK = {"name": "oncall", "kind": "webhook", "url": URL, "_ansible_diff": True}
OTHER_SECRET = {"SecretID": "id-x", "SecretName": "sentinel-notifier-other", "File": {"Name": "x"}}


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(notify_receiver, "Swarm", MemorySwarm)
    monkeypatch.setattr(notify_receiver_info, "Swarm", MemorySwarm)
    container = {"Image": "python", "Secrets": [OTHER_SECRET]}
    MemorySwarm().create_service("sentinel-notifier", task_template={"ContainerSpec": container})


def mounted() -> list[str]:
    refs = MemorySwarm().service("sentinel-notifier")["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    return [r["SecretName"] for r in refs]


def test_four_steps_and_the_notifier_mounts_it():
    check = run(notify_receiver, HOOK, check=True)
    assert check["changed"] and check["diff"]["after"] == {
        "receiver": {"name": "oncall", "kind": "webhook", "app": None}
    }
    assert MemorySwarm.secrets_by_name == {} and mounted() == ["sentinel-notifier-other"]
    applied = run(notify_receiver, HOOK)
    assert applied["changed"] and applied["notifier"] is True
    secret = MemorySwarm.secrets_by_name["sentinel-receiver-oncall"]
    assert json.loads(secret["data"]) == {"name": "oncall", "kind": "webhook", "app": None, "url": URL}
    assert URL not in json.dumps(secret["Spec"]) and "T0K3N" not in json.dumps(applied)
    assert mounted() == ["sentinel-notifier-other", "sentinel-receiver-oncall"]
    for check_mode in (True, False):
        again = run(notify_receiver, HOOK, check=check_mode)
        assert not again["changed"] and again["changes"] == []
    info = run(notify_receiver_info, {})
    assert info["notifier"] is True
    assert info["receivers"] == [
        {
            "name": "oncall",
            "kind": "webhook",
            "app": None,
            "secret": "sentinel-receiver-oncall",
            "attached": True,
            "mount": {"secret_name": "sentinel-receiver-oncall", "filename": "sentinel-receiver-oncall", "mode": 0o444},
        }
    ]


def test_a_new_url_or_app_is_a_change_and_absent_lets_go_first():
    run(notify_receiver, HOOK)
    assert run(notify_receiver, {**HOOK, "url": URL + "-2"})["changed"]
    assert json.loads(MemorySwarm.secrets_by_name["sentinel-receiver-oncall"]["data"])["url"] == URL + "-2"
    assert run(notify_receiver, {**HOOK, "url": URL + "-2", "app": "todo"})["receiver"]["app"] == "todo"
    gone = run(notify_receiver, {"name": "oncall", "state": "absent"})
    assert gone["changed"] and MemorySwarm.secrets_by_name == {} and mounted() == ["sentinel-notifier-other"]
    assert not run(notify_receiver, {"name": "oncall", "state": "absent"})["changed"]


def test_email_keeps_its_password_in_the_secret_only():
    email = {"to": ["ops@example.com"], "from": "s@example.com", "host": "smtp.example.com", "password": "hunter2"}
    result = run(notify_receiver, {"name": "ops", "kind": "email", "email": email})
    document = json.loads(MemorySwarm.secrets_by_name["sentinel-receiver-ops"]["data"])
    assert document["email"]["password"] == "hunter2" and document["email"]["port"] == 587
    assert "hunter2" not in json.dumps(result) and "hunter2" not in json.dumps(
        MemorySwarm.secrets_by_name["sentinel-receiver-ops"]["Spec"]
    )


def test_without_the_notifier_the_secret_waits_for_it():
    MemorySwarm.services.clear()
    result = run(notify_receiver, HOOK)
    assert (
        result["changed"] and result["notifier"] is False and "sentinel-receiver-oncall" in MemorySwarm.secrets_by_name
    )
    assert run(notify_receiver_info, {})["notifier"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "ftp://x.example"}, "must be http:// or https://"),
        ({"url": "https://x.example/a b"}, "spaces or control characters"),
        ({"url": "https://"}, "must be http:// or https://"),
        ({"name": "On Call"}, "invalid receiver name"),
        ({"app": "Bad_App"}, "invalid app name"),
        ({"kind": "email", "email": {"to": ["x"], "from": "s@example.com", "host": "h"}}, "an address like"),
        ({"kind": "email", "email": {"to": ["a@b.example"], "from": "s@example.com", "host": "h h"}}, "smtp host"),
    ],
)
def test_bad_input_is_refused_changes_nothing_and_never_repeats_the_url(args, message):
    failed = fail(notify_receiver, {**HOOK, **args})
    assert message in failed["msg"] and "x.example" not in failed["msg"]
    assert MemorySwarm.secrets_by_name == {} and mounted() == ["sentinel-notifier-other"]

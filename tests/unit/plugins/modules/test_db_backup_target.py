"""db_backup_target and db_backup_target_info run whole against the in-memory Swarm: the four steps, a change of
the target or of its keys alone, removal, refusals that change nothing; never a key in a label, the result or the
diff.

That rclone really copies to an S3 API and back: tests/integration/test_db_backups.py.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _backup_target
from ansible_collections.sentinel.paas.plugins.modules import db_backup_target, db_backup_target_info
from memory_swarm import MemorySwarm
from module_harness import fail, run

SECRET = "wJalrXUtnFEMI-K7MDENG"
TARGET = {
    "bucket": "sentinel-backups",
    "endpoint": "https://s3.example.com:9000/",
    "access_key_id": "AKIAEXAMPLE",
    "secret_access_key": SECRET,
    "_ansible_diff": True,
}
SHIP = "sentinel-backup-ship"


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(db_backup_target, "Swarm", MemorySwarm)
    monkeypatch.setattr(db_backup_target_info, "Swarm", MemorySwarm)


def mounted() -> list[str]:
    return [r["SecretName"] for r in MemorySwarm.services[SHIP]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]]


def test_four_steps_and_the_keys_stay_in_the_secret():
    check = run(db_backup_target, TARGET, check=True)
    assert check["changed"] and check["changes"] == ["service", "credentials"]
    assert check["url"] == "s3://sentinel-backups/sentinel" and MemorySwarm.writes == []
    applied = run(db_backup_target, TARGET)
    assert applied["changed"] and applied["target"] == {
        "endpoint": "https://s3.example.com:9000",
        "bucket": "sentinel-backups",
        "region": "us-east-1",
        "prefix": "sentinel",
        "image": "rclone/rclone:1.68",
        "directory": "/var/lib/sentinel/backups",
    }
    [secret] = list(MemorySwarm.secrets_by_name.values())
    assert f"secret_access_key = {SECRET}\n" in secret["data"].decode()
    assert "endpoint = https://s3.example.com:9000\n" in secret["data"].decode()
    service = MemorySwarm.services[SHIP]["Spec"]
    assert service["Mode"] == {"Global": {}} and mounted() == [secret["Spec"]["Name"]]
    assert service["TaskTemplate"]["ContainerSpec"]["Env"] == [
        "SENTINEL_TARGET_PATH=sentinel-backups/sentinel",
        f"SENTINEL_EVERY={_backup_target.SHIP_SECONDS}",
    ]
    shown = json.dumps([applied, service, secret["Spec"]])
    assert SECRET not in shown and "AKIAEXAMPLE" not in shown
    for check_mode in (True, False):
        again = run(db_backup_target, TARGET, check=check_mode)
        assert not again["changed"] and again["changes"] == []
        assert again["diff"]["before"] == again["diff"]["after"]
    info = run(db_backup_target_info, {"directory": "/var/lib/sentinel//backups/"})
    assert info["target"] == applied["target"] and info["url"] == "s3://sentinel-backups/sentinel"
    assert info["directory"] == "/var/lib/sentinel/backups" and info["running"] == 0


def test_new_keys_replace_the_secret_and_a_new_prefix_only_the_service():
    run(db_backup_target, TARGET)
    [first] = list(MemorySwarm.secrets_by_name)
    moved = run(db_backup_target, {**TARGET, "prefix": "prod/eu"})
    assert moved["changes"] == ["service"] and list(MemorySwarm.secrets_by_name) == [first]
    assert moved["diff"]["after"]["target"]["prefix"] == "prod/eu"
    rekeyed = run(db_backup_target, {**TARGET, "prefix": "prod/eu", "secret_access_key": SECRET + "2"})
    assert rekeyed["changes"] == ["credentials"] and rekeyed["diff"]["after"]["credentials"] == "new"
    [second] = list(MemorySwarm.secrets_by_name)
    assert second != first and mounted() == [second]
    assert SECRET not in json.dumps(rekeyed)


def test_a_new_program_of_the_service_rolls_out():
    run(db_backup_target, TARGET)
    MemorySwarm.services[SHIP]["Spec"]["Labels"]["sentinel.config-hash"] = "an-older-program"
    upgraded = run(db_backup_target, TARGET)
    assert upgraded["changes"] == ["service"]
    assert MemorySwarm.services[SHIP]["Spec"]["Labels"]["sentinel.config-hash"] == _backup_target.SCRIPT_HASH


def test_absent_removes_the_service_and_its_secret():
    run(db_backup_target, TARGET)
    check = run(db_backup_target, {"state": "absent"}, check=True)
    assert check["changed"] and SHIP in MemorySwarm.services
    gone = run(db_backup_target, {"state": "absent", "_ansible_diff": True})
    assert gone["changed"] and gone["target"] is None and gone["diff"]["after"] == {"target": None, "credentials": None}
    assert MemorySwarm.services == {} and MemorySwarm.secrets_by_name == {}
    assert not run(db_backup_target, {"state": "absent"})["changed"]
    assert run(db_backup_target_info, {})["target"] is None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"bucket": "Not_A_Bucket"}, "invalid bucket"),
        ({"endpoint": "https://user:pw@s3.example.com"}, "invalid endpoint"),
        ({"endpoint": "ftp://s3.example.com"}, "invalid endpoint"),
        ({"prefix": "../up"}, "invalid prefix"),
        ({"region": "EU West"}, "invalid region"),
        ({"secret_access_key": "with space " + SECRET}, "secret_access_key is missing or has spaces"),
        ({"access_key_id": "line\nbreak"}, "access_key_id is missing or has spaces"),
        # rclone would strip quotes, and print the line (the key) of one left open
        ({"secret_access_key": '"""' + SECRET}, "secret_access_key is missing or has spaces or control characters"),
        ({"directory": "backups"}, "invalid directory 'backups'"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(change, said):
    run(db_backup_target, TARGET)
    before = json.dumps([MemorySwarm.services, {k: v["Spec"] for k, v in MemorySwarm.secrets_by_name.items()}])
    failed = fail(db_backup_target, {**TARGET, **change})
    assert said in failed["msg"] and SECRET not in failed["msg"]
    after = json.dumps([MemorySwarm.services, {k: v["Spec"] for k, v in MemorySwarm.secrets_by_name.items()}])
    assert after == before


def test_amazon_s3_itself_needs_no_endpoint():
    run(db_backup_target, {**TARGET, "endpoint": None, "prefix": ""})
    [secret] = list(MemorySwarm.secrets_by_name.values())
    assert "provider = AWS\n" in secret["data"].decode() and "endpoint" not in secret["data"].decode()
    assert run(db_backup_target_info, {})["url"] == "s3://sentinel-backups"

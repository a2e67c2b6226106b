"""canary_weights and canary_weights_info run whole, against the in-memory Swarm's configs.

exit_json / fail_json are patched to raise, the way kubernetes.core and community.docker drive
their modules in unit tests. That the record reaches every manager's Traefik is proven on the real
Swarm (tests/integration/test_canary_weights_on_cluster.py, test_several_managers.py).
"""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.sentinel.paas.plugins.module_utils import _split
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files
from ansible_collections.sentinel.paas.plugins.modules import canary_weights, canary_weights_info
from memory_swarm import MemorySwarm
from module_harness import fail, run

FILE = "demo-split.yml"


@pytest.fixture(autouse=True)
def memory(monkeypatch):
    MemorySwarm.reset()
    monkeypatch.setattr(canary_weights, "Swarm", MemorySwarm)
    monkeypatch.setattr(canary_weights_info, "Swarm", MemorySwarm)


def kept() -> list[tuple[str, str]]:
    """(config name, text) of every version of the split in the Swarm, newest first."""
    configs = files.versions(MemorySwarm().configs({files.LABEL_FILE: FILE}), FILE)
    return [(c["Spec"]["Name"], files.text_of(c)) for c in configs]


def keep_by_hand(text: str, version: int = 1) -> None:
    MemorySwarm().create_config(files.config_name(FILE, version), text.encode(), files.labels(FILE, version))


def weights(weight, **extra):
    return {"name": "demo", "weight": weight, "_ansible_diff": True, **extra}


def test_check_mode_reports_the_change_and_writes_nothing():
    result = run(canary_weights, weights(10), check=True)
    assert result["changed"] is True
    assert result["changes"] == ["file"]
    assert result["weights"] == {"prod": 90, "canary": 10}
    assert result["config"] == "sentinel-traefik-demo-split-1" and result["file"] == FILE
    assert result["diff"]["before"] == ""
    assert "weight: 10" in result["diff"]["after"]
    assert result["diff"]["after_header"] == FILE
    assert kept() == [] and MemorySwarm.writes == []


def test_apply_keeps_the_document_then_reports_no_change():
    first = run(canary_weights, weights(10))
    assert first["changed"] is True
    assert first["cookie_name"] == "sentinel_demo"
    ((name, text),) = kept()
    assert name == first["config"] == "sentinel-traefik-demo-split-1"
    assert text == first["diff"]["after"]
    assert text.startswith("# Managed by sentinel.paas.canary_weights")
    assert yaml.safe_load(text) == _split.desired_document("demo", 10, "sentinel_demo", secure=False, port=8000)

    for check in (True, False):
        again = run(canary_weights, weights("10"), check=check)
        assert again["changed"] is False
        assert again["changes"] == []
        assert again["config"] == name
        assert again["diff"]["before"] == again["diff"]["after"]
    assert [w for w in MemorySwarm.writes if w[0] != "create config"] == []


def test_new_weights_are_a_new_version_and_the_old_one_goes():
    run(canary_weights, weights(10))
    check = run(canary_weights, weights(50), check=True)
    assert check["changed"] is True and len(kept()) == 1  # check mode left the record alone
    result = run(canary_weights, weights(50))
    assert (
        result["changes"]
        == check["changes"]
        == [
            "http.services.demo-split.weighted.services.demo-canary-guard.weight",
            "http.services.demo-split.weighted.services.demo-prod@swarm.weight",
        ]
    )
    assert result["weights"] == {"prod": 50, "canary": 50}
    assert "weight: 90" in result["diff"]["before"] and "weight: 50" in result["diff"]["after"]
    assert [name for name, _text in kept()] == ["sentinel-traefik-demo-split-2"]
    # The new version is in before the old one goes: a run killed in between leaves both, the newest wins.
    assert MemorySwarm.writes[-2:] == [
        ("create config", "sentinel-traefik-demo-split-2"),
        ("remove config", "sentinel-traefik-demo-split-1"),
    ]


def test_a_killed_run_that_left_two_versions_reads_the_newest_and_cleans_up():
    keep_by_hand(_split.render("demo", _split.desired_document("demo", 10, "sentinel_demo", False, 8000)), 1)
    keep_by_hand(_split.render("demo", _split.desired_document("demo", 40, "sentinel_demo", False, 8000)), 2)
    assert run(canary_weights_info, {"name": "demo"})["weights"] == {"prod": 60, "canary": 40}
    result = run(canary_weights, weights(30))
    assert result["config"] == "sentinel-traefik-demo-split-3"
    assert [name for name, _text in kept()] == ["sentinel-traefik-demo-split-3"]


def test_weight_zero_keeps_the_split_with_everything_on_production():
    result = run(canary_weights, weights(0))
    assert result["weights"] == {"prod": 100, "canary": 0}
    assert _split.read_split(yaml.safe_load(kept()[0][1]), "demo")["weights"] == {"prod": 100, "canary": 0}


def test_comments_and_key_order_written_by_hand_do_not_count():
    document = _split.desired_document("demo", 10, "sentinel_demo", secure=False, port=8000)
    keep_by_hand("# a note\n" + yaml.safe_dump(document, sort_keys=True))
    assert run(canary_weights, weights(10))["changed"] is False


def test_a_broken_document_is_replaced():
    keep_by_hand("http: [unclosed\n")
    assert run(canary_weights, weights(10))["changes"] == ["document"]
    assert run(canary_weights, weights(10))["changed"] is False


def test_cookie_name_and_secure():
    result = run(canary_weights, weights(10, cookie_name="canary.v2", secure=True))
    assert result["cookie_name"] == "canary.v2"
    info = run(canary_weights_info, {"name": "demo"})
    assert info == {
        "changed": False,
        "exists": True,
        "config": result["config"],
        "weights": {"prod": 90, "canary": 10},
        "cookie_name": "canary.v2",
        "secure": True,
        "port": 8000,
        "baseline_port": 0,
    }


def test_absent_removes_every_version_then_reports_no_change():
    run(canary_weights, weights(10))
    run(canary_weights, weights(20))
    args = {"name": "demo", "state": "absent", "_ansible_diff": True}
    check = run(canary_weights, args, check=True)
    assert check["changed"] is True and len(kept()) == 1
    result = run(canary_weights, args)
    assert result["changed"] is True
    assert result["changes"] == ["file"]
    assert result["weights"] is None and result["config"] is None
    assert result["diff"]["after"] == ""
    assert kept() == []
    assert run(canary_weights, args)["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"weight": 10.5}, "invalid weight 10.5"),
        ({"weight": True}, "invalid weight True"),
        ({"weight": -1}, "invalid weight -1"),
        ({"weight": 101}, "invalid weight 101"),
        ({"weight": "abc"}, "invalid weight 'abc'"),
        ({"weight": 10, "name": "Bad_Name"}, "invalid app name 'Bad_Name'"),
        ({"weight": 10, "name": "edge"}, "reserved"),
        ({"weight": 10, "cookie_name": "a b"}, "invalid cookie name 'a b'"),
        ({"weight": 10, "cookie_name": "a;b=c"}, "invalid cookie name"),
        ({"weight": 40, "baseline_port": 8000}, "at most 33"),
    ],
)
def test_bad_input_fails_and_leaves_the_record_unchanged(args, message):
    run(canary_weights, weights(30))
    before, writes = kept(), len(MemorySwarm.writes)
    result = fail(canary_weights, {**weights(10), **args})
    assert result["msg"].startswith(f"Error writing traffic split {args.get('name', 'demo')}: ")
    assert message in result["msg"]
    assert kept() == before and len(MemorySwarm.writes) == writes


def test_omitted_options_keep_the_current_split():
    created = run(canary_weights, {"name": "demo"})
    assert created["weights"] == {"prod": 90, "canary": 10}, "a new split starts at 10%"
    run(canary_weights, weights(30, cookie_name="pick", secure=True))
    unchanged = run(canary_weights, {"name": "demo"})
    assert not unchanged["changed"]
    assert unchanged["weights"] == {"prod": 70, "canary": 30} and unchanged["cookie_name"] == "pick"
    assert run(canary_weights, {"name": "demo", "weight": 40})["changes"] == [
        "http.services.demo-split.weighted.services.demo-canary-guard.weight",
        "http.services.demo-split.weighted.services.demo-prod@swarm.weight",
    ]


def test_diff_only_in_diff_mode():
    assert "diff" not in run(canary_weights, {"name": "demo", "weight": 5})


def test_info_when_there_is_no_split():
    assert run(canary_weights_info, {"name": "demo"}) == {
        "changed": False,
        "exists": False,
        "config": None,
        "weights": None,
        "cookie_name": None,
        "secure": None,
        "port": None,
        "baseline_port": None,
    }


def test_info_fails_on_a_document_that_is_not_a_split():
    keep_by_hand("http: {routers: {}}\n")
    result = fail(canary_weights_info, {"name": "demo"})
    assert result["msg"] == (
        "Error reading traffic split demo: no weighted service demo-split with prod and canary children"
    )


def test_info_validates_the_app_name():
    assert "invalid app name" in fail(canary_weights_info, {"name": "-x"})["msg"]


def test_the_port_keeps_its_value_and_a_bad_one_is_refused():
    assert run(canary_weights, {"name": "demo", "port": 3000})["port"] == 3000
    assert run(canary_weights, {"name": "demo", "weight": 20})["port"] == 3000
    before = kept()
    assert "http://demo-canary:3000" in before[0][1]
    failed = fail(canary_weights, {"name": "demo", "port": 70000})
    assert "invalid port 70000" in failed["msg"]
    assert kept() == before

"""canary_weights and canary_weights_info run whole, on files in a temporary directory.

exit_json / fail_json are patched to raise, the way kubernetes.core and community.docker
drive their modules in unit tests.
"""

from __future__ import annotations

import os
import stat

import pytest
import yaml
from ansible_collections.sentinel.paas.plugins.module_utils import _split
from ansible_collections.sentinel.paas.plugins.modules import canary_weights, canary_weights_info
from module_harness import fail, run


@pytest.fixture
def directory(tmp_path):
    """Traefik's directory; its parent (tmp_path) is where the module stages its writes."""
    (tmp_path / "dynamic").mkdir()
    return str(tmp_path / "dynamic")


@pytest.fixture(autouse=True)
def no_temporary_file_left_behind(tmp_path):
    yield
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.fixture
def split_file(directory):
    return os.path.join(directory, "demo-split.yml")


def weights(directory, weight, **extra):
    return {"name": "demo", "weight": weight, "directory": directory, "_ansible_diff": True, **extra}


def test_check_mode_reports_the_change_and_writes_nothing(directory, split_file):
    result = run(canary_weights, weights(directory, 10), check=True)
    assert result["changed"] is True
    assert result["changes"] == ["file"]
    assert result["weights"] == {"prod": 90, "canary": 10}
    assert result["diff"]["before"] == ""
    assert "weight: 10" in result["diff"]["after"]
    assert result["diff"]["after_header"] == split_file
    assert not os.path.exists(split_file)
    assert os.listdir(directory) == []


def test_apply_writes_the_document_then_reports_no_change(directory, split_file):
    first = run(canary_weights, weights(directory, 10))
    assert first["changed"] is True
    assert first["path"] == split_file
    assert first["cookie_name"] == "sentinel_demo"
    with open(split_file) as f:
        text = f.read()
    assert text == first["diff"]["after"]
    assert text.startswith("# Managed by sentinel.paas.canary_weights")
    assert yaml.safe_load(text) == _split.desired_document("demo", 10, "sentinel_demo", secure=False, port=8000)
    assert stat.S_IMODE(os.stat(split_file).st_mode) == 0o644
    assert os.listdir(directory) == ["demo-split.yml"]

    for check in (True, False):
        again = run(canary_weights, weights(directory, "10"), check=check)
        assert again["changed"] is False
        assert again["changes"] == []
        assert again["diff"]["before"] == again["diff"]["after"]


def test_new_weights_change_only_the_weights(directory, split_file):
    run(canary_weights, weights(directory, 10))
    before = os.stat(split_file).st_ino
    check = run(canary_weights, weights(directory, 50), check=True)
    assert check["changed"] is True
    assert os.stat(split_file).st_ino == before  # check mode left the file alone
    result = run(canary_weights, weights(directory, 50))
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
    assert os.stat(split_file).st_ino != before  # replaced by rename, not rewritten in place


def test_weight_zero_keeps_the_split_with_everything_on_production(directory, split_file):
    result = run(canary_weights, weights(directory, 0))
    assert result["weights"] == {"prod": 100, "canary": 0}
    with open(split_file) as f:
        assert _split.read_split(yaml.safe_load(f), "demo")["weights"] == {"prod": 100, "canary": 0}


def test_comments_and_key_order_written_by_hand_do_not_count(directory, split_file):
    document = _split.desired_document("demo", 10, "sentinel_demo", secure=False, port=8000)
    with open(split_file, "w") as f:
        f.write("# a note\n" + yaml.safe_dump(document, sort_keys=True))
    os.chmod(split_file, 0o644)
    assert run(canary_weights, weights(directory, 10))["changed"] is False


def test_wrong_mode_or_broken_yaml_is_repaired(directory, split_file):
    run(canary_weights, weights(directory, 10))
    os.chmod(split_file, 0o600)
    assert run(canary_weights, weights(directory, 10))["changes"] == ["mode"]
    assert stat.S_IMODE(os.stat(split_file).st_mode) == 0o644
    with open(split_file, "w") as f:
        f.write("http: [unclosed\n")
    assert run(canary_weights, weights(directory, 10))["changes"] == ["document"]
    assert run(canary_weights, weights(directory, 10))["changed"] is False


def test_cookie_name_and_secure(directory, split_file):
    result = run(canary_weights, weights(directory, 10, cookie_name="canary.v2", secure=True))
    assert result["cookie_name"] == "canary.v2"
    info = run(canary_weights_info, {"name": "demo", "directory": directory})
    assert info == {
        "changed": False,
        "exists": True,
        "path": split_file,
        "weights": {"prod": 90, "canary": 10},
        "cookie_name": "canary.v2",
        "secure": True,
        "port": 8000,
        "baseline_port": 0,
    }


def test_absent_removes_the_file_then_reports_no_change(directory, split_file):
    run(canary_weights, weights(directory, 10))
    args = {"name": "demo", "state": "absent", "directory": directory, "_ansible_diff": True}
    check = run(canary_weights, args, check=True)
    assert check["changed"] is True and os.path.exists(split_file)
    result = run(canary_weights, args)
    assert result["changed"] is True
    assert result["changes"] == ["file"]
    assert result["weights"] is None
    assert result["diff"]["after"] == ""
    assert not os.path.exists(split_file)
    assert run(canary_weights, args)["changed"] is False
    assert run(canary_weights, {**args, "directory": os.path.join(directory, "missing")})["changed"] is False


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
    ],
)
def test_bad_input_fails_and_leaves_the_file_unchanged(directory, split_file, args, message):
    run(canary_weights, weights(directory, 30))
    with open(split_file) as f:
        before = f.read()
    result = fail(canary_weights, {**weights(directory, 10), **args})
    assert result["msg"].startswith(f"Error writing traffic split {args.get('name', 'demo')}: ")
    assert message in result["msg"]
    with open(split_file) as f:
        assert f.read() == before
    assert sorted(os.listdir(directory)) == ["demo-split.yml"]


def test_omitted_options_keep_the_current_split(directory):
    created = run(canary_weights, {"name": "demo", "directory": directory})
    assert created["weights"] == {"prod": 90, "canary": 10}, "a new split starts at 10%"
    run(canary_weights, weights(directory, 30, cookie_name="pick", secure=True))
    kept = run(canary_weights, {"name": "demo", "directory": directory})
    assert not kept["changed"]
    assert kept["weights"] == {"prod": 70, "canary": 30} and kept["cookie_name"] == "pick"
    assert run(canary_weights, {"name": "demo", "directory": directory, "weight": 40})["changes"] == [
        "http.services.demo-split.weighted.services.demo-canary-guard.weight",
        "http.services.demo-split.weighted.services.demo-prod@swarm.weight",
    ]


def test_diff_only_in_diff_mode(directory):
    assert "diff" not in run(canary_weights, {"name": "demo", "directory": directory, "weight": 5})


def test_a_missing_directory_is_an_error_not_created(tmp_path):
    missing = str(tmp_path / "dynamic")
    result = fail(canary_weights, weights(missing, 10))
    assert result["msg"] == (
        f"Error writing traffic split demo: directory {missing} does not exist on this host "
        "(the control_plane role creates it and mounts it into Traefik)"
    )
    assert not os.path.exists(missing)


def test_a_write_failure_is_reported_and_leaves_no_temporary_file(directory, split_file, monkeypatch):
    run(canary_weights, weights(directory, 10))

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    result = fail(canary_weights, weights(directory, 50))
    assert result["msg"] == "Error writing traffic split demo: [Errno 28] No space left on device"
    assert os.listdir(directory) == ["demo-split.yml"]
    with open(split_file) as f:
        assert "weight: 10" in f.read()


def test_info_when_there_is_no_split(directory, split_file):
    assert run(canary_weights_info, {"name": "demo", "directory": directory}) == {
        "changed": False,
        "exists": False,
        "path": split_file,
        "weights": None,
        "cookie_name": None,
        "secure": None,
        "port": None,
        "baseline_port": None,
    }


def test_info_fails_on_a_document_that_is_not_a_split(directory, split_file):
    with open(split_file, "w") as f:
        f.write("http: {routers: {}}\n")
    result = fail(canary_weights_info, {"name": "demo", "directory": directory})
    assert result["msg"] == (
        "Error reading traffic split demo: no weighted service demo-split with prod and canary children"
    )


def test_info_validates_the_app_name(directory):
    assert "invalid app name" in fail(canary_weights_info, {"name": "-x", "directory": directory})["msg"]


def test_the_port_keeps_its_value_and_a_bad_one_is_refused(directory, split_file):
    assert run(canary_weights, {"name": "demo", "directory": directory, "port": 3000})["port"] == 3000
    kept = run(canary_weights, {"name": "demo", "directory": directory, "weight": 20})
    assert kept["port"] == 3000
    with open(split_file) as f:
        before = f.read()
    assert "http://demo-canary:3000" in before
    failed = fail(canary_weights, {"name": "demo", "directory": directory, "port": 70000})
    assert "invalid port 70000" in failed["msg"]
    with open(split_file) as f:
        assert f.read() == before

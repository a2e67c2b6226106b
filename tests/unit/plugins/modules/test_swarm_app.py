"""swarm_app's main(): bad input is refused before the engine is even contacted.

Everything that needs an engine (changed/unchanged, check mode, waits) is proven against the
real Swarm in tests/integration/test_swarm_app_on_cluster.py; here the engine wrapper explodes if touched.
"""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.sentinel.paas.plugins.modules import swarm_app


class Failed(Exception):
    def __init__(self, result: dict):
        super().__init__(result.get("msg"))
        self.result = result


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    def fail_json(self, **kwargs):
        raise Failed(kwargs)

    def engine(module):
        raise AssertionError("the engine was contacted before the input was validated")

    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(swarm_app, "Swarm", engine)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Bad_Name", "image": "todo:1"}, "Error deploying app Bad_Name: invalid app name"),
        ({"name": "edge", "image": "todo:1"}, "reserved by the platform"),
        ({"name": "todo", "image": "Not An Image"}, "invalid image reference"),
        ({"name": "todo", "image": "todo:1", "replicas": -1}, "replicas must be 0 or more"),
        ({"name": "todo", "image": "todo:1", "labels": {"traefik.enable": "false"}}, "reserved prefix"),
        ({"name": "todo", "image": "todo:1", "limits": {"memory": "lots"}}, "limits.memory"),
        ({"name": "-x", "state": "absent"}, "Error removing app -x: invalid app name"),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_bad_input_fails_before_the_engine(args, message, check):
    with patch_module_args({**args, "_ansible_check_mode": check}), pytest.raises(Failed) as failed:
        swarm_app.main()
    assert message in failed.value.result["msg"]
    assert failed.value.result["changed"] is False


def test_password_is_no_log():
    assert swarm_app.argument_spec()["postgres_password"]["no_log"] is True

"""Run a module's main() in-process, as the house unit tests do.

exit_json / fail_json raise Exited / Failed (patched for every test in this folder by
conftest.py), so a test reads the result a user would see.
"""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Exited(Exception):
    def __init__(self, result: dict):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    def __init__(self, result: dict):
        super().__init__(result.get("msg"))
        self.result = result


def patch_exits(monkeypatch) -> None:
    def exit_json(self, **kwargs):
        raise Exited(kwargs)

    def fail_json(self, **kwargs):
        raise Failed(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run(module, args: dict, check: bool = False) -> dict:
    """The module's result; raises Failed when it fails."""
    if check:
        args = {**args, "_ansible_check_mode": True}
    with patch_module_args(args), pytest.raises(Exited) as exited:
        module.main()
    return exited.value.result


def fail(module, args: dict) -> dict:
    """The module's failure result; raises Exited when it does not fail."""
    with patch_module_args(args), pytest.raises(Failed) as failed:
        module.main()
    return failed.value.result

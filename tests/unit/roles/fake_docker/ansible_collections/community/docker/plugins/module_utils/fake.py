"""A stand-in for community.docker in tests of roles/_common: answers from a JSON file, records calls.

The file (environment variable SENTINEL_FAKE_DOCKER) holds, per module, the answers for each
object (service or network name) in turn, the last one repeated; every call is appended to
"calls". Every answer of docker_swarm_info carries join tokens, as the real module's does.
"""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule

JOIN_TOKEN = "SWMTKN-1-fake-join-token-that-must-never-be-printed"


def run(module_name: str, argument_spec: dict, key) -> None:
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    path = os.environ["SENTINEL_FAKE_DOCKER"]
    with open(path) as handle:
        state = json.load(handle)
    name = key(module.params)
    calls = state.setdefault("calls", [])
    calls.append({"module": module_name, "name": name, "params": module.params, "check_mode": module.check_mode})
    with open(path, "w") as handle:
        json.dump(state, handle)
    answers = state.get(module_name, {}).get(name) or [{}]
    count = sum(1 for call in calls if call["module"] == module_name and call["name"] == name)
    answer = dict(answers[min(count, len(answers)) - 1])
    if module_name == "docker_swarm_info":
        answer["swarm_facts"] = {"JoinTokens": {"Worker": JOIN_TOKEN, "Manager": JOIN_TOKEN}}
    if "msg" in answer:
        module.fail_json(**answer)
    module.exit_json(changed=answer.pop("changed", False), **answer)

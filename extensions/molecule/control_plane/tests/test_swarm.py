"""The control_plane scenario's verifier (pytest-testinfra), on every node: the Swarm the role formed.
The role's full behaviour is tested on the harness's Swarm (tests/integration/test_control_plane.py)."""

import json


def test_every_node_is_in_the_swarm_in_its_inventory_role(host):
    info = json.loads(host.check_output("docker info --format '{{json .Swarm}}'"))
    assert info["LocalNodeState"] == "active"
    assert info["ControlAvailable"] == ("managers" in host.ansible.get_variables()["group_names"])

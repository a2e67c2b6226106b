"""The registry scenario's verifier, on every node: port 5000 of its loopback is the registry (through the node's
proxy), which wants the password."""

from sentinel_testinfra import registry_status


def test_this_nodes_loopback_reaches_the_registry_which_wants_the_password(host):
    assert registry_status(host) == "401"
    assert registry_status(host, "sentinel:wrong") == "401"

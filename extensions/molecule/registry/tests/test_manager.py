"""The registry scenario's verifier, on the manager: the credential it keeps opens the registry, and only root
reads it."""

import json

from sentinel_testinfra import managers, registry_status

testinfra_hosts = managers()
CREDENTIAL_FILE = "/etc/sentinel/registry/credential"


def test_the_kept_credential_opens_the_registry_and_only_root_reads_it(host):
    credential = host.file(CREDENTIAL_FILE)
    assert (credential.mode, credential.user) == (0o600, "root")
    login = json.loads(credential.content_string)
    assert registry_status(host, f"{login['username']}:{login['password']}") == "200"

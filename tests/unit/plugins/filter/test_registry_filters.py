"""The htpasswd filter (plugins/filter/registry.py): the registry's bcrypt line, stable for a password and seed."""

from __future__ import annotations

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sentinel.paas.plugins.filter.registry import htpasswd


def test_the_line_is_the_user_and_a_bcrypt_hash_of_the_password():
    user, hashed = htpasswd("s3cret", "sentinel", "seed").split(":", 1)
    assert user == "sentinel" and hashed.startswith("$2b$05$")
    assert bcrypt.checkpw(b"s3cret", hashed.encode())
    assert not bcrypt.checkpw(b"s3cret!", hashed.encode())


def test_the_same_password_and_seed_give_the_same_line_and_another_seed_another():
    assert htpasswd("s3cret", "sentinel", "seed") == htpasswd("s3cret", "sentinel", "seed")
    assert htpasswd("s3cret", "sentinel", "seed") != htpasswd("s3cret", "sentinel", "other seed")


@pytest.mark.parametrize(
    ("password", "user", "seed", "error"),
    [
        ("", "sentinel", "seed", "non-empty"),
        ("pw", "", "seed", "non-empty"),
        ("pw", "sentinel", None, "non-empty"),
        ("pw", "a:b", "seed", "a colon ends the user"),
        ("x" * 73, "sentinel", "seed", "72 bytes"),
    ],
)
def test_bad_input_is_refused(password, user, seed, error):
    with pytest.raises(AnsibleFilterError, match=error):
        htpasswd(password, user, seed)

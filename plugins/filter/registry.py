# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster registry's htpasswd line (roles/registry): Distribution checks bcrypt hashes only."""

from __future__ import annotations

import hashlib

from ansible.errors import AnsibleFilterError

try:
    import bcrypt
except ImportError:  # reported when the filter is used
    bcrypt = None

_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Apache htpasswd -B's cost. The registry checks the hash on every request of a pull; the password is
# random and long (the role draws 32 characters), so a slower hash would guard nothing more.
_COST = 5


def _salt(seed: str) -> bytes:
    """A bcrypt salt drawn from the seed: the same password and seed give the same line, so the role's
    secret changes (and the registry restarts) only when the password does."""
    digest = hashlib.sha256(seed.encode()).digest()
    # 22 characters hold 132 bits, bcrypt reads 128: the last one's low 4 bits must be zero.
    chars = [_BCRYPT_ALPHABET[byte % 64] for byte in digest[:21]] + [".Oeu"[digest[21] % 4]]
    return f"$2b${_COST:02d}$".encode() + "".join(chars).encode()


def htpasswd(password, user, seed):
    """``password | sentinel.paas.htpasswd(user, seed)`` is the line ``user:$2b$...`` of an htpasswd file."""
    if bcrypt is None:
        raise AnsibleFilterError("htpasswd: the Python library bcrypt is missing on the controller: pip install bcrypt")
    if not all(isinstance(value, str) and value for value in (password, user, seed)):
        raise AnsibleFilterError("htpasswd: give a password, a user and a seed, each non-empty text")
    if ":" in user:
        raise AnsibleFilterError(f"htpasswd: invalid user {user!r}: a colon ends the user in an htpasswd line")
    if len(password.encode()) > 72:
        raise AnsibleFilterError("htpasswd: the password is longer than bcrypt's 72 bytes; use a shorter one")
    return f"{user}:{bcrypt.hashpw(password.encode(), _salt(seed)).decode()}"


class FilterModule:
    def filters(self):
        return {"htpasswd": htpasswd}

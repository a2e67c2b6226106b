# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app's configuration as ``sentinel config`` changes it: KEY=VALUE pairs, and which keys they may use.

Pure functions; playbooks/config_set.yml calls them through the config_change filter
(plugins/filter/config.py), so a bad change is refused before anything is touched. Private to this collection.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Sentinel sets these itself: PG* for the app's database (libpq's variables), SENTINEL_* for the platform.
RESERVED_PREFIXES = ("PG", "SENTINEL_")


def key_error(key: object) -> str | None:
    """Why ``key`` cannot be one of the app's variables, or None when it can."""
    if not isinstance(key, str) or not key:
        return "empty key: give KEY=VALUE"
    if not _KEY.fullmatch(key):
        return f"invalid key {key!r}: use letters, digits and _, not starting with a digit"
    if key.upper().startswith(RESERVED_PREFIXES):
        return f"reserved key {key}: Sentinel sets PG* (the app's database) and SENTINEL_* (the platform) itself"
    return None


# Text pairs: one per line; on a single line, a comma starts the next pair only where KEY= follows.
_LINE_PAIRS = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*=)")


def parse_pairs(value: object, secret: bool = False) -> dict[str, str]:
    """{KEY: VALUE} from a dict, a list of ``KEY=VALUE`` texts, or (not for a ``secret``) text with one
    pair per line, or pairs on one line joined by commas (an AWX survey's answer); blank means none.

    A secret's value may hold any character (a PEM key has newlines), so secrets come as a mapping
    or a list only, and a malformed one is named by its position, never by its text.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, str) and not secret:
        value = value.splitlines() if "\n" in value else _LINE_PAIRS.split(value)
    if not isinstance(value, list):
        raise ValueError("give secrets as a mapping of KEY to value" if secret else "give KEY=VALUE pairs")
    pairs = {}
    for number, item in enumerate(value, start=1):
        item = str(item) if secret else str(item).strip()
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(
                f"malformed secret #{number}: give KEY=VALUE"
                if secret
                else f"malformed pair {key[:40]!r}: give KEY=VALUE"
            )
        pairs[key.strip()] = text
    return pairs


def parse_keys(value: object) -> list[str]:
    """Keys from a list, or text with one key per line or comma; blank means none."""
    if value is None or value == "":
        return []
    items = re.split(r"[\n,]", value) if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("give the keys as a list, or as text")
    return [str(i).strip() for i in items if str(i).strip()]


def change_errors(set_: object, unset: object, secret: object, current: dict) -> list[str]:
    """Every reason the change cannot be made (empty: it can). ``current`` is what the app has:
    {"env": {KEY: VALUE}, "secret_env": {KEY: secret name}}."""
    errors = []
    try:
        pairs, secrets, keys = parse_pairs(set_), parse_pairs(secret, secret=True), parse_keys(unset)
    except ValueError as exc:
        return [str(exc)]
    if not pairs and not secrets and not keys:
        return ["nothing to change: give KEY=VALUE pairs to set, a secret, or keys to unset"]
    errors += [e for e in map(key_error, [*pairs, *secrets, *keys]) if e]
    errors += [f"{key} is set as a value and as a secret: choose one" for key in sorted(set(pairs) & set(secrets))]
    errors += [f"{key} is both set and unset" for key in sorted((set(pairs) | set(secrets)) & set(keys))]
    known = set(current.get("env") or {}) | set(current.get("secret_env") or {})
    errors += [f"{key} is not set, so it cannot be unset" for key in keys if key not in known and not key_error(key)]
    return errors


def plan(current: dict, set_: object = None, unset: object = None, secret: object = None) -> dict:
    """What swarm_app is to be given for a change of production's configuration.

    ``current`` is production as swarm_app_info describes it ({"env", "secret_env"}). A key is a value
    or a secret, never both: setting it as one removes the other. Returns ``errors`` (empty when the
    change can be made), ``env`` (the whole environment after it), ``secret_env`` (only the secrets
    that change, a removed one as None, for swarm_app's secret_env_merge; None when none does) and
    ``summary`` (the keys, for the release's reason; never a value).
    """
    errors = change_errors(set_, unset, secret, current)
    if errors:
        return {"errors": errors, "env": None, "secret_env": None, "summary": ""}
    pairs, secrets, keys = parse_pairs(set_), parse_pairs(secret, secret=True), parse_keys(unset)
    env = {k: v for k, v in (current.get("env") or {}).items() if k not in keys and k not in secrets}
    env.update(pairs)
    had = set(current.get("secret_env") or {})
    changes = {**dict.fromkeys(sorted(had & (set(keys) | set(pairs)))), **secrets}
    parts = [
        f"set {', '.join(sorted(pairs))}" if pairs else "",
        f"secret {', '.join(sorted(secrets))}" if secrets else "",
    ]
    parts.append(f"unset {', '.join(keys)}" if keys else "")
    return {
        "errors": [],
        "env": env,
        "secret_env": changes or None,
        "summary": "config " + "; ".join(p for p in parts if p),
    }

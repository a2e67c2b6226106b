# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that give roles and playbooks the cluster's names from the one naming convention.

Every name comes from module_utils/_naming.py, which the modules use too; nothing is spelled
twice. Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.sentinel.paas.plugins.module_utils import _naming


def _service_name(app, role):
    """The Swarm service of an app's role: ``'todo' | sentinel.paas.service_name('prod')`` is ``todo-prod``."""
    error = _naming.app_name_error(app)
    if error:
        raise AnsibleFilterError(f"service_name: {error}")
    try:
        return _naming.service_name(app, role)
    except ValueError as exc:
        raise AnsibleFilterError(f"service_name: {exc}: use one of {', '.join(_naming.ROLES)}") from None


def _db_volume(app):
    """The volume of an app's database: ``'todo' | sentinel.paas.db_volume`` is ``sentinel-todo-db``."""
    error = _naming.app_name_error(app)
    if error:
        raise AnsibleFilterError(f"db_volume: {error}")
    return _naming.db_volume(app)


def _platform_name(component, suffix=""):
    """``'prometheus' | sentinel.paas.platform_name`` is ``sentinel-prometheus``; with ``('data')``, its volume."""
    try:
        return _naming.platform_name(component, suffix or "")
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"platform_name: {exc}") from None


def _traefik_service_regex(roles):
    """``['prod', 'canary'] | sentinel.paas.traefik_service_regex`` is ``(.+)-(prod|canary)@swarm``."""
    if isinstance(roles, str):
        roles = [roles]
    try:
        return _naming.traefik_service_regex(list(roles))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"traefik_service_regex: {exc}") from None


def _constants() -> dict[str, object]:
    return {
        name: value
        for name, value in vars(_naming).items()
        if name.isupper() and not name.startswith("_") and not callable(value) and not isinstance(value, type(re))
    }


def _plain(value):
    """A constant as Jinja and YAML know it: lists for tuples and sets, a fresh dict, a pattern's text."""
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _naming_constant(name):
    """``'EDGE_NETWORK' | sentinel.paas.naming`` is ``sentinel-edge``: any constant of _naming.py by its name."""
    constants = _constants()
    if name not in constants:
        raise AnsibleFilterError(f"naming: unknown constant {name!r}: use one of {', '.join(sorted(constants))}")
    return _plain(constants[name])


class FilterModule:
    def filters(self):
        return {
            "db_volume": _db_volume,
            "naming": _naming_constant,
            "platform_name": _platform_name,
            "service_name": _service_name,
            "traefik_service_regex": _traefik_service_regex,
        }

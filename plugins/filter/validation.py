# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that let playbooks validate ALL input before their first change.

They call the same validators the modules use, so the rules live once in module_utils.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils._naming import app_name_error
from ansible_collections.sentinel.paas.plugins.module_utils._rollout import rollout_errors
from ansible_collections.sentinel.paas.plugins.module_utils._split import parse_weight
from ansible_collections.sentinel.paas.plugins.module_utils._traefik import (
    domain_error,
    preview_header_error,
    taken_domain_errors,
)


def _app_name_error(name):
    return app_name_error(name) or ""


def _domain_errors(domains):
    """Messages for every bad domain in a list (or comma-separated string); [] when all are fine."""
    if isinstance(domains, str):
        domains = [d.strip() for d in domains.split(",")]
    if not isinstance(domains, list) or not domains:
        return ["give at least one domain"]
    return [error for error in (domain_error(d) for d in domains) if error]


def _taken_domain_errors(domains, app, owners):
    return taken_domain_errors(app, list(domains), dict(owners or {}))


def _weight_error(weight):
    try:
        parse_weight(weight)
    except ValueError as exc:
        return str(exc)
    return ""


def _preview_header_error(name):
    return preview_header_error(name) or ""


def _rollout_errors(options):
    return rollout_errors(dict(options or {}))


class FilterModule:
    def filters(self):
        return {
            "app_name_error": _app_name_error,
            "domain_errors": _domain_errors,
            "preview_header_error": _preview_header_error,
            "rollout_errors": _rollout_errors,
            "taken_domain_errors": _taken_domain_errors,
            "weight_error": _weight_error,
        }

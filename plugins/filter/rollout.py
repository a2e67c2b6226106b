# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of a progressive canary rollout (playbooks/canary_rollout.yml and canary_resume.yml):
its steps, options and lease time, and what its record has left to do. The rules live once, in
module_utils/_rollout.py; the rollout_errors filter checks the options first.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.sentinel.paas.plugins.module_utils import _rollout


def rollout_steps(steps):
    """The steps as integers; the default steps when none (or blank) are given."""
    return _rollout.given_steps(steps)


def rollout_seconds(options):
    return _rollout.rollout_seconds(dict(options or {}))


def rollout_options(options):
    return _rollout.resolved(dict(options or {}))


def rollout_left(record):
    return _rollout.left(dict(record))


def rollout_overdue(started, deadline):
    try:
        return _rollout.overdue(started, deadline)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {f.__name__: f for f in (rollout_left, rollout_options, rollout_overdue, rollout_seconds, rollout_steps)}

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter of an app's configuration change (playbooks/config_set.yml): the rules live once, in
module_utils/_config.py."""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils import _config


def config_change(production, set_=None, unset=None, secret=None):
    return _config.plan(dict(production or {}), set_, unset, secret)


class FilterModule:
    def filters(self):
        return {"config_change": config_change}

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An extra var that is blank (an AWX survey's "" or null, ``-e x=``) is not given.

Playbooks pass every optional var to the modules as ``x | default(omit) | sentinel.paas.given_or(omit)``,
so blank and missing both mean "keep the current value"; ``given`` is the same test for ``when:``.
"""

from __future__ import annotations


def given(value):
    """False for None and for text that is empty or only spaces; True for anything else (0 and false too)."""
    if value is None:
        return False
    return not (isinstance(value, str) and not value.strip())


def given_or(value, fallback):
    """``value`` when it is given, else ``fallback`` (usually ``omit``)."""
    return value if given(value) else fallback


class FilterModule:
    def filters(self):
        return {"given": given, "given_or": given_or}

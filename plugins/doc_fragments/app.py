# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The app option every module shares (module_utils/_args.py declares it).
    DOCUMENTATION = r"""
options:
  name:
    description:
      - The app's name, a DNS label (C(^[a-z][a-z0-9-]{0,30}$), not ending with a hyphen, not reserved by the
        platform). Every Docker and Traefik name of the app derives from it (see C(docs/conventions.md)).
    type: str
    required: true
"""

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options several modules share, declared once; each has the doc fragment named in its docstring.

Private to this collection.
"""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils._naming import TRAEFIK_DYNAMIC_DIR


def app_name_argument(required=True):
    """The app's name, option ``name`` in every module, as kubernetes.core says ``name`` everywhere
    (doc fragment ``sentinel.paas.app``)."""
    return {"name": {"type": "str", "required": required}}


def traefik_directory_argument():
    """Traefik's watched file-provider directory on the host (doc fragment ``sentinel.paas.traefik_files``)."""
    return {"directory": {"type": "path", "default": TRAEFIK_DYNAMIC_DIR}}

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options several modules share, declared once; each has the doc fragment named in its docstring.

Private to this collection.
"""

from __future__ import annotations


def app_name_argument(required=True):
    """The app's name, option ``name`` in every module, as kubernetes.core says ``name`` everywhere
    (doc fragment ``sentinel.paas.app``)."""
    return {"name": {"type": "str", "required": required}}


def backup_directory_argument():
    """Where an app's database backups live (doc fragment ``sentinel.paas.db_backups``)."""
    return {"directory": {"type": "path", "default": "/var/lib/sentinel/backups"}}


def app_backup_arguments():
    """An app, its directory of backups and, optionally, one of its backups by id (db_restore, db_backup_fetch)."""
    return {**app_name_argument(), **backup_directory_argument(), "backup": {"type": "str"}}


def metrics_arguments():
    """How Prometheus is asked: the range of the numbers and each answer's timeout (doc fragment
    ``sentinel.paas.metrics``)."""
    return {"window": {"type": "str", "default": "5m"}, "query_timeout": {"type": "int", "default": 10}}

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go durations (``1h30m``, ``1.5s``, ``250ms``), as Docker reads them. Private to this collection."""

from __future__ import annotations

import re

# Go's time.ParseDuration without a sign (Docker's durations never count backwards).
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", re.ASCII)
_DURATION = re.compile(rf"(?:{_PART.pattern})+", re.ASCII)


def go_duration_seconds(text: str) -> float | None:
    """Seconds in the Go duration ``text``, or None when it is not one."""
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(text))

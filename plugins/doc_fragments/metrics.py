# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the modules that read Prometheus ask it (module_utils/_args.py declares these).
    DOCUMENTATION = r"""
options:
  window:
    description:
      - The range over which rates, ratios and latency are computed (the PromQL range of C(rate())).
      - A Prometheus duration with one unit, such as V(30s), V(5m) or V(1h).
    type: str
    default: 5m
  query_timeout:
    description: Seconds C(wget) waits for each answer of Prometheus.
    type: int
    default: 10
requirements:
  - C(wget) in the Prometheus image (busybox's, as in C(prom/prometheus), or GNU wget)
notes:
  - Prometheus publishes no port. The module asks it from the manager where Prometheus' task runs (the prometheus
    role pins it to the first host of its manager group) by running C(wget) inside that task's container through
    the engine API (C(docker exec)), every query in one exec. Nothing is opened to the network, and no container is
    started.
"""

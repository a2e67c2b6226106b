# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How a module reaches the Docker engine of a Swarm manager.
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The engine API of a Swarm manager, such as V(unix:///var/run/docker.sock) or V(tcp://10.0.0.5:2376).
      - If not set, the value of the E(DOCKER_HOST) environment variable is used, else the local socket.
    type: str
    default: unix:///var/run/docker.sock
  tls:
    description: Talk to the engine over TLS (with O(ca_path), O(client_cert), O(client_key)).
    type: bool
    default: false
  validate_certs:
    description: Verify the engine's certificate against O(ca_path).
    type: bool
    default: true
  ca_path:
    description: CA certificate that signed the engine's certificate.
    type: path
  client_cert:
    description: Client certificate for the engine.
    type: path
  client_key:
    description: Client key for the engine.
    type: path
  timeout:
    description: Seconds to wait for one engine API call.
    type: int
    default: 60
requirements:
  - Docker SDK for Python >= 5.0 on the host the module runs on
"""

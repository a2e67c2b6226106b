# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Modules that read or write Traefik's file-provider documents on the host they run on
    # (module_utils/_args.py declares the option).
    DOCUMENTATION = r"""
options:
  directory:
    description:
      - Traefik's watched file-provider directory on this host (C(--providers.file.directory)).
      - It must exist (the C(control_plane) role creates it and mounts it into Traefik); a module that writes
        fails rather than create it, since Traefik would not see a file in a directory it does not watch.
    type: path
    default: /etc/sentinel/traefik/dynamic
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
"""

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traefik_file
short_description: Keep a Traefik file-provider document in the Swarm, served by every manager's Traefik
description:
  - Keeps the Traefik dynamic configuration O(content) as the file C(NAME.yml) of Traefik's file provider, in a
    Docker config labelled with the file name and a version (C(sentinel-traefik-NAME-N)), which the platform service
    C(sentinel-traefik-sync) (the C(control_plane) role) writes into Traefik's watched directory on every manager
    within about a second, also on a manager that was down or joins later. Run it once, on any manager.
  - For what Traefik takes from files only, such as TLS options (C(tls.options)), or middlewares and services every
    app may name with C(@file). The C(control_plane) role keeps the TLS options in C(sentinel-traefik-tls).
  - A new content is a new version, after which the older ones go; comments, key order and the document's
    header do not count as changes.
version_added: 0.1.0
author: Sentinel developers (@sentinel)
options:
  name:
    description:
      - The document's name, its file C(NAME.yml) in Traefik's directory; lowercase letters, digits and hyphens, at
        most 40.
      - Names ending in C(-split) are the canary splits of M(sentinel.paas.canary_weights), and those ending in
        C(-maintenance) the maintenance pages of M(sentinel.paas.traefik_route); both are refused here.
    type: str
    required: true
  state:
    description: V(present) keeps O(content); V(absent) removes every version (Traefik then drops what it defined).
    type: str
    choices: [present, absent]
    default: present
  content:
    description: The dynamic configuration, as Traefik's file provider reads it (keys C(http), C(tcp), C(tls), ...).
    type: dict
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The diff shows the document's text before and after.
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
seealso:
  - module: sentinel.paas.canary_weights
  - module: sentinel.paas.traefik_wait
"""

EXAMPLES = r"""
- name: TLS 1.2 or newer, with forward-secret AEAD ciphers only, for every router without options of its own
  sentinel.paas.traefik_file:
    name: sentinel-traefik-tls
    content:
      tls:
        options:
          default:
            minVersion: VersionTLS12
            cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
  run_once: true

- name: A middleware every app may name as office-only@file
  sentinel.paas.traefik_file:
    name: office-only
    content:
      http:
        middlewares:
          office-only:
            ipAllowList:
              sourceRange: [192.0.2.0/24]
"""

RETURN = r"""
config:
  description: The Docker config that holds the document now; null when O(state=absent).
  returned: always
  type: str
  sample: sentinel-traefik-sentinel-traefik-tls-2
file:
  description: The document's file name in Traefik's watched directory on every manager.
  returned: always
  type: str
  sample: sentinel-traefik-tls.yml
changes:
  description: V(file) when the document was created or removed, V(content) when its content changed.
  returned: always
  type: list
  elements: str
diff:
  description: The document's text before and after (empty when there is none).
  returned: when diff mode is on
  type: dict
"""

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec

try:
    import yaml

    YAML_IMPORT_ERROR = None
except ImportError:
    YAML_IMPORT_ERROR = traceback.format_exc()

# At most 40 characters: the config sentinel-traefik-NAME-VERSION stays within Docker's 64.
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
HEADER = "# Managed by sentinel.paas.traefik_file: do not edit by hand.\n"


def name_error(name):
    if not NAME.fullmatch(name):
        return f"invalid name {name!r}: use at most 40 lowercase letters, digits and hyphens (the file is NAME.yml)"
    if name.endswith("-split"):
        return f"invalid name {name!r}: NAME-split documents are the canary splits of canary_weights"
    if name.endswith("-maintenance"):
        return f"invalid name {name!r}: NAME-maintenance documents are the maintenance pages of traefik_route"
    return None


def render(content):
    return HEADER + yaml.safe_dump(content, default_flow_style=False, sort_keys=False)


def parsed(text):
    """The document in ``text``, or None when it is not valid YAML (a broken one is replaced whole)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def run(module, swarm):
    p = module.params
    file = f"{p['name']}.yml"
    kept = files.kept(swarm, file)
    before = files.text_of(kept[0]) if kept else None
    present = p["state"] == "present"
    after = render(p["content"]) if present else None
    if before is None or after is None:
        changes = ["file"] if before != after else []
    else:
        changes = ["content"] if parsed(before) != p["content"] else []
    config = kept[0]["Spec"]["Name"] if kept and present else None
    if changes:
        config = files.config_name(file, files.next_version(kept)) if present else None
        if not module.check_mode:
            files.replace(swarm, file, after, kept)
    result = {"changed": bool(changes), "changes": changes, "config": config, "file": file}
    if module._diff:
        result["diff"] = {"before": before or "", "after": after or "", "before_header": file, "after_header": file}
    return result


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            name={"type": "str", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            content={"type": "dict"},
        ),
        required_if=[("state", "present", ["content"])],
        supports_check_mode=True,
    )
    name = module.params["name"]
    verb = "keeping" if module.params["state"] == "present" else "removing"
    error = name_error(name)
    if error:
        module.fail_json(msg=f"Error {verb} Traefik document {name}: {error}")
    if YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    try:
        result = run(module, Swarm(module))
    except APIError as exc:
        module.fail_json(msg=f"Error {verb} Traefik document {name}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

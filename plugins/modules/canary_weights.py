#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_weights
short_description: Split one app's traffic between production and canary in Traefik
description:
  - Writes (or removes) the Traefik file-provider document C(NAME-split.yml) that defines the
    weighted service C(NAME-split), whose children are C(NAME-prod@swarm) and
    C(NAME-canary@swarm), with a sticky cookie so a client keeps the version it landed on.
  - Manages the file on the host the module runs on. Run it on every host that runs Traefik
    (the C(managers) group); Traefik's watched file provider applies a change within about a
    second, without restarting Traefik or any task.
  - The file is replaced atomically (temporary file in the same directory, fsync, rename), so
    Traefik never reads a partial document. Comments and key order are ignored when comparing.
  - A router sends traffic through the split by naming the service C(NAME-split@file)
    (M(sentinel.paas.traefik_route) with O(sentinel.paas.traefik_route#module:service=split)).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
options:
  app:
    description:
      - Name of the app. Sets the file name C(NAME-split.yml), the Traefik service C(NAME-split)
        and its children C(NAME-prod@swarm) and C(NAME-canary@swarm).
    type: str
    required: true
  state:
    description:
      - V(present) writes the split, V(absent) removes the file (Traefik then drops C(NAME-split)).
    type: str
    choices: [present, absent]
    default: present
  weight:
    description:
      - The canary's share of new clients, a whole number from 0 to 100. Sets the Traefik
        C(weighted.services[].weight) of C(NAME-canary@swarm); C(NAME-prod@swarm) gets
        C(100 - weight).
      - Integer strings (V("10")) and floats without a fraction (V(10.0)) are accepted;
        booleans, fractions, other strings and values outside 0..100 are rejected before
        anything is written.
      - V(0) keeps the split but sends every client to production, including clients whose
        cookie names the canary (Traefik skips children of weight 0). This is the first step of a rollback.
      - Required when O(state=present).
    type: raw
  cookie_name:
    description:
      - Name of the sticky cookie. Sets Traefik C(weighted.sticky.cookie.name).
      - Must be an RFC 6265 token (letters, digits and C(!#$%&'*+-.^_`|~)).
      - Defaults to C(sentinel_NAME) with hyphens turned into underscores.
    type: str
  secure:
    description:
      - Send the sticky cookie over HTTPS only. Sets Traefik C(weighted.sticky.cookie.secure).
      - The cookie is always C(httpOnly) and C(sameSite=lax).
    type: bool
    default: false
  directory:
    description:
      - Traefik's watched file-provider directory on this host (C(--providers.file.directory)).
      - It must exist (the C(control_plane) role creates it and mounts it into Traefik); the
        module fails rather than create it, since Traefik would not see a file in a directory
        it does not watch.
    type: path
    default: /etc/sentinel/traefik/dynamic
extends_documentation_fragment:
  - sentinel.paas.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the file's text before and after.
  idempotent:
    support: full
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
notes:
  - Traefik keeps serving the last valid configuration if the file is removed by hand; remove
    the split with O(state=absent) after switching the router back to C(NAME-prod).
  - Traefik fails a weighted service whose child does not exist, so create C(NAME-canary)
    before routing through the split, and route back to C(NAME-prod) before removing the canary.
seealso:
  - module: sentinel.paas.canary_weights_info
  - module: sentinel.paas.traefik_route
"""

EXAMPLES = r"""
- name: Send 10% of new clients to the canary of todo
  sentinel.paas.canary_weights:
    app: todo
    weight: 10

- name: First step of a rollback, everybody back on production
  sentinel.paas.canary_weights:
    app: todo
    weight: 0

- name: Remove the split once the router points at todo-prod again
  sentinel.paas.canary_weights:
    app: todo
    state: absent
"""

RETURN = r"""
path:
  description: The split document on this host.
  returned: always
  type: str
  sample: /etc/sentinel/traefik/dynamic/todo-split.yml
weights:
  description: The split after the run; null when O(state=absent).
  returned: always
  type: dict
  sample: {prod: 90, canary: 10}
cookie_name:
  description: The sticky cookie's name; null when O(state=absent).
  returned: always
  type: str
  sample: sentinel_todo
changes:
  description:
    - What differed. V(file) when the file was created or removed, V(document) when it was not
      valid YAML, V(mode) for its permissions, else dotted paths in the document.
  returned: always
  type: list
  elements: str
  sample: ["http.services.todo-split.weighted.services.todo-canary@swarm.weight"]
diff:
  description: The file's text before and after (empty when the file is absent).
  returned: always
  type: dict
  sample:
    before: ""
    after: "# Managed by sentinel.paas.canary_weights: do not edit by hand.\n..."
    before_header: /etc/sentinel/traefik/dynamic/todo-split.yml
    after_header: /etc/sentinel/traefik/dynamic/todo-split.yml
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _files, _naming, _split

FILE_MODE = 0o644  # Traefik may run as another user; the document holds no secret


class SplitFile:
    """The split document of one app in this host's Traefik directory."""

    def __init__(self, module):
        """Validates every parameter (ValueError) before anything on the host is read."""
        self.module = module
        p = module.params
        self.app = p["app"]
        _raise_if(_naming.app_name_error(self.app))
        self.path = _split.split_path(p["directory"], self.app)
        self.present = p["state"] == "present"
        if self.present:
            weight = _split.parse_weight(p["weight"])
            self.cookie_name = p["cookie_name"] or _naming.sticky_cookie(self.app)
            _raise_if(_split.cookie_name_error(self.cookie_name))
            document = _split.desired_document(self.app, weight, self.cookie_name, p["secure"])
            self.weights = {"prod": 100 - weight, "canary": weight}
            self.desired = _split.normalise(document)
            self.desired_text = _split.render(self.app, document)
        else:
            self.cookie_name = self.weights = self.desired = None
            self.desired_text = ""

    def changes(self, current_text):
        if current_text is None:
            return ["file"] if self.present else []
        if not self.present:
            return ["file"]
        try:
            current = _split.normalise(_split.parse(current_text))
        except ValueError:
            return ["document"]
        found = _split.differences(current, self.desired)
        if _files.file_mode(self.path) != FILE_MODE:
            found.append("mode")
        return found

    def run(self):
        if self.present and not os.path.isdir(os.path.dirname(self.path)):
            raise ValueError(
                f"directory {os.path.dirname(self.path)} does not exist on this host "
                "(the control_plane role creates it and mounts it into Traefik)"
            )
        current_text = _files.read_text(self.path)
        changes = self.changes(current_text)
        if changes and not self.module.check_mode:
            if self.present:
                # Staged outside the watched directory (see atomic_write) so Traefik reloads at once.
                staging = os.path.dirname(os.path.dirname(self.path))
                _files.atomic_write(self.path, self.desired_text, FILE_MODE, staging_dir=staging)
            else:
                _files.remove(self.path)
        return {
            "changed": bool(changes),
            "changes": changes,
            "path": self.path,
            "weights": self.weights,
            "cookie_name": self.cookie_name,
            "diff": {
                "before": current_text or "",
                "after": self.desired_text,
                "before_header": self.path,
                "after_header": self.path,
            },
        }


def _raise_if(error):
    if error:
        raise ValueError(error)


def main():
    module = AnsibleModule(
        argument_spec={
            "app": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "weight": {"type": "raw"},
            "cookie_name": {"type": "str"},
            "secure": {"type": "bool", "default": False},
            "directory": {"type": "path", "default": _naming.TRAEFIK_DYNAMIC_DIR},
        },
        required_if=[("state", "present", ["weight"])],
        supports_check_mode=True,
    )
    app = module.params["app"]
    verb = "writing" if module.params["state"] == "present" else "removing"
    if _split.YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=_split.YAML_IMPORT_ERROR)
    try:
        result = SplitFile(module).run()
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"Error {verb} traffic split {app}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

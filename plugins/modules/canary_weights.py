#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_weights
short_description: Split one app's traffic between production and canary in Traefik
description:
  - Keeps (or removes) the Traefik file-provider document C(NAME-split.yml) that defines the weighted
    service C(NAME-split), whose children are C(NAME-prod@swarm) and C(NAME-canary-guard), with a sticky
    cookie so a client keeps the version it landed on.
  - C(NAME-canary-guard) is a failover service. It sends the canary's share to C(NAME-canary@file)
    and answers from C(NAME-prod@swarm) whenever the canary's answer is a 502, 503 or 504. Traefik
    answers so itself when the canary has no running task, a task died, or its node is gone, so a
    lost canary never fails a request.
  - C(NAME-canary@file) is a load balancer on the canary's Swarm DNS name (C(http://NAME-canary:PORT),
    every running task's address in endpoint mode dnsrr). The Swarm provider's C(NAME-canary@swarm)
    is not used, because Traefik drops it, and with it the whole split, when no task runs.
  - The document is kept in the Swarm, as a Docker config labelled with its file name and a version
    (C(sentinel-traefik-NAME-split-N)); run the module once, on any manager. The platform service
    C(sentinel-traefik-sync) (the C(control_plane) role) writes it into Traefik's watched directory on every
    manager, in one rename, within about a second; a manager that was down, or joins later, gets it when its
    task starts. Traefik applies it without restarting Traefik or any task.
    M(sentinel.paas.traefik_wait) tells when every manager's Traefik serves it.
  - A router sends traffic through the split by naming the service C(NAME-split@file)
    (M(sentinel.paas.traefik_route) with O(sentinel.paas.traefik_route#module:service=split)).
version_added: 0.1.0
author: Sentinel developers (@sentinel)
options:
  state:
    description:
      - V(present) keeps the split, V(absent) removes it (Traefik then drops C(NAME-split)).
    type: str
    choices: [present, absent]
    default: present
  weight:
    description:
      - The canary's share of new clients, a whole number from 0 to 100. Sets the Traefik
        C(weighted.services[].weight) of C(NAME-canary-guard); C(NAME-prod@swarm) gets
        C(100 - weight).
      - Integer strings (V("10")) and floats without a fraction (V(10.0)) are accepted;
        booleans, fractions, other strings and values outside 0..100 are rejected before
        anything is written.
      - V(0) keeps the split but sends every client to production, including clients whose
        cookie names the canary (Traefik skips children of weight 0). This is the first step of a rollback.
      - Omitted, the split keeps its weight; on creation V(10).
    type: raw
  cookie_name:
    description:
      - Name of the sticky cookie. Sets Traefik C(weighted.sticky.cookie.name).
      - Must be an RFC 6265 token (letters, digits and C(!#$%&'*+-.^_`|~)).
      - Omitted, the split keeps its cookie; on creation C(sentinel_NAME) with hyphens turned into underscores.
    type: str
  secure:
    description:
      - Send the sticky cookie over HTTPS only. Sets Traefik C(weighted.sticky.cookie.secure).
      - The cookie is always C(httpOnly) and C(sameSite=lax).
      - Omitted, the split keeps its setting; on creation V(false).
    type: bool
  port:
    description:
      - Container port of the canary, where C(NAME-canary@file) sends requests.
      - Omitted, the split keeps its port; on creation V(8000), an app's default port.
    type: int
  baseline_port:
    description:
      - Container port of a baseline, C(NAME-baseline) (production's image, started beside the canary), where
        C(NAME-baseline@file) sends requests. The baseline takes as much as the canary, through its own guard
        C(NAME-baseline-guard), and production the rest; production keeps the largest share, so O(weight) is at
        most 33.
      - V(0) takes the baseline out of the split. Omitted, the split keeps its baseline; on creation none.
    type: int
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The diff shows the document's text before and after.
requirements:
  - PyYAML on the host the module runs on (Debian package C(python3-yaml))
notes:
  - Remove the split with O(state=absent) after switching the router back to C(NAME-prod).
  - Create C(NAME-canary) before routing through the split, and route back to C(NAME-prod) before
    removing the canary; the guard covers whatever happens in between.
  - The guard replays a request on production when the canary's answer is a 502, 503 or 504,
    whoever sent it (Traefik, or the canary app itself), and only for request bodies up to 1 MiB,
    which Traefik keeps for the replay. Every other answer of the canary, errors included,
    reaches the client, and all of them count in C(NAME-canary@file)'s metrics.
seealso:
  - module: sentinel.paas.canary_weights_info
  - module: sentinel.paas.traefik_route
"""

EXAMPLES = r"""
- name: Send 10% of new clients to the canary of todo
  sentinel.paas.canary_weights:
    name: todo
    weight: 10

- name: First step of a rollback, everybody back on production
  sentinel.paas.canary_weights:
    name: todo
    weight: 0

- name: Remove the split once the router points at todo-prod again
  sentinel.paas.canary_weights:
    name: todo
    state: absent
"""

RETURN = r"""
config:
  description: The Docker config that holds the split now; null when O(state=absent).
  returned: always
  type: str
  sample: sentinel-traefik-todo-split-3
file:
  description: The document's file name in Traefik's watched directory on every manager.
  returned: always
  type: str
  sample: todo-split.yml
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
port:
  description: The canary's container port the split sends to; null when O(state=absent).
  returned: always
  type: int
  sample: 8000
baseline_port:
  description: The baseline's container port, V(0) without a baseline; null when O(state=absent).
  returned: always
  type: int
  sample: 0
changes:
  description:
    - What differed. V(file) when the split was created or removed, V(document) when the kept one was
      not valid YAML, else dotted paths in the document.
  returned: always
  type: list
  elements: str
  sample: ["http.services.todo-split.weighted.services.todo-canary-guard.weight"]
diff:
  description: The document's text before and after (empty when there is none).
  returned: when diff mode is on
  type: dict
  sample:
    before: ""
    after: "# Managed by sentinel.paas.canary_weights: do not edit by hand.\n..."
    before_header: todo-split.yml
    after_header: todo-split.yml
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sentinel.paas.plugins.module_utils import _naming, _split
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik_files as files
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


class Split:
    """The split document of one app, kept in the Swarm."""

    def __init__(self, module, swarm):
        """Validates every given parameter (ValueError) before anything is read."""
        self.module = module
        self.swarm = swarm
        p = module.params
        self.app = p["name"]
        _raise_if(_naming.app_name_error(self.app))
        self.file = _naming.split_file(self.app)
        self.present = p["state"] == "present"
        self.given = {
            "weight": None if p["weight"] is None else _split.parse_weight(p["weight"]),
            "cookie_name": p["cookie_name"],
            "secure": p["secure"],
            "port": p["port"],
            "baseline_port": p["baseline_port"],
        }
        if p["cookie_name"] is not None:
            _raise_if(_split.cookie_name_error(p["cookie_name"]))
        for option, lowest in (("port", 1), ("baseline_port", 0)):
            if p[option] is not None and not lowest <= p[option] <= 65535:
                raise ValueError(f"invalid {option} {p[option]}: use {lowest} to 65535")

    def desired(self, current_text):
        """The split asked for: given options, else the current document's, else the creation defaults."""
        try:
            current = _split.read_split(_split.parse(current_text), self.app) if current_text else {}
        except ValueError:
            current = {}  # a foreign or broken document is replaced whole
        settings = _split.effective_settings(self.app, self.given, current)
        return settings, _split.desired_document(self.app, **settings)

    def changes(self, current_text, desired):
        if current_text is None:
            return ["file"] if self.present else []
        if not self.present:
            return ["file"]
        try:
            current = _split.normalise(_split.parse(current_text))
        except ValueError:
            return ["document"]
        return _split.differences(current, _split.normalise(desired))

    def run(self):
        kept = files.kept(self.swarm, self.file)
        current_text = files.text_of(kept[0]) if kept else None
        settings, document = self.desired(current_text) if self.present else (None, None)
        desired_text = _split.render(self.app, document) if self.present else ""
        changes = self.changes(current_text, document)
        config = kept[0]["Spec"]["Name"] if kept else None
        if changes:
            config = files.config_name(self.file, files.next_version(kept))
            if not self.module.check_mode:
                files.replace(self.swarm, self.file, desired_text if self.present else None, kept)
        result = {
            "changed": bool(changes),
            "changes": changes,
            "config": config if self.present else None,
            "file": self.file,
            "weights": _split.weights(settings["canary_weight"], settings["baseline_port"]) if settings else None,
            "cookie_name": settings["cookie_name"] if settings else None,
            "port": settings["port"] if settings else None,
            "baseline_port": settings["baseline_port"] if settings else None,
        }
        if self.module._diff:
            result["diff"] = {
                "before": current_text or "",
                "after": desired_text,
                "before_header": self.file,
                "after_header": self.file,
            }
        return result


def _raise_if(error):
    if error:
        raise ValueError(error)


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            weight={"type": "raw"},
            cookie_name={"type": "str"},
            secure={"type": "bool"},
            port={"type": "int"},
            baseline_port={"type": "int"},
        ),
        supports_check_mode=True,
    )
    app = module.params["name"]
    verb = "writing" if module.params["state"] == "present" else "removing"
    if _split.YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=_split.YAML_IMPORT_ERROR)
    try:
        result = Split(module, Swarm(module)).run()
    except (APIError, ValueError) as exc:
        module.fail_json(msg=f"Error {verb} traffic split {app}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

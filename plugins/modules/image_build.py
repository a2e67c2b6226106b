#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_build
short_description: Build an app's image from its source and push it to the cluster registry
description:
  - Packs the directory O(path) on the controller as C(docker build) would (C(.dockerignore) applied), builds it on
    the manager the task runs on, pushes it to the cluster registry (role C(sentinel.paas.registry)) as
    C(127.0.0.1:5000/NAME:TAG) and returns the image by digest, C(REPO:TAG@sha256:...), which every node pulls alike.
  - The tag is the source's digest (the context's files, O(dockerfile) and O(build_args)), after the git commit when
    O(commit) is given (C(git-COMMIT12-SOURCE12), else C(src-SOURCE12)). A source the registry holds already is
    not built again.
  - The manager's engine keeps its build cache between builds (steps whose inputs did not change are reused).
  - The build's output is shown as it happens, wherever Ansible shows its output (C(ansible-playbook), AWX, the
    C(sentinel) CLI). The action plugin follows O(progress) while the module builds.
  - A build that fails pushes nothing and fails with the failing step; its output is returned in RV(output).
version_added: 0.3.0
author: Sentinel developers (@sentinel)
options:
  path:
    description:
      - The directory to build, on the controller (where Ansible runs). The action plugin packs it and sends the
        archive to the manager, then sets this option to the archive's path there.
    type: path
    required: true
  dockerfile:
    description: The Dockerfile, relative to O(path).
    type: str
    default: Dockerfile
  build_args:
    description: Build arguments (C(ARG)), part of the tag's digest.
    type: dict
    default: {}
  commit:
    description: The git commit the source is checked out at, if any; it goes into the tag.
    type: str
  force:
    description: Build and push even when the registry holds this source's tag.
    type: bool
    default: false
  source_digest:
    description: Set by the action plugin, the digest of the packed source; do not set it.
    type: str
  progress:
    description:
      - Set by the action plugin, a file on the manager the build's output lines are appended to as they come, for
        the action plugin to show; do not set it.
    type: path
extends_documentation_fragment:
  - sentinel.paas.app
  - sentinel.paas.docker
  - sentinel.paas.attributes
attributes:
  action:
    description: An action plugin packs O(path) on the controller and sends it to the manager the module runs on.
    support: full
  check_mode:
    support: full
    details: In check mode nothing is built or pushed; the module asks the registry whether the tag exists.
  diff_mode:
    support: full
    details: "When the image is built (or would be), the diff shows it added, C({REPO:TAG: {dockerfile, commit}})."
  idempotent:
    support: full
    details: The same source is built once; later runs find its tag in the registry.
notes:
  - Needs the cluster registry's credential on the manager (C(/etc/sentinel/registry/credential), written by the
    C(sentinel.paas.registry) role).
seealso:
  - module: sentinel.paas.swarm_app
"""

EXAMPLES = r"""
- name: Build todo from its source
  sentinel.paas.image_build:
    name: todo
    path: examples/todo
  register: built

- name: Deploy what was built, by digest
  sentinel.paas.swarm_app:
    name: todo
    image: "{{ built.image }}"
"""

RETURN = r"""
image:
  description: The image by digest, C(127.0.0.1:5000/NAME:TAG@sha256:...); null in check mode when it would be built.
  returned: always
  type: str
  sample: 127.0.0.1:5000/todo:src-4f2a9c0d1e3b@sha256:5b0c...
tag:
  description: The tag the source has.
  returned: always
  type: str
  sample: src-4f2a9c0d1e3b
built:
  description: Whether this run built the image (false when the registry held it).
  returned: always
  type: bool
steps:
  description: How many Dockerfile steps the build ran (0 when nothing was built).
  returned: always
  type: int
output:
  description:
    - The build's output lines, as C(docker build) prints them without blank lines, and a last C(Pushing ...) line
      when the build passed (empty when nothing was built).
  returned: always
  type: list
  elements: str
"""

import hashlib
import json
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils._args import app_name_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    ImageNotFound,
    Swarm,
    docker_argument_spec,
)

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)", re.MULTILINE)


class BuildFailed(Exception):
    pass


def source_tag(params):
    """The tag of this source: its context, Dockerfile and build args, after the commit."""
    recipe = json.dumps([params["source_digest"], params["dockerfile"], sorted(params["build_args"].items())])
    return _naming.build_tag(hashlib.sha256(recipe.encode()).hexdigest(), params["commit"])


class Output:
    """The build's output lines, also appended to the file ``progress`` (if any) as they come, for the action to
    show while the build runs."""

    def __init__(self, progress):
        self.lines = []
        self._progress = progress

    def add(self, text):
        lines = [line for line in text.splitlines() if line.strip()]
        self.lines.extend(lines)
        if self._progress and lines:
            try:
                with open(self._progress, "a", encoding="utf-8") as progress:
                    progress.write("".join(f"{line}\n" for line in lines))
            except OSError:  # the lines only come at the end then, with the result
                self._progress = None


def build(swarm, params, image, output):
    """Run the build, adding its lines to ``output``; return its steps. Raises BuildFailed naming the failed step."""
    step, steps = None, 0
    build_args = {key: str(value) for key, value in params["build_args"].items()}
    for line in swarm.build_image(params["path"], image, params["dockerfile"], build_args):
        text = line.get("stream") or ""
        output.add(text)
        for started in _STEP.finditer(text):  # a chunk of the stream may hold several lines
            step, steps = f"step {started[1]}/{started[2]} ({started[3].strip()})", int(started[1])
        if line.get("error"):
            output.add(line["error"].strip())
            raise BuildFailed(f"the build failed at {step or 'its start'}: {line['error'].strip()}")
    return steps


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **app_name_argument(),
            path={"type": "path", "required": True},
            dockerfile={"type": "str", "default": "Dockerfile"},
            build_args={"type": "dict", "default": {}},
            commit={"type": "str"},
            force={"type": "bool", "default": False},
            source_digest={"type": "str"},
            progress={"type": "path"},
        ),
        supports_check_mode=True,
    )
    p = module.params
    app = p["name"]
    error = _naming.app_name_error(app) or (
        not p["source_digest"] and "source_digest is missing: run the module through its action (a task), not alone"
    )
    if error:
        module.fail_json(msg=f"Error building {app}: {error}")
    tag = source_tag(p)
    image = f"{_naming.registry_repository(app)}:{tag}"
    swarm = Swarm(module)
    result = {"tag": tag, "built": False, "steps": 0, "output": []}
    try:
        held = None if p["force"] else swarm.image_digest(image)
    except ImageNotFound:
        held = None
    except APIError as exc:
        module.fail_json(msg=f"Error building {app}: cannot ask the cluster registry: {exc}", image=None, **result)
    if module._diff and not held:
        result["diff"] = {"before": {}, "after": {image: {"dockerfile": p["dockerfile"], "commit": p["commit"]}}}
    if held or module.check_mode:
        module.exit_json(changed=not held, image=held, **result)
    output = Output(p["progress"])
    try:
        steps = build(swarm, p, image, output)
        output.add(f"Pushing {image}")
        digest = swarm.push_image(image)
    except (BuildFailed, APIError) as exc:
        module.fail_json(msg=f"Error building {app}: {exc}", image=None, **{**result, "output": output.lines})
    result.update(built=True, steps=steps, output=output.lines)
    module.exit_json(changed=True, image=f"{image}@{digest}", **result)


if __name__ == "__main__":
    main()

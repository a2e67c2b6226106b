#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_gc
short_description: Remove the images of the cluster registry that no release and no service uses
description:
  - Reads which images the apps use, by digest - every kept release record (M(sentinel.paas.release_info)) and every
    service of an app (production, canary, baseline) - and deletes from the cluster registry (role
    C(sentinel.paas.registry)) every image of an app's repository that none of them names, with all its tags.
  - Then runs the registry's garbage collection in its task (C(registry garbage-collect)), which frees the layers no
    image uses any more. An image that lost its last tag (a tag moved) but that something names by digest stays.
  - Runs on the manager that runs the registry (the first of the C(managers) group).
version_added: 0.3.0
author: Sentinel developers (@sentinel)
options: {}
extends_documentation_fragment:
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  check_mode:
    details: In check mode nothing is deleted; RV(removed) lists what would be.
  diff_mode:
    details: "The diff shows the images removed, as C({APP@DIGEST: [TAGS]})."
notes:
  - A build that pushes while the collection runs may lose its image (Distribution's garbage collection is not safe
    beside a push); C(playbooks/registry_gc.yml) holds the cluster's lease, run it when no deploy from source runs.
seealso:
  - module: sentinel.paas.image_build
"""

EXAMPLES = r"""
- name: Remove the images no release uses
  sentinel.paas.registry_gc:
  register: collected
"""

RETURN = r"""
removed:
  description: The images removed (in check mode, that would be), each with its app, digest and tags.
  returned: always
  type: list
  elements: dict
  sample: [{app: todo, digest: "sha256:5b0c...", tags: [src-4f2a9c0d1e3b]}]
kept:
  description: How many images of the apps' repositories stay, because a release or a service names them.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _naming
from ansible_collections.sentinel.paas.plugins.module_utils import _release_record as records
from ansible_collections.sentinel.paas.plugins.module_utils._registry import Registry, RegistryError, digest_of
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import (
    APIError,
    NoLocalTask,
    Swarm,
    docker_argument_spec,
)

# Not --delete-untagged: a release or a service may name an image by its digest alone (a tag moved since).
GARBAGE_COLLECT = ["registry", "garbage-collect", _naming.REGISTRY_CONFIG_FILE]


def used_digests(swarm):
    """Every digest a kept release or an app's service names."""
    images = [s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] for s in swarm.services({_naming.LABEL_APP: None})]
    images += [records.record_of(c).get("image") for c in swarm.configs({records.LABEL_APP: None})]
    return {digest for digest in map(digest_of, images) if digest}


def unused_images(registry, used):
    """[{app, digest, tags}] of the apps' images that nothing uses, and how many are used."""
    unused, kept = [], 0
    for app in registry.repositories():
        if _naming.app_name_error(app):
            continue  # not an app's repository: not ours to remove
        by_digest = {}
        for tag in registry.tags(app):
            by_digest.setdefault(registry.manifest_digest(app, tag), []).append(tag)
        for digest, tags in sorted(by_digest.items()):
            if digest in used:
                kept += 1
            else:
                unused.append({"app": app, "digest": digest, "tags": sorted(tags)})
    return unused, kept


def main():
    module = AnsibleModule(argument_spec=docker_argument_spec(), supports_check_mode=True)
    swarm = Swarm(module)
    try:
        registry = Registry()
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"Error collecting the cluster registry's garbage: no credential here ({exc})")
    try:
        unused, kept = unused_images(registry, used_digests(swarm))
        result = {"changed": bool(unused), "removed": unused, "kept": kept}
        if module._diff:
            result["diff"] = {"before": {f"{i['app']}@{i['digest']}": i["tags"] for i in unused}, "after": {}}
        if not unused or module.check_mode:
            module.exit_json(**result)
        for image in unused:
            registry.delete_manifest(image["app"], image["digest"])
        code, out, err = swarm.exec_in_local_task(_naming.platform_name("registry"), GARBAGE_COLLECT)
    except (RegistryError, APIError, NoLocalTask, ValueError) as exc:
        module.fail_json(msg=f"Error collecting the cluster registry's garbage: {exc}")
    if code != 0:
        module.fail_json(msg=f"the registry's garbage collection failed (exit {code}): {(err or out).strip()[-2000:]}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_backup_target
short_description: Copy every database backup off its node, to S3-compatible object storage
description:
  - Sets (or removes) the cluster's backup target, a bucket of Amazon S3 or of any S3-compatible store (MinIO, Ceph,
    Garage, Wasabi, ...). Every backup of every app's database, made by hand or on a schedule, is copied there from
    its node within seconds, as C(BUCKET/PREFIX/APP/ID.dump) with its record C(ID.json), so a lost node loses none.
  - Runs the platform service C(sentinel-backup-ship) on every node (global mode), rclone watching the node's
    directory of backups. Its credentials are a Docker secret (an rclone config file), never in a label, the
    environment, the diff or the result.
  - Nothing is ever deleted from the bucket by Sentinel; set the bucket's own lifecycle rule to expire old backups.
  - M(sentinel.paas.db_backup) copies the backup it makes at once and says where; M(sentinel.paas.db_backup_fetch)
    fetches one back to the database's node before a restore.
  - Runs on a manager. The directory of backups must exist on every node before the service starts (a bind mount);
    C(playbooks/db_target.yml) makes it.
version_added: 0.3.0
author: Sentinel developers (@sentinel)
options:
  bucket:
    description: The bucket; it must exist. Required with O(state=present).
    type: str
  endpoint:
    description: The store's URL, V(https://HOST[:PORT]); leave it out for Amazon S3 itself.
    type: str
  region:
    description: The bucket's region (most other stores accept any).
    type: str
    default: us-east-1
  prefix:
    description: A folder in the bucket for this cluster's backups (each app in its own below it).
    type: str
    default: sentinel
  access_key_id:
    description: The access key. Required with O(state=present).
    type: str
  secret_access_key:
    description: The secret key. Required with O(state=present).
    type: str
  image:
    description: The rclone image of the ship service.
    type: str
    default: rclone/rclone:1.68
  state:
    description: V(present) sets the target (or changes it); V(absent) stops copying, keeping what the bucket has.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - sentinel.paas.db_backups
  - sentinel.paas.docker
  - sentinel.paas.attributes
  - sentinel.paas.attributes.reconcile
attributes:
  diff_mode:
    details: The target before and after (never its credentials; a change of them shows as C(credentials)).
seealso:
  - module: sentinel.paas.db_backup
  - module: sentinel.paas.db_backup_fetch
"""

EXAMPLES = r"""
- name: Copy every backup to a MinIO bucket
  sentinel.paas.db_backup_target:
    endpoint: https://minio.example.com:9000
    bucket: sentinel-backups
    access_key_id: "{{ vault_backup_access_key_id }}"
    secret_access_key: "{{ vault_backup_secret_access_key }}"

- name: Stop copying backups off their nodes
  sentinel.paas.db_backup_target:
    state: absent
"""

RETURN = r"""
target:
  description: The target now (endpoint, bucket, region, prefix, image, directory), null when absent.
  returned: always
  type: dict
  sample: {endpoint: "https://minio.example.com:9000", bucket: sentinel-backups, region: us-east-1, prefix: sentinel}
url:
  description: The target as C(s3://BUCKET/PREFIX), null when absent.
  returned: always
  type: str
changes:
  description: What changed, of V(service) and V(credentials).
  returned: always
  type: list
  elements: str
"""

import secrets as random_secrets

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sentinel.paas.plugins.module_utils import _backup_target, _naming
from ansible_collections.sentinel.paas.plugins.module_utils._app_spec import password_hash, password_matches
from ansible_collections.sentinel.paas.plugins.module_utils._args import backup_directory_argument
from ansible_collections.sentinel.paas.plugins.module_utils._swarm import APIError, Swarm, docker_argument_spec


def plan(params: dict, service: dict | None, secrets: list) -> list[str]:
    """What must change for the target to be as asked: of ``service`` and ``credentials``."""
    if params["state"] == "absent":
        return ["service"] if service or secrets else []
    current = _backup_target.secret_in_use(service, secrets)
    stored = ((current or {}).get("Spec", {}).get("Labels") or {}).get(_naming.LABEL_CONFIG_HASH)
    changes = []
    if _backup_target.view(service) != _backup_target.desired_view(params):
        changes.append("service")
    if not password_matches(_backup_target.config_text(params), stored):
        changes.append("credentials")
    return changes


def apply(swarm, params: dict, service: dict | None, secrets: list, changes: list) -> None:
    if params["state"] == "absent":
        if service:
            swarm.remove_service(_backup_target.SHIP)
        for secret in secrets:
            swarm.remove_secret(secret["Spec"]["Name"])
        return
    secret = _backup_target.secret_in_use(service, secrets)
    if "credentials" in changes or secret is None:
        text = _backup_target.config_text(params)
        name = f"{_backup_target.SECRET_PREFIX}{random_secrets.token_hex(4)}"
        labels = {
            **_naming.PLATFORM_LABELS,
            _backup_target.LABEL_SECRET: "rclone",
            _naming.LABEL_CONFIG_HASH: password_hash(text, random_secrets.token_hex(8)),
        }
        swarm.create_secret(name, text.encode(), labels)
        secret = swarm.secret(name)
    spec = _backup_target.service_spec(_backup_target.desired_view(params), secret)
    if service is None:
        swarm.create_service(**spec)
    else:
        swarm.update_service(_backup_target.SHIP, lambda _current: spec)
    # The old secrets, once no task uses them (remove_secret waits while the engine says they are in use).
    for old in secrets:
        if old["ID"] != secret["ID"]:
            swarm.remove_secret(old["Spec"]["Name"])


def main():
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            **backup_directory_argument(),
            bucket={"type": "str"},
            endpoint={"type": "str"},
            region={"type": "str", "default": _backup_target.DEFAULT_REGION},
            prefix={"type": "str", "default": "sentinel"},
            access_key_id={"type": "str", "no_log": True},
            secret_access_key={"type": "str", "no_log": True},
            image={"type": "str", "default": "rclone/rclone:1.68"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        ),
        required_if=[("state", "present", ["bucket", "access_key_id", "secret_access_key"])],
        supports_check_mode=True,
    )
    p = module.params
    present = p["state"] == "present"
    errors = _backup_target.request_errors(p) if present else []
    if errors:
        module.fail_json(msg=f"Error setting the backup target: {'; '.join(errors)}")
    swarm = Swarm(module)
    try:
        service = swarm.service(_backup_target.SHIP)
        secrets = swarm.secrets({_backup_target.LABEL_SECRET: None})
        changes = plan(p, service, secrets)
        if changes and not module.check_mode:
            apply(swarm, p, service, secrets, changes)
    except APIError as exc:
        module.fail_json(msg=f"Error {'setting' if present else 'removing'} the backup target: Docker API: {exc}")
    before = _backup_target.shown(_backup_target.view(service))
    after = _backup_target.shown(_backup_target.desired_view(p)) if present else None
    result = {"changed": bool(changes), "changes": changes, "target": after, "url": _backup_target.url(after)}
    if module._diff:
        # Never the credentials themselves: whether new ones replace those set.
        credentials = "new" if "credentials" in changes else "set"
        result["diff"] = {
            "before": {"target": before, "credentials": "set" if before else None},
            "after": {"target": after, "credentials": credentials if after else None},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_build module's controller half: packs the source directory, which lives where Ansible runs, and
sends it to the manager that builds; the module gets the archive and its digest."""

from __future__ import annotations

import tempfile

from ansible.plugins.action import ActionBase
from ansible_collections.sentinel.paas.plugins.plugin_utils._build_context import ContextError, pack


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        root, dockerfile = args.get("path"), args.get("dockerfile") or "Dockerfile"
        if not root:
            return {**result, "failed": True, "msg": "image_build needs path, the directory to build"}
        try:
            with tempfile.NamedTemporaryFile(suffix=".tar.gz") as archive:
                try:
                    digest = pack(root, dockerfile, archive)
                except ContextError as exc:
                    return {**result, "failed": True, "msg": f"Error building {args.get('name')}: {exc}"}
                remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "context.tar.gz")
                self._transfer_file(archive.name, remote)
                self._fixup_perms2((self._connection._shell.tmpdir, remote))
                args.update(path=remote, source_digest=digest)
                result.update(self._execute_module("sentinel.paas.image_build", module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

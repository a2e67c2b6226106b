# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_build module's controller half: packs the source directory, which lives where Ansible runs, and
sends it to the manager that builds; then runs the module there in the background and shows the build's output
lines as they come, so a long build is never silent."""

from __future__ import annotations

import os
import shlex
import tempfile
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sentinel.paas.plugins.plugin_utils._build_context import ContextError, pack

display = Display()

BUILD_TIMEOUT = 3600  # seconds a build may run before Ansible's async wrapper stops it
POLL_INTERVAL = 1.0  # seconds between looks at the build's output


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        root, dockerfile = args.get("path"), args.get("dockerfile") or "Dockerfile"
        if not root:
            return {**result, "failed": True, "msg": "image_build needs path, the directory to build"}
        tmpdir = self._connection._shell.tmpdir
        try:
            with tempfile.NamedTemporaryFile(suffix=".tar.gz") as archive:
                try:
                    digest = pack(root, dockerfile, archive)
                except ContextError as exc:
                    return {**result, "failed": True, "msg": f"Error building {args.get('name')}: {exc}"}
                remote = self._connection._shell.join_path(tmpdir, "context.tar.gz")
                self._transfer_file(archive.name, remote)
            progress = self._connection._shell.join_path(tmpdir, "build.log")
            self._fixup_perms2((tmpdir, remote))
            args.update(path=remote, source_digest=digest, progress=progress)
            if self._play_context.check_mode:  # nothing is built: ask the registry and return
                result.update(self._execute_module("sentinel.paas.image_build", module_args=args, task_vars=task_vars))
            else:
                result.update(self._build_showing_progress(args, task_vars))
        finally:
            # The async wrapper removes the directory itself when the build ends (and sets tmpdir to None).
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _build_showing_progress(self, args, task_vars):
        """Run the module under Ansible's async wrapper and follow its progress file until it ends."""
        async_val, self._task.async_val = self._task.async_val, BUILD_TIMEOUT  # as gather_facts does for parallel
        try:
            job = self._execute_module(
                "sentinel.paas.image_build", module_args=args, task_vars=task_vars, wrap_async=True
            )
        finally:
            self._task.async_val = async_val
        if job.get("failed"):
            return job
        poll = {"jid": job["ansible_job_id"], "_async_dir": os.path.dirname(job["results_file"])}
        host, shown = task_vars.get("inventory_hostname"), 0
        while True:
            status = self._execute_module("ansible.legacy.async_status", module_args=poll, task_vars=task_vars)
            if status.get("finished") or status.get("failed"):
                break
            shown += self._show(host, self._new_lines(args["progress"], shown))
            time.sleep(POLL_INTERVAL)
        # The last lines may have come after the last look, and the wrapper removes the file: the result has them.
        self._show(host, status.get("output", [])[shown:])
        self._execute_module(
            "ansible.legacy.async_status", module_args={**poll, "mode": "cleanup"}, task_vars=task_vars
        )
        for key in ("ansible_job_id", "finished", "results_file", "started"):
            status.pop(key, None)
        return status

    def _new_lines(self, progress, shown):
        """The progress file's whole lines after the first ``shown`` (none while it does not exist yet)."""
        res = self._low_level_execute_command(f"tail -n +{shown + 1} {shlex.quote(progress)}", sudoable=True)
        if res["rc"] != 0:
            return []
        return res["stdout"].split("\n")[:-1]  # a last line still being written has no newline yet: next time

    @staticmethod
    def _show(host, lines):
        for line in lines:
            display.display(f"{host} | {line}")
        return len(lines)

# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_build module's controller half: packs the source directory, which lives where Ansible runs, and
sends it to the manager that builds; while the module builds there, shows the build's output lines as they come,
so a long build is never silent."""

from __future__ import annotations

import shlex
import tempfile
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sentinel.paas.plugins.plugin_utils._build_context import ContextError, pack

display = Display()

BUILD_TIMEOUT = 3600  # seconds a build may run before Ansible's async wrapper stops it
FIRST_LOOK = 0.25  # seconds before the first look at the build (a source built before ends at once); doubled
POLL_INTERVAL = 1.0  # up to this, the seconds between looks


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
            self._fixup_perms2((tmpdir, remote))
            args.update(path=remote, source_digest=digest, progress=self._connection._shell.join_path(tmpdir, "log"))
            if self._follows():
                built, shown = self._build_following(args, task_vars)
            else:
                built, shown = self._execute_module("sentinel.paas.image_build", args, task_vars=task_vars), 0
            # The lines not shown as they came (all of them when not followed) are in the result.
            self._show(task_vars, built.get("output", [])[shown:])
            result.update(built)
        finally:
            # The async wrapper removes the directory itself when the build ends; this is for every other end.
            self._remove_tmp_path(tmpdir)
        return result

    def _follows(self):
        """Whether to show the build's lines as they come. Not in check mode (nothing is built), nor when the task
        hides its output, nor on mitogen's connections: they run one call at a time per host (a look at the lines
        would wait for the build), and an async job started from an action plugin did not start there."""
        mitogen = any(cls.__module__.startswith("ansible_mitogen.") for cls in type(self._connection).__mro__)
        return not (self._play_context.check_mode or self._task.no_log or mitogen)

    def _build_following(self, args, task_vars):
        """Start the module under Ansible's async wrapper, then look at its progress file every second until it
        ends: all on this thread, since a connection plugin serves one command at a time. Returns the module's
        result and how many of its output lines were shown."""
        async_val, self._task.async_val = self._task.async_val, BUILD_TIMEOUT  # as gather_facts does for parallel
        try:
            job = self._execute_module("sentinel.paas.image_build", args, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = async_val
        if job.get("failed"):
            return job, 0
        # Where the job writes its result, as the async_status action finds it.
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        poll, shown, wait = {"jid": job["ansible_job_id"], "_async_dir": async_dir}, 0, FIRST_LOOK
        while True:
            time.sleep(wait)
            wait = min(wait * 2, POLL_INTERVAL)
            status = self._execute_module("ansible.legacy.async_status", module_args=poll, task_vars=task_vars)
            if status.get("finished") or status.get("failed"):
                break
            shown += self._show(task_vars, self._new_lines(args["progress"], shown))
        cleanup = {**poll, "mode": "cleanup"}
        self._execute_module("ansible.legacy.async_status", module_args=cleanup, task_vars=task_vars)
        for key in ("ansible_job_id", "finished", "results_file", "started"):
            status.pop(key, None)
        return status, shown

    def _new_lines(self, progress, shown):
        """The progress file's whole lines after the first ``shown``: none while it does not exist yet, or when a
        look fails (the build goes on; its result has every line)."""
        try:
            res = self._low_level_execute_command(f"tail -n +{shown + 1} {shlex.quote(progress)}", sudoable=True)
        except AnsibleError:
            return []
        if res["rc"] != 0:
            return []
        return res["stdout"].split("\n")[:-1]  # a last line still being written has no newline yet: next time

    def _show(self, task_vars, lines):
        if not self._task.no_log:
            for line in lines:
                display.display(f"{task_vars.get('inventory_hostname')} | {line}")
        return len(lines)

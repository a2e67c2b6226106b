# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_build module's controller half: packs the source directory, which lives where Ansible runs, and
sends it to the manager that builds; while the module builds there, shows the build's output lines as they come,
so a long build is never silent."""

from __future__ import annotations

import shlex
import tempfile
import threading

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sentinel.paas.plugins.plugin_utils._build_context import ContextError, pack

display = Display()

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
            self._fixup_perms2((tmpdir, remote))
            args.update(path=remote, source_digest=digest, progress=self._connection._shell.join_path(tmpdir, "log"))
            result.update(self._build_showing_progress(args, task_vars))
        finally:
            self._remove_tmp_path(tmpdir)
        return result

    def _build_showing_progress(self, args, task_vars):
        """Run the module in a thread; meanwhile show the new lines of its progress file, once a second."""
        ended, outcome = threading.Event(), {}

        def build():
            try:
                outcome["result"] = self._execute_module("sentinel.paas.image_build", args, task_vars=task_vars)
            except Exception as exc:  # noqa: BLE001 - handed on to the task's own thread below
                outcome["error"] = exc
            finally:
                ended.set()

        builder = threading.Thread(target=build, name="image_build")
        builder.start()
        host, shown = task_vars.get("inventory_hostname"), 0
        while not ended.wait(POLL_INTERVAL):
            shown += self._show(host, self._new_lines(args["progress"], shown))
        builder.join()
        if "error" in outcome:
            raise outcome["error"]
        # The last lines may have come after the last look: the result has them all.
        self._show(host, outcome["result"].get("output", [])[shown:])
        return outcome["result"]

    def _new_lines(self, progress, shown):
        """The progress file's whole lines after the first ``shown`` (none while it does not exist yet)."""
        # As the connecting user, who owns the directory and may read the file (0644): a become here would share the
        # become plugin's state with the module's own command, which the other thread may be starting.
        res = self._low_level_execute_command(f"tail -n +{shown + 1} {shlex.quote(progress)}", sudoable=False)
        if res["rc"] != 0:
            return []
        return res["stdout"].split("\n")[:-1]  # a last line still being written has no newline yet: next time

    @staticmethod
    def _show(host, lines):
        for line in lines:
            display.display(f"{host} | {line}")
        return len(lines)

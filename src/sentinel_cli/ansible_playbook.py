"""ansible-playbook's own entry point, with Python's cyclic garbage collector set for one short run.

A run keeps most of what it builds until it ends (plugins, inventory, plays), yet with Python's defaults the
collector walks that heap again and again, in the controller and in every worker it forks, where each walk also
copies the pages the fork shared. Frozen after the imports and collected far less often, a one-module read takes
about 0.15 s less here (scripts/benchmark.py measures the reads); cycles are still collected in long runs. At its
end, the process skips the interpreter's teardown, which frees that heap object by object for nothing: about 0.05 s.
Our modules' zips are kept from one run to the next (module_zips.py). The CLI runs it as
``python -P -m sentinel_cli.ansible_playbook ARGS``; everything else is ansible-playbook's.
"""

import atexit
import gc
import os
import sys
from pathlib import Path

gc.disable()  # the imports make nothing to collect
from ansible import constants as C  # noqa: E402
from ansible.cli.playbook import main  # noqa: E402

from sentinel_cli import module_zips, project  # noqa: E402

gc.freeze()  # what the imports made stays: never walked again
gc.set_threshold(50_000, 20, 20)  # Python's: 700, 10, 10
gc.enable()
# As if started as the ansible-playbook beside this Python: Ansible finds its other programs beside it (ssh's askpass).
sys.argv[0] = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def _exit_code(code: object) -> int:
    """The process's exit code for what the run raised SystemExit with, as sys.exit makes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


run_zips = Path(C.DEFAULT_LOCAL_TMP, "ansiballz_cache")  # Ansible's cache of zipped modules, for this run only
kept_zips = module_zips.restore(run_zips, project.HOME, os.environ.get(module_zips.BYTECODE_VARIABLE) == "1")
try:
    code = main()  # it raises SystemExit with the run's exit code
except SystemExit as exc:
    code = exc.code
if kept_zips:
    module_zips.keep(run_zips, kept_zips, project.HOME)
# What the teardown would still do that counts: the exit handlers (Ansible's removal of its temporary
# directory is one) and the flush of the output. atexit._run_exitfuncs is CPython's, there since 3.0.
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(_exit_code(code))

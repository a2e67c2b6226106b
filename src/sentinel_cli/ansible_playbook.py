"""ansible-playbook's own entry point, with Python's cyclic garbage collector set for one short run.

A run keeps most of what it builds until it ends (plugins, inventory, plays), yet with Python's defaults the
collector walks that heap again and again, in the controller and in every worker it forks, where each walk also
copies the pages the fork shared. Frozen after the imports and collected far less often, a one-module read takes
about 0.15 s less here (scripts/benchmark.py measures the reads); cycles are still collected in long runs. At its
end, the process skips the interpreter's teardown, which frees that heap object by object for nothing: about 0.05 s.
The CLI runs it as ``python -P -m sentinel_cli.ansible_playbook ARGS``; everything else is ansible-playbook's.
"""

import atexit
import gc
import os
import sys

gc.disable()  # the imports make nothing to collect
from ansible.cli.playbook import main  # noqa: E402

gc.freeze()  # what the imports made stays: never walked again
gc.set_threshold(50_000, 20, 20)  # Python's: 700, 10, 10
gc.enable()
# As if started as the ansible-playbook beside this Python: Ansible finds its other programs beside it (ssh's askpass).
sys.argv[0] = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
try:
    code = main()  # it raises SystemExit with the run's exit code
except SystemExit as exc:
    code = exc.code
if not isinstance(code, int):  # what sys.exit does with None and a message
    code = 0 if code is None else print(code, file=sys.stderr) or 1
# What the teardown would still do that counts: the exit handlers (Ansible's removal of its temporary
# directory is one) and the flush of the output.
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)

"""ansible-playbook's own entry point, with Python's cyclic garbage collector set for one short run.

A run keeps most of what it builds until it ends (plugins, inventory, plays), yet with Python's defaults the
collector walks that heap again and again, in the controller and in every worker it forks, where each walk also
copies the pages the fork shared. Frozen after the imports and collected ten times less often, a one-module read
takes about 0.1 s less here (scripts/benchmark.py measures the reads). The CLI runs it as
``python -P -m sentinel_cli.ansible_playbook ARGS``; everything else is ansible-playbook's.
"""

import gc
import os
import sys

gc.disable()  # the imports make nothing to collect
from ansible.cli.playbook import main  # noqa: E402

gc.freeze()  # what the imports made stays: never walked again
gc.set_threshold(7000, 10, 10)  # ten times Python's first threshold
gc.enable()
# As if started as the ansible-playbook beside this Python: Ansible finds its other programs beside it (ssh's askpass).
sys.argv[0] = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
sys.exit(main())

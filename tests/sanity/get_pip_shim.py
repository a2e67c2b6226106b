"""Stands in for pip's get-pip.py, which ansible-test downloads from a host unreachable here.

ansible-test runs this with get-pip's arguments (pip options and package pins); the stdlib's
ensurepip provides a pip, which then installs the pinned packages from PyPI.
"""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null for itself; the real install needs the
# machine's pip configuration (package index, certificates) back.
env = {key: value for key, value in os.environ.items() if key != "PIP_CONFIG_FILE"}
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args], env=env)

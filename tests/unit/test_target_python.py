"""The modules run on the managers' Python, which may be as old as 3.9 (Debian 11): every file that runs
there must at least compile with 3.9 (no match statements, no parenthesised context managers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ON_TARGETS = sorted(p for d in ("modules", "module_utils") for p in (ROOT / "plugins" / d).glob("*.py"))
# pyenv's own copy first: its shim answers "not installed" unless 3.9 is selected.
PYENV = sorted(Path("~/.pyenv/versions").expanduser().glob("3.9*/bin/python3.9"))
PYTHON39 = str(PYENV[0]) if PYENV else shutil.which("python3.9")


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 on this machine to compile with")
def test_every_module_compiles_with_python_3_9():
    code = "import sys\nfor path in sys.argv[1:]: compile(open(path).read(), path, 'exec')"
    run = subprocess.run([PYTHON39, "-c", code, *map(str, ON_TARGETS)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert len(ON_TARGETS) > 30

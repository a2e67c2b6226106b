#!/usr/bin/env bash
# ansible-test sanity needs the collection at a real path ending ansible_collections/sentinel/paas
# (it resolves symlinks), so copy this checkout's files (tracked and new, not ignored) there:
# what the collection ships plus its unit tests. The CLI, scripts, examples and the
# integration harness and the Molecule scenarios are not collection content (galaxy.yml
# build_ignore) and have ruff.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/sentinel/paas"
mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z \
  | grep -zvE '^(src|scripts|examples|tests/unit/cli|tests/integration|tests/harness|tests/images|tests/conftest\.py|extensions|\.ci)(/|$)' \
  | xargs -0 cp -P --parents -t "$dest")
cd "$dest"
# ansible-test fetches get-pip.py from a host this machine cannot reach; it uses a cached copy
# first, so give it the shim that bootstraps pip with ensurepip instead.
pip_version=$(python3 -c 'from ansible_test._internal.python_requirements import PIP_VERSION; print(PIP_VERSION)' 2>/dev/null || echo 24.2)
mkdir -p ~/.ansible/test/cache
cp "$root/tests/sanity/get_pip_shim.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --requirements --python "$python_version" "$@"

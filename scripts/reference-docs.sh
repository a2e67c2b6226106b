#!/usr/bin/env bash
# Renders the collection's reference (modules, filters, roles: antsibull-docs, the tool Ansible's own
# docs use) into docs/reference; with --check, fails when the checked-in copy is not what the
# current docs render (make lint), so the reference never drifts from the code.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/docs/reference"
render() {
  ANSIBLE_COLLECTIONS_PATH="$root/playbooks/collections" "$root/.venv/bin/antsibull-docs" collection \
    --use-current --squash-hierarchy --fail-on-error --output-format simplified-rst --dest-dir "$1" sentinel.paas
}
if [[ "${1:-}" == --check ]]; then
  fresh=$(mktemp -d)
  trap 'rm -rf "$fresh"' EXIT
  render "$fresh" >/dev/null
  # The first line names the antsibull-docs version: not a drift of the docs.
  diff -r -I "^.. Created with antsibull-docs" "$out" "$fresh" || { echo "docs/reference is stale: run make docs" >&2; exit 1; }
else
  rm -rf "$out" && mkdir -p "$out"
  render "$out"
fi

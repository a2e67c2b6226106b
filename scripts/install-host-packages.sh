#!/usr/bin/env bash
# Debian packages the demo and the tests need on the host: a Docker engine (docker.io),
# iptables for it, debootstrap to build the offline base image, shellcheck for ansible-test
# sanity, wget (metrics_info's unit tests run its real wget command). Installs only what is missing.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v wget >/dev/null 2>&1 || missing+=(wget)

if [ ${#missing[@]} -eq 0 ]; then
  echo "host packages: all present"
  exit 0
fi
echo "host packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null

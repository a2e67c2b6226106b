#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: start dockerd in the background (these
# machines have no systemd) and wait. scripts/install-host-packages.sh installs it first.
set -euo pipefail

docker_ok() { timeout 10 docker info >/dev/null 2>&1; }

if docker_ok; then
  echo "docker engine: already running ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

echo "docker engine: starting dockerd"
nohup dockerd >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker_ok; then
    echo "docker engine: ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "docker engine: dockerd did not answer within 60 s; last lines of /var/log/dockerd.log:" >&2
tail -n 20 /var/log/dockerd.log >&2
exit 1

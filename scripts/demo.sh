#!/usr/bin/env bash
# The demo behind `make demo`: this machine becomes a one-node Sentinel cluster, the todo app
# runs with its own PostgreSQL, v2 takes 10% of the traffic as a canary, and 100 real requests
# through Traefik show the split. Offline, so it uses the locally built images (tests/images).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
domain=todo.localhost

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "sentinel init (this machine as a one-node Swarm, Traefik on :80/:443, Prometheus)"
sentinel init -e control_plane_traefik_image=sentinel-test/traefik:latest -e control_plane_advertise_addr=127.0.0.1 \
  -e control_plane_traefik_sync_image=sentinel-test/base:latest \
  -e control_plane_docker_proxy_image=sentinel-test/docker-proxy:latest \
  -e control_plane_maintenance_image=sentinel-test/base:latest -e alertmanager_notifier_image=sentinel-test/base:latest \
  -e prometheus_swarm_exporter_image=sentinel-test/base:latest \
  -e prometheus_image=sentinel-test/prometheus:latest -e node_exporter_image=sentinel-test/node-exporter:latest \
  -e alertmanager_image=sentinel-test/alertmanager:latest \
  -e registry_image=sentinel-test/registry:latest -e registry_proxy_image=sentinel-test/docker-proxy:latest
docker node ls

step "sentinel deploy todo (v1, with PostgreSQL)"
sentinel deploy todo --image sentinel-test/todo:1 --domain "$domain" --no-tls \
  --postgres --postgres-image sentinel-test/postgres:latest --run-as 10001 --replicas 2

step "add a to-do through Traefik"
curl -fsS -H "Host: $domain" -H 'Content-Type: application/json' \
  -d '{"title": "try Sentinel canaries"}' http://127.0.0.1/api/todos
echo

step "sentinel canary deploy todo (v2 at 10%)"
sentinel canary deploy todo --image sentinel-test/todo:2 --weight 10

step "100 requests through Traefik, without cookies: who answered?"
for _ in $(seq 100); do
  curl -fsS -o /dev/null -D - -H "Host: $domain" http://127.0.0.1/ | tr -d '\r' | awk -F': ' 'tolower($1)=="x-app-version" {print "v" $2}'
done | sort | uniq -c | awk '{printf "  %s answered %d of 100\n", $2, $1}'

step "what Sentinel knows (after Prometheus' next scrape)"
sleep 20
sentinel canary status todo
echo
echo "Open http://$domain/ (or curl -H 'Host: $domain' http://127.0.0.1/). Then try:"
echo "  sentinel canary traffic todo --weight 50 | sentinel canary promote todo | sentinel canary rollback todo"

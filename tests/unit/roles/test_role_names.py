"""The names the roles give cluster objects: derived from _naming.py by the collection's filters,
and the same names as before they were derived (a renamed volume, config or router would be a new,
empty one on every running cluster).

Ansible templates the roles' variables here, so the filters resolve as in a real run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = ("control_plane", "node_exporter", "prometheus", "grafana")
PLATFORM = {"sentinel.role": "platform"}
INPUTS = {
    "grafana_domain": "grafana.example.com",
    "control_plane_traefik_dashboard_host": "traefik.example.com",
}
EXPECTED = {
    "_control_plane_edge_network": "sentinel-edge",
    "_control_plane_monitoring_network": "sentinel-monitoring",
    "_control_plane_traefik_service": "sentinel-traefik",
    "_control_plane_traefik_dir": "/etc/sentinel/traefik",
    "_control_plane_traefik_dynamic_dir": "/etc/sentinel/traefik/dynamic",
    "_control_plane_traefik_acme_volume": "sentinel-traefik-acme",
    "_control_plane_traefik_dashboard_secret": "sentinel-traefik-dashboard-users",
    "_control_plane_cert_resolver": "sentinel",
    "_control_plane_labels": PLATFORM,
    "_control_plane_traefik_dashboard_labels": {
        "traefik.enable": "true",
        "traefik.swarm.network": "sentinel-edge",
        "traefik.http.routers.sentinel-dashboard.rule": "Host(`traefik.example.com`)",
        "traefik.http.routers.sentinel-dashboard.entrypoints": "websecure",
        "traefik.http.routers.sentinel-dashboard.tls.certresolver": "sentinel",
        "traefik.http.routers.sentinel-dashboard.service": "api@internal",
        "traefik.http.routers.sentinel-dashboard.middlewares": "sentinel-dashboard-auth",
        "traefik.http.middlewares.sentinel-dashboard-auth.basicauth.usersfile": (
            "/run/secrets/sentinel-traefik-dashboard-users"
        ),
        "traefik.http.services.sentinel-dashboard.loadbalancer.server.port": "8080",
    },
    "_node_exporter_service": "sentinel-node-exporter",
    "_node_exporter_network": "sentinel-monitoring",
    "_node_exporter_labels": PLATFORM,
    "_prometheus_service": "sentinel-prometheus",
    "_prometheus_network": "sentinel-monitoring",
    "_prometheus_volume": "sentinel-prometheus-data",
    "_prometheus_config_name": "sentinel-prometheus-config",
    "_prometheus_rules_name": "sentinel-prometheus-rules",
    "_prometheus_node_exporter_service": "sentinel-node-exporter",
    "_prometheus_traefik_service": "sentinel-traefik",
    "_prometheus_labels": PLATFORM,
    "_prometheus_app_service_regex": "(.+)-(prod|canary)@(?:file|swarm)",
    "_grafana_service": "sentinel-grafana",
    "_grafana_network": "sentinel-edge",
    "_grafana_monitoring_network": "sentinel-monitoring",
    "_grafana_cert_resolver": "sentinel",
    "_grafana_admin_secret": "sentinel-grafana-admin-password",
    "_grafana_platform_labels": PLATFORM,
    "_grafana_provisioning": [
        {
            "name": "sentinel-grafana-datasources",
            "template": "datasources.yml.j2",
            "path": "/etc/grafana/provisioning/datasources/sentinel.yml",
        },
        {
            "name": "sentinel-grafana-dashboard-provider",
            "template": "dashboards.yml.j2",
            "path": "/etc/grafana/provisioning/dashboards/sentinel.yml",
        },
    ],
    "_grafana_dashboards": [
        {
            "name": "sentinel-grafana-dashboard-sentinel",
            "file": "dashboards/sentinel.json",
            "path": "/etc/grafana/dashboards/sentinel/sentinel.json",
        }
    ],
    "_grafana_labels": {
        "sentinel.role": "platform",
        "traefik.enable": "true",
        "traefik.swarm.network": "sentinel-edge",
        "traefik.http.routers.sentinel-grafana.rule": "Host(`grafana.example.com`)",
        "traefik.http.routers.sentinel-grafana.entrypoints": "websecure",
        "traefik.http.routers.sentinel-grafana.tls.certresolver": "sentinel",
        "traefik.http.routers.sentinel-grafana.service": "sentinel-grafana",
        "traefik.http.services.sentinel-grafana.loadbalancer.server.port": "3000",
    },
}


@pytest.fixture(scope="module")
def variables(tmp_path_factory, role_variables) -> dict:
    return role_variables(ROLE_NAMES, sorted(EXPECTED), tmp_path_factory.mktemp("role-names"), INPUTS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_role_names_are_the_cluster_names(variables, name):
    assert variables[name] == EXPECTED[name]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_vars_spell_no_cluster_name_themselves(role):
    """Every sentinel-* name in a role's vars comes through a filter; the one exception is Grafana's
    data source uid, an id inside Grafana that the generated dashboards refer to."""
    lines = (ROLES / role / "vars" / "main.yml").read_text().splitlines()
    spelled = [
        line
        for line in lines
        if not line.lstrip().startswith("#")
        and "sentinel-" in line.split("#")[0]
        and "sentinel.paas." not in line
        and not line.startswith("_grafana_datasource_uid:")
    ]
    assert not spelled, f"{role}: names spelled in vars/main.yml instead of taken from _naming.py: {spelled}"

"""The filters of plugins/filter/naming.py: _naming.py's names for roles and playbooks.

Called as Python functions here; tests/unit/roles/test_role_names.py templates them through
Ansible in the roles' variables.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sentinel.paas.plugins.filter import naming
from ansible_collections.sentinel.paas.plugins.module_utils import _naming

FILTERS = naming.FilterModule().filters()
FILTER_DIR = Path(naming.__file__).parent


def test_the_filters_are_registered():
    assert set(FILTERS) == {"db_volume", "naming", "platform_name", "service_name", "traefik_service_regex"}


def test_db_volume_is_the_modules_name():
    assert FILTERS["db_volume"]("todo") == _naming.db_volume("todo") == "sentinel-todo-db"
    with pytest.raises(AnsibleFilterError, match="db_volume: invalid app name"):
        FILTERS["db_volume"]("Bad_Name")


# -- service_name ---------------------------------------------------------------------
@pytest.mark.parametrize("role", _naming.ROLES)
@pytest.mark.parametrize("app", ["todo", "my-shop", "a"])
def test_service_name_is_the_modules_name(app, role):
    assert FILTERS["service_name"](app, role) == _naming.service_name(app, role) == f"{app}-{role}"


def test_service_name_example():
    assert FILTERS["service_name"]("todo", "prod") == "todo-prod"


@pytest.mark.parametrize("role", ["split", "Prod", "", None])
def test_service_name_refuses_an_unknown_role(role):
    with pytest.raises(AnsibleFilterError, match="unknown role.*use one of prod, canary, baseline, db"):
        FILTERS["service_name"]("todo", role)


@pytest.mark.parametrize("app", ["Todo", "todo-", "", None, 3, "edge"])
def test_service_name_refuses_an_invalid_app(app):
    with pytest.raises(AnsibleFilterError, match="invalid app name"):
        FILTERS["service_name"](app, "prod")


# -- platform_name --------------------------------------------------------------------
@pytest.mark.parametrize(("component", "service"), sorted(_naming.PLATFORM_SERVICES.items()))
def test_platform_name_without_suffix_is_the_service(component, service):
    assert FILTERS["platform_name"](component) == service
    assert FILTERS["platform_name"](component, "") == service
    assert FILTERS["platform_name"](component, None) == service


@pytest.mark.parametrize(
    ("component", "suffix", "name"),
    [
        # Objects of running clusters: these names must not change.
        ("traefik", "acme", "sentinel-traefik-acme"),
        ("traefik", "dashboard-users", "sentinel-traefik-dashboard-users"),
        ("prometheus", "data", "sentinel-prometheus-data"),
        ("prometheus", "config", "sentinel-prometheus-config"),
        ("prometheus", "rules", "sentinel-prometheus-rules"),
        ("grafana", "admin-password", "sentinel-grafana-admin-password"),
        ("grafana", "datasources", "sentinel-grafana-datasources"),
        ("grafana", "dashboard-provider", "sentinel-grafana-dashboard-provider"),
        ("grafana", "dashboard-sentinel", "sentinel-grafana-dashboard-sentinel"),
        ("node_exporter", "x1", "sentinel-node-exporter-x1"),
    ],
)
def test_platform_name_with_suffix(component, suffix, name):
    assert FILTERS["platform_name"](component, suffix) == name


@pytest.mark.parametrize("component", ["node-exporter", "sentinel-traefik", "Traefik", "", None])
def test_platform_name_refuses_an_unknown_component(component):
    with pytest.raises(AnsibleFilterError, match="unknown platform component.*grafana, maintenance, node_exporter"):
        FILTERS["platform_name"](component)


@pytest.mark.parametrize("suffix", ["Data", "-data", "data-", "a--b", "a b", "a_b", "a.b", "data\n", 3])
def test_platform_name_refuses_a_bad_suffix(suffix):
    with pytest.raises(AnsibleFilterError, match="platform_name"):
        FILTERS["platform_name"]("prometheus", suffix)


# -- naming ---------------------------------------------------------------------------
def test_naming_gives_the_constants():
    assert FILTERS["naming"]("EDGE_NETWORK") == _naming.EDGE_NETWORK == "sentinel-edge"
    assert FILTERS["naming"]("TRAEFIK_DYNAMIC_DIR") == "/etc/sentinel/traefik/dynamic"
    assert FILTERS["naming"]("TRAEFIK_CERT_RESOLVER") == "sentinel"
    assert FILTERS["naming"]("LABEL_ROLE") == "sentinel.role"
    assert FILTERS["naming"]("TRAEFIK_DASHBOARD_ROUTER") == "sentinel-dashboard"
    assert FILTERS["naming"]("TRAEFIK_DASHBOARD_AUTH_MIDDLEWARE") == "sentinel-dashboard-auth"


def test_naming_gives_plain_values():
    assert FILTERS["naming"]("ROLES") == ["prod", "canary", "baseline", "db"]
    assert FILTERS["naming"]("TRAEFIK_ENTRYPOINTS") == {"http": "web", "https": "websecure", "metrics": "metrics"}
    reserved = FILTERS["naming"]("RESERVED_APP_NAMES")
    assert isinstance(reserved, list) and reserved == sorted(_naming.RESERVED_APP_NAMES)
    assert FILTERS["naming"]("APP_NAME_PATTERN") == _naming.APP_NAME_PATTERN.pattern


def test_naming_gives_a_copy_of_a_dict():
    labels = FILTERS["naming"]("PLATFORM_LABELS")
    assert labels == {"sentinel.role": "platform"} == {_naming.LABEL_ROLE: _naming.PLATFORM_ROLE}
    labels["traefik.enable"] = "true"
    assert _naming.PLATFORM_LABELS == {"sentinel.role": "platform"}
    assert FILTERS["naming"]("PLATFORM_SERVICES") == _naming.PLATFORM_SERVICES
    assert FILTERS["naming"]("PLATFORM_SERVICES") is not _naming.PLATFORM_SERVICES


@pytest.mark.parametrize("name", ["edge_network", "NOPE", "service_name", "re", "annotations", "", None])
def test_naming_refuses_what_is_not_a_constant(name):
    with pytest.raises(AnsibleFilterError, match=r"unknown constant .*EDGE_NETWORK"):
        FILTERS["naming"](name)


# -- traefik_service_regex ------------------------------------------------------------
def test_traefik_service_regex_example():
    regex = FILTERS["traefik_service_regex"](["prod", "canary"])
    assert regex == _naming.traefik_service_regex() == "(.+)-(prod|canary)@(?:file|swarm)"
    assert FILTERS["traefik_service_regex"]("canary") == "(.+)-(canary)@(?:file)"


@pytest.mark.parametrize("role", ["prod", "canary"])
@pytest.mark.parametrize("app", ["todo", "my-shop", "shop-canary", "a"])
def test_traefik_service_regex_splits_the_services_traefik_names(app, role):
    """Group 1 is the app and group 2 the role (label_replace's $1 and $2); Prometheus anchors it."""
    regex = FILTERS["traefik_service_regex"](["prod", "canary"])
    match = re.fullmatch(regex, _naming.traefik_service(app, role))
    assert match and match.groups() == (app, role)


@pytest.mark.parametrize(
    "service",
    [
        "todo-db@swarm",
        "todo-split@file",
        "todo-prod@docker",
        "todo-canary-guard@file",
        "sentinel-grafana@swarm",
        "todo-prod",
        "-prod@swarm",
    ],
)
def test_traefik_service_regex_leaves_other_services_alone(service):
    assert re.fullmatch(FILTERS["traefik_service_regex"](["prod", "canary"]), service) is None


@pytest.mark.parametrize("roles", [[], ["split"], ["prod", "web"], None])
def test_traefik_service_regex_refuses_unknown_roles(roles):
    with pytest.raises(AnsibleFilterError, match="traefik_service_regex"):
        FILTERS["traefik_service_regex"](roles)

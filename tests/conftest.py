"""Shared fixtures: the real test Swarm, built once per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so tests can import tests.harness

from tests.harness import images  # noqa: E402
from tests.harness.cluster import Cluster, ClusterFactory  # noqa: E402

# The files that use the monitoring stack (tests/integration/conftest.py's `monitoring`, one per worker) go to
# one pytest worker, so the stack starts once in a run. Each file stays whole on its worker, as --dist loadfile
# keeps it. (xdist's loadgroup would do this with marks, but its groups are lost under pytest 9.)
MONITORED_FILES = frozenset(
    {"test_canary_analysis.py", "test_inspect_metrics.py", "test_monitoring.py", "test_notifications.py"}
)


# The files that take longest (minutes each, measured in CI) start first, so that no worker begins one
# while the others are finishing: the scheduler hands files out in collection order (the Makefile turns
# off xdist's own reordering, which goes by a file's number of tests).
LONGEST_FIRST = (
    "test_canary_analysis.py",  # with the other monitored files
    "test_db_backups.py",
    "test_canary_flow.py",
    "test_molecule_scenarios.py",
    "test_cluster_ops.py",
    "test_one_operation_at_a_time.py",
    "test_several_managers.py",
    "test_app_lifecycle.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in MONITORED_FILES:
            name = LONGEST_FIRST[0]
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: a file's tests keep their order


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415 - only where xdist runs the session

    class MonitoredFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "monitored files" if Path(path).name in MONITORED_FILES else path

    return MonitoredFilesTogether(config, log)


@pytest.fixture(scope="session")
def cluster_factory() -> ClusterFactory:
    factory = ClusterFactory(log=lambda msg: print(msg, file=sys.stderr))
    images.ensure_all(factory.host, log=factory.log)
    return factory


@pytest.fixture(scope="session")
def cluster(cluster_factory: ClusterFactory) -> Cluster:
    """A 3-node Swarm (1 manager, 2 workers) of Docker-in-Docker engines.

    Set SENTINEL_KEEP_CLUSTER=1 to keep it after the session for a look around.
    """
    created = cluster_factory.create(managers=1, workers=2)
    yield created
    if not os.environ.get("SENTINEL_KEEP_CLUSTER"):
        cluster_factory.destroy(created)


def platform_vars(cluster: Cluster) -> dict:
    """Inventory variables of a test cluster: the registry's images, a fast Swarm provider."""
    return {
        "control_plane_traefik_image": cluster.image("sentinel-test/traefik:latest"),
        "control_plane_traefik_sync_image": cluster.image("sentinel-test/base:latest"),
        "control_plane_maintenance_image": cluster.image("sentinel-test/base:latest"),
        "control_plane_docker_proxy_image": cluster.image("sentinel-test/docker-proxy:latest"),
        "sentinel_backup_target_image": cluster.image("sentinel-test/rclone:latest"),
        # A roll counts as done 2 s after its last task runs, not the 10 s a production cluster waits.
        "sentinel_rolling_update": {"monitor": "2s"},
        "control_plane_traefik_acme_email": "ops@sentinel.test",
        # The monitoring tests bring up their own stack (and say so: tests/integration/conftest.py); the rest
        # need only Traefik, and tell no notifier.
        "sentinel_monitoring_enabled": False,
        # Only the build tests run the cluster registry (test_build_from_source.py).
        "sentinel_registry_enabled": False,
    }


@pytest.fixture(scope="session")
def ansible(cluster: Cluster):
    """The real ansible / ansible-playbook commands bound to the test cluster's inventory."""
    from tests.harness.ansible import Ansible

    inventory = cluster.inventory()
    inventory["all"]["vars"].update(platform_vars(cluster))
    return Ansible(inventory)


@pytest.fixture(scope="session")
def platform(cluster: Cluster, ansible) -> Cluster:
    """The test cluster with Sentinel's control plane (init.yml): edge network and Traefik.

    Traefik publishes :80/:443 in host mode on the manager: http://<manager ip>/ with a Host header.
    """
    run = ansible.playbook("init.yml")
    assert run.ok, f"init.yml failed: {run.failures or run.stderr[-3000:]}"
    return cluster


@pytest.fixture(scope="session")
def sentinel(ansible):
    """The real sentinel CLI with the test cluster's inventory (--output json by default)."""
    from tests.harness.cli import Sentinel

    return Sentinel(ansible.inventory_path, ansible.env())

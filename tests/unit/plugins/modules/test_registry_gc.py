"""registry_gc's choice of what goes: every image of an app's repository no release or service names."""

from __future__ import annotations

import base64
import json

from ansible_collections.sentinel.paas.plugins.module_utils._registry import digest_of
from ansible_collections.sentinel.paas.plugins.modules.registry_gc import unused_images, used_digests


class FakeRegistry:
    """Distribution's answers: {repository: {tag: digest}}."""

    def __init__(self, repositories):
        self._repositories = repositories

    def repositories(self):
        return list(self._repositories)

    def tags(self, repository):
        return list(self._repositories[repository])

    def manifest_digest(self, repository, tag):
        return self._repositories[repository][tag]


def test_an_image_goes_with_all_its_tags_unless_something_names_its_digest():
    registry = FakeRegistry(
        {
            "todo": {"src-1": "sha256:a", "git-1-1": "sha256:a", "src-2": "sha256:b", "src-3": "sha256:c"},
            "shop": {"src-9": "sha256:d"},
        }
    )
    unused, kept = unused_images(registry, used={"sha256:b", "sha256:d"})
    assert unused == [
        {"app": "todo", "digest": "sha256:a", "tags": ["git-1-1", "src-1"]},
        {"app": "todo", "digest": "sha256:c", "tags": ["src-3"]},
    ]
    assert kept == 2


def test_a_repository_that_is_no_app_name_is_left_alone():
    registry = FakeRegistry({"library/base": {"latest": "sha256:e"}, "Tools": {"v1": "sha256:f"}})
    assert unused_images(registry, used=set()) == ([], 0)


def test_the_digest_of_an_image_is_after_its_at_sign():
    assert digest_of("127.0.0.1:5000/todo:src-1@sha256:abc") == "sha256:abc"
    assert digest_of("todo:1") is None
    assert digest_of(None) is None


class FakeSwarm:
    def __init__(self, services, configs):
        self._services, self._configs = services, configs

    def services(self, labels):
        assert labels == {"sentinel.app": None}
        return self._services

    def configs(self, labels):
        assert labels == {"sentinel.release.app": None}
        return self._configs


def test_what_is_used_is_every_apps_service_image_and_every_kept_releases_image():
    def service(image):
        return {"Spec": {"TaskTemplate": {"ContainerSpec": {"Image": image}}}}

    def release(image):
        return {"Spec": {"Data": base64.b64encode(json.dumps({"image": image}).encode()).decode()}}

    swarm = FakeSwarm(
        [service("127.0.0.1:5000/todo:src-1@sha256:a"), service("todo:1"), service("postgres:15@sha256:b")],
        [release("127.0.0.1:5000/todo:r1@sha256:c"), release("todo:0")],
    )
    assert used_digests(swarm) == {"sha256:a", "sha256:b", "sha256:c"}

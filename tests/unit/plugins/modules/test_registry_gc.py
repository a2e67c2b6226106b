"""registry_gc's choice of what goes: every image of an app's repository no release or service names."""

from __future__ import annotations

from ansible_collections.sentinel.paas.plugins.module_utils._registry import digest_of
from ansible_collections.sentinel.paas.plugins.modules.registry_gc import unused_images


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

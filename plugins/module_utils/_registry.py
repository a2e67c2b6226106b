# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster registry (roles/registry) as the modules see it: its credential and its HTTP API (Distribution's
/v2/), on this node's 127.0.0.1:5000.

Private to this collection.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.sentinel.paas.plugins.module_utils import _naming

# What a manifest may be; the registry answers a HEAD with the digest of the one it holds.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


CATALOG_PAGE = 1000  # Distribution's most repositories in one answer


class RegistryError(Exception):
    pass


def credential():
    """{username, password, seed} the registry role keeps on every manager; raises OSError or ValueError."""
    with open(_naming.REGISTRY_CREDENTIAL_FILE, encoding="utf-8") as stream:
        kept = json.load(stream)
    if not kept.get("username") or not kept.get("password"):
        raise ValueError(f"{_naming.REGISTRY_CREDENTIAL_FILE} holds no username and password")
    return kept


def app_of(image):
    """The app whose repository holds ``image`` when it is in the cluster registry (``127.0.0.1:5000/APP:TAG@...``),
    else None."""
    prefix = _naming.REGISTRY_ADDRESS + "/"
    if not isinstance(image, str) or not image.startswith(prefix):
        return None
    return image[len(prefix) :].split("@", 1)[0].split(":", 1)[0]


def digest_of(image):
    """The sha256 digest ``image`` is pinned to (``REPO[:TAG]@sha256:...``), or None."""
    return image.split("@", 1)[1] if isinstance(image, str) and "@" in image else None


class Registry:
    """Distribution's API, logged in."""

    def __init__(self, timeout=30):
        kept = credential()
        self._auth = {"url_username": kept["username"], "url_password": kept["password"], "force_basic_auth": True}
        self._timeout = timeout

    def _call(self, method, path, headers=None, data=None):
        # Imported here: it brings cryptography and email (40 ms), which every module importing this file would pay.
        from ansible.module_utils.urls import open_url

        url = f"http://{_naming.REGISTRY_ADDRESS}/v2/{path}"
        try:
            return open_url(url, data=data, method=method, headers=headers, timeout=self._timeout, **self._auth)
        except Exception as exc:  # open_url raises HTTPError, URLError, SSLValidationError, ConnectionError...
            raise RegistryError(f"{method} {url}: {exc}") from None

    def repositories(self):
        """Every repository, a page at a time (Distribution answers at most 1000 to one call)."""
        found = []
        while True:
            last = f"&last={quote(found[-1])}" if found else ""
            page = json.loads(self._call("GET", f"_catalog?n={CATALOG_PAGE}{last}").read()).get("repositories") or []
            found += page
            if len(page) < CATALOG_PAGE:
                return found

    def tags(self, repository):
        return json.loads(self._call("GET", f"{repository}/tags/list").read()).get("tags") or []

    def manifest_digest(self, repository, tag):
        return self._call("HEAD", f"{repository}/manifests/{tag}", {"Accept": MANIFEST_TYPES}).headers[
            "Docker-Content-Digest"
        ]

    def tag(self, repository, digest, tag):
        """Name the image ``digest`` also ``tag`` (the manifest put again under that name: no layer moves)."""
        manifest = self._call("GET", f"{repository}/manifests/{digest}", {"Accept": MANIFEST_TYPES})
        content_type = manifest.headers["Content-Type"]
        self._call("PUT", f"{repository}/manifests/{tag}", {"Content-Type": content_type}, manifest.read())

    def delete_manifest(self, repository, digest):
        """Delete a manifest and so every tag that names it; its layers go at the next garbage collection."""
        self._call("DELETE", f"{repository}/manifests/{digest}")

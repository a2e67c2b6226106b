# -*- coding: utf-8 -*-
# Copyright: Sentinel developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A build context as `docker build` sends it, packed on the controller (the image_build action).

Private to this collection.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile

try:
    from docker.utils.build import exclude_paths
except ImportError:  # reported by pack()
    exclude_paths = None


class ContextError(Exception):
    """The directory cannot be built: no such directory, no Dockerfile in it, a file that cannot be read."""


def _dockerignore(root):
    try:
        with open(os.path.join(root, ".dockerignore"), encoding="utf-8") as stream:
            return [line.strip() for line in stream if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        return []


def pack(root, dockerfile, fileobj):
    """Write ``root``'s build context (.dockerignore applied, the Dockerfile always in) into ``fileobj`` as a gzip
    tar and return its digest.

    The digest covers each entry's path, type, executable bit, link target and content, not times or owners (the
    archive records neither), so the same source packed again, from another clone, gives the same digest.
    """
    if exclude_paths is None:
        raise ContextError("the Python library docker is missing on the controller: pip install docker")
    if not os.path.isdir(root):
        raise ContextError(f"{root} is not a directory")
    if not os.path.isfile(os.path.join(root, dockerfile)):
        raise ContextError(f"{root} has no {dockerfile}")
    digest = hashlib.sha256()
    try:
        paths = sorted(exclude_paths(root, _dockerignore(root), dockerfile=dockerfile))
        with tarfile.open(mode="w:gz", fileobj=fileobj, format=tarfile.PAX_FORMAT) as archive:
            for path in paths:
                info = archive.gettarinfo(os.path.join(root, path), arcname=path)
                if info is None:  # a socket: docker build leaves it out too
                    continue
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                executable = bool(info.mode & stat.S_IXUSR)
                digest.update(f"{path}\0{info.type!r}\0{executable}\0{info.linkname}\0".encode())
                if info.isfile():
                    with open(os.path.join(root, path), "rb") as content:
                        digest.update(hashlib.file_digest(content, "sha256").digest())
                        content.seek(0)
                        archive.addfile(info, content)
                else:
                    archive.addfile(info)
    except OSError as exc:
        raise ContextError(f"cannot pack {root}: {exc}") from None
    fileobj.seek(0)
    return digest.hexdigest()

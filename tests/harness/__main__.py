"""Humans' entry to the test harness.

python -m tests.harness images                 # build what is missing or stale
python -m tests.harness up [--workers N] [--spare N]   # a kept cluster; prints its run id
python -m tests.harness inventory RUN_ID      # its Ansible inventory (YAML)
python -m tests.harness down RUN_ID
"""

from __future__ import annotations

import argparse
import sys
import time

import yaml

from . import images
from .cluster import ClusterFactory


def log(msg: str) -> None:
    print(msg, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("images", help="build the offline test images")
    up = sub.add_parser("up", help="create a kept test cluster")
    up.add_argument("--managers", type=int, default=1)
    up.add_argument("--workers", type=int, default=2)
    up.add_argument("--spare", type=int, default=0, help="nodes with an engine, outside the Swarm")
    for name in ("inventory", "down"):
        sub.add_parser(name).add_argument("run_id")
    args = parser.parse_args(argv)

    factory = ClusterFactory(log=log)
    started = time.monotonic()
    if args.command == "images":
        built = images.ensure_all(factory.host, log=log)
        log(f"images: {len(built)} built in {time.monotonic() - started:.0f} s")
    elif args.command == "up":
        images.ensure_all(factory.host, log=log)
        cluster = factory.create(args.managers, args.workers, args.spare, keep=True)
        log(f"cluster {cluster.run_id} up in {time.monotonic() - started:.0f} s")
        for node in cluster.nodes:
            log(f"  {node.name:6} {node.role:8} {node.ip}")
        print(cluster.run_id)
    elif args.command == "inventory":
        print(yaml.safe_dump(factory.load(args.run_id).inventory(), sort_keys=False))
    elif args.command == "down":
        factory.destroy(factory.load(args.run_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Commands that set up the cluster and run apps on it: init, deploy, scale, apps, destroy."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import replicas_text, table
from ..params import build_option, env_option, key_value_pairs, only_given, secret_env_option, smoke_test_options
from .completion import app_argument


@click.command()
@click.option(
    "--extra-vars",
    "-e",
    "extra",
    multiple=True,
    metavar="K=V",
    callback=key_value_pairs,
    help="Role variables for the control plane (e.g. control_plane_traefik_acme_email=me@example.com).",
)
@pass_context
def init(ctx: Context, extra: dict) -> None:
    """Turn the inventory's machines into a cluster: engine, Swarm, networks, Traefik.

    Without -i, this machine becomes a one-node cluster. Safe to run again.
    """
    result = ctx.run("init.yml", extra, "Initialising the cluster")
    ctx.out.emit(result, "Cluster ready. Deploy an app with: sentinel deploy NAME --image IMAGE --domain DOMAIN")


@click.command()
@app_argument
@click.option("--image", help="Docker image to run, e.g. ghcr.io/acme/todo:1.4. A new app needs it or --build.")
@build_option
@click.option("--domain", "domains", multiple=True, help="Public host name (repeat for several). Needed for a new app.")
@click.option(
    "--postgres/--no-postgres",
    default=None,
    help="Give the app its own PostgreSQL (password in a Docker secret). An app keeps its database.",
)
@click.option("--postgres-image", help="Database image; a new app gets postgres:15. Same major version only.")
@click.option(
    "--db-node",
    metavar="NODE",
    help="Node for a new database (hostname or ID); by default the node with the fewest pinned services,"
    " or where a destroy kept its data. sentinel db move moves an existing one.",
)
@click.option("--run-as", metavar="UID", help="User id the image runs as; the database password file is its alone.")
@env_option
@secret_env_option
@click.option("--replicas", type=click.IntRange(min=0), help="Tasks of production; a new app gets 1.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port the app listens on; a new app gets 8000.")
@click.option(
    "--health-path",
    metavar="PATH",
    help="A path answering 2xx while a task can serve (/healthz): Traefik checks every task and skips failing ones"
    " (none: off; a new app: off).",
)
@click.option("--tls/--no-tls", default=None, help="HTTPS with an ACME certificate (a new app: on) or plain HTTP.")
@click.option(
    "--hsts/--no-hsts",
    default=None,
    help="Tell browsers to use HTTPS only, for a year (Strict-Transport-Security; needs TLS; a new app: off).",
)
@smoke_test_options
@click.option("--reason", metavar="TEXT", help="Why, as the release record keeps it (sentinel releases NAME).")
@pass_context
def deploy(
    ctx: Context,
    name,
    image,
    build,
    domains,
    postgres,
    postgres_image,
    db_node,
    run_as,
    env,
    secret_env,
    replicas,
    port,
    health_path,
    tls,
    hsts,
    reason,
    **smoke,
) -> None:
    """Deploy NAME, or change it, and print its URL.

    Only what you give changes: `sentinel deploy todo --image todo:2` ships a new image and
    keeps the replicas, env, secrets, domains, port and database. A new app needs --image and --domain.

    With --build PATH (or --build GIT_URL#REF), the image is built from that source on a manager, pushed to
    the cluster registry and run by digest, so every node runs the same bytes; a source built before is
    not built again, and a build that fails changes nothing (its message names the failing step).

    With --smoke-test or --smoke-test-cmd, the new version must pass a one-off job first, run on
    the app's network with its URL in $SENTINEL_TARGET: on an existing app as an unrouted canary
    before production rolls (refused while the app has a canary); on a new app before it is
    routed (a new app that fails is removed).
    """
    if image and build:
        raise click.UsageError("give --image or --build, not both")
    given = {
        "image": image,
        "build": build,
        "domains": list(domains) or None,
        "postgres": postgres,
        "postgres_image": postgres_image,
        "db_node": db_node,
        "run_as": run_as,
        "env": env or None,
        "secret_env": secret_env or None,
        "replicas": replicas,
        "app_port": port,
        "health_path": health_path,
        "tls": tls,
        "hsts": hsts,
        "reason": reason,
        **smoke,
    }
    result = ctx.run("deploy.yml", {"app": name, **only_given(given)}, f"Deploying {name}")
    urls = " ".join(result.get("urls", []))
    ctx.out.emit(result, f"{name} is live at {urls}" + ("" if result.get("changed") else " (no change)"))


@click.command()
@app_argument
@click.argument("replicas", type=click.IntRange(min=0))
@click.option("--canary", is_flag=True, help="Scale the canary instead of production.")
@pass_context
def scale(ctx: Context, name, replicas, canary) -> None:
    """Run REPLICAS tasks of NAME's production (or --canary) service."""
    role = "canary" if canary else "prod"
    result = ctx.run("scale.yml", {"app": name, "replicas": replicas, "role": role}, f"Scaling {name}-{role}")
    ctx.out.emit(result, f"{name}-{role}: {result.get('running', '?')}/{replicas} tasks running")


@click.command(name="apps")
@pass_context
def list_apps(ctx: Context) -> None:
    """List the apps on the cluster."""
    result = ctx.run("apps.yml", {}, "Reading apps")
    rows = []
    for app in result.get("apps", []):
        services = app.get("services", {})
        prod, canary = services.get("prod", {}), services.get("canary")
        rows.append(
            {
                "name": app["name"],
                "image": prod.get("image", "-"),
                "replicas": replicas_text(prod),
                "canary": canary["image"] if canary else "-",
                "postgres": "yes" if "db" in services else "no",
            }
        )
    ctx.out.emit(result, table(rows, ["name", "image", "replicas", "canary", "postgres"]) if rows else "No apps yet.")


@click.command()
@app_argument
@click.option("--delete-data", is_flag=True, help="Also delete the database volume (cannot be undone).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def destroy(ctx: Context, name, delete_data, yes) -> None:
    """Remove NAME: services, route, canary, secrets, network (and data with --delete-data)."""
    what = "and its DATA " if delete_data else ""
    confirm_or_abort(ctx, yes, f"Destroy app {name} {what}on this cluster?")
    result = ctx.run("destroy.yml", {"app": name, "delete_data": delete_data}, f"Destroying {name}")
    kept = " (database volume kept; --delete-data removes it)" if result.get("data_kept") else ""
    if result.get("data_left_on"):
        kept = f" (the database volume stays on node {result['data_left_on']}, which is down or not in the inventory)"
    ctx.out.emit(result, f"{name} destroyed{kept}")


def register(cli: click.Group) -> None:
    for command in (init, deploy, scale, list_apps, destroy):
        cli.add_command(command)

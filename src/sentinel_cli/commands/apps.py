"""Commands that set up the cluster and run apps on it: init, deploy, scale, apps, destroy."""

from __future__ import annotations

import click

from ..context import Context, confirm_or_abort, pass_context
from ..output import replicas_text, table
from ..params import env_option, key_value_pairs


@click.command()
@click.option(
    "--extra-vars",
    "-e",
    "extra",
    multiple=True,
    metavar="K=V",
    callback=key_value_pairs,
    help="Role variables for the control plane (e.g. control_plane_acme_email=me@example.com).",
)
@pass_context
def init(ctx: Context, extra: dict) -> None:
    """Turn the inventory's machines into a cluster: engine, Swarm, networks, Traefik.

    Without -i, this machine becomes a one-node cluster. Safe to run again.
    """
    result = ctx.run("init.yml", extra, "Initialising the cluster")
    ctx.out.emit(result, "Cluster ready. Deploy an app with: sentinel deploy NAME --image IMAGE --domain DOMAIN")


@click.command()
@click.argument("name")
@click.option("--image", required=True, help="Docker image to run, e.g. ghcr.io/acme/todo:1.4.")
@click.option("--domain", "domains", multiple=True, required=True, help="Public host name (repeat for several).")
@click.option("--postgres", is_flag=True, help="Give the app its own PostgreSQL (password in a Docker secret).")
@click.option("--postgres-image", default="postgres:15", show_default=True)
@click.option(
    "--run-as",
    default="0",
    show_default=True,
    metavar="UID",
    help="User id the image runs as; the database password file is readable by it alone.",
)
@env_option
@click.option("--replicas", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port the app listens on.")
@click.option("--no-tls", is_flag=True, help="Serve plain HTTP only (no ACME certificate).")
@pass_context
def deploy(ctx: Context, name, image, domains, postgres, postgres_image, run_as, env, replicas, port, no_tls) -> None:
    """Deploy NAME (or update it) and print its URL."""
    result = ctx.run(
        "deploy.yml",
        {
            "app": name,
            "image": image,
            "domains": list(domains),
            "postgres": postgres,
            "postgres_image": postgres_image,
            "run_as": run_as,
            "env": env,
            "replicas": replicas,
            "app_port": port,
            "tls": not no_tls,
        },
        f"Deploying {name}",
    )
    urls = " ".join(result.get("urls", []))
    ctx.out.emit(result, f"{name} is live at {urls}" + ("" if result.get("changed") else " (no change)"))


@click.command()
@click.argument("name")
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
@click.argument("name")
@click.option("--delete-data", is_flag=True, help="Also delete the database volume (cannot be undone).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def destroy(ctx: Context, name, delete_data, yes) -> None:
    """Remove NAME: services, route, canary, secrets, network (and data with --delete-data)."""
    what = "and its DATA " if delete_data else ""
    confirm_or_abort(ctx, yes, f"Destroy app {name} {what}on this cluster?")
    result = ctx.run("destroy.yml", {"app": name, "delete_data": delete_data}, f"Destroying {name}")
    kept = "" if delete_data else " (database volume kept; --delete-data removes it)"
    ctx.out.emit(result, f"{name} destroyed{kept}")


def register(cli: click.Group) -> None:
    for command in (init, deploy, scale, list_apps, destroy):
        cli.add_command(command)

"""`flask --app consultation demo load`: load the demo consultations and accounts."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from consultation.demo.services import DEMO_PASSWORD, load_demo
from consultation.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option(
    "--scale",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Multiply the volume, for benchmarks.",
)
@click.option(
    "--password",
    default=DEMO_PASSWORD,
    show_default=True,
    help="Password of the demo accounts (set on first load only).",
)
def load(scale: int, password: str) -> None:
    """Load the demo; loading it again changes nothing."""
    started = time.perf_counter()
    summary = load_demo(scale=scale, password=password)
    db.session.commit()
    elapsed = time.perf_counter() - started
    if summary.created:
        made = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.created.items()))
        click.echo(f"Demo loaded in {elapsed:.1f} s: created {made}.")
    else:
        click.echo("Demo already loaded: nothing to add.")

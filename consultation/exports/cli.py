"""`flask --app consultation dispatch ...`: the sending of the final text to the candidates."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from consultation.core.models import utcnow
from consultation.exports import dispatch as services

dispatch_cli = AppGroup("dispatch", help="Sending the final text to the candidates.")


@dispatch_cli.command("retry-due")
def retry_due() -> None:
    """Queue again every pending dispatch whose next attempt is due (or that never started)."""
    due = services.due_dispatches(utcnow())
    links: dict[int, str] = {}
    for dispatch in due:
        consultation = dispatch.export.consultation
        if consultation.id not in links:
            links[consultation.id] = services.final_text_link(consultation)
    # Read everything first: with immediate jobs (development) each delivery commits.
    work = [(dispatch.id, links[dispatch.export.consultation_id]) for dispatch in due]
    for dispatch_id, link in work:
        services.deliver_dispatch(dispatch_id, link)
    click.echo(f"{len(work)} due dispatch(es) queued.")

"""`flask --app consultation proposals ...`: import proposals from a spreadsheet."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.proposals import importing

proposals_cli = AppGroup("proposals", help="Proposals.")

ERRORS_SHOWN = 20


@proposals_cli.command("import")
@click.argument("slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, save nothing.")
def import_proposals(slug: str, path: Path, dry_run: bool) -> None:
    """Import the proposals of a CSV file into a consultation, all or nothing, as the
    management page does; the rows with errors are listed and nothing is saved."""
    started = time.perf_counter()
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise click.ClickException(f"No consultation has the slug {slug!r}.")
    content = path.read_bytes()
    try:
        importing.check_open(consultation)
        checked = importing.check_rows(consultation, importing.read_table(content), utcnow())
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"{checked.total} rows: {checked.valid} valid, {checked.invalid} with errors.")
    if checked.invalid:
        for row in [row for row in checked.rows if row.errors][:ERRORS_SHOWN]:
            click.echo(f"line {row.line}: {' '.join(row.errors)}", err=True)
        if checked.invalid > ERRORS_SHOWN:
            click.echo(f"... and {checked.invalid - ERRORS_SHOWN} more rows with errors.", err=True)
        raise click.ClickException("Nothing was imported: correct the file and try again.")
    if dry_run:
        click.echo("Dry run: nothing was saved.")
        return
    try:
        batch = importing.upload_import(consultation, path.name, content, None)
        count = importing.confirm_import(batch, None, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(f"Imported {count} proposals into {slug} in {elapsed:.1f} s.")

"""`flask --app consultation export ...`: the final text in one format, and its benchmark;
`flask --app consultation dispatch ...`: the sending of the final text to the candidates."""

from __future__ import annotations

import hashlib
import resource
import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.exports import dispatch as services
from consultation.exports.final_text import build_final_text
from consultation.exports.formats import FORMATS
from consultation.exports.sample import sample_final_text
from consultation.extensions import db

export_cli = AppGroup("export", help="The final text in every format.")


@export_cli.command("bill")
@click.argument("slug")
@click.option(
    "--format",
    "format_name",
    required=True,
    type=click.Choice(list(FORMATS)),
    help="The format to write.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write.",
)
def export_bill(slug: str, format_name: str, out: Path) -> None:
    """Write the final text of a consultation (from its last closed round) in one format."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise click.ClickException(f"No consultation has the slug {slug!r}.")
    try:
        text = build_final_text(consultation)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    started = time.perf_counter()
    content = FORMATS[format_name].render(text)
    elapsed = time.perf_counter() - started
    try:
        out.write_bytes(content)
    except OSError as error:
        raise click.ClickException(f"Cannot write {out}: {error.strerror}") from None
    click.echo(
        f"{out}: {len(content):,} bytes, {text.article_count} articles, {elapsed:.2f} s, "
        f"sha256 {hashlib.sha256(content).hexdigest()}"
    )


@export_cli.command("bench")
@click.option("--articles", default=300, show_default=True, help="Articles of the text.")
@click.option("--sources", default=20_000, show_default=True, help="Proposals in its annex.")
def export_bench(articles: int, sources: int) -> None:
    """Time every format on a synthetic final text of that size; saves nothing."""
    text = sample_final_text(articles, max(1, sources // articles), rejected=5, divisions=10)
    cited = sum(len(article.sources) for article in text.all_articles())
    click.echo(f"{text.article_count} articles, {cited:,} proposals in the provenance annex")
    for fmt in FORMATS.values():
        started = time.perf_counter()
        content = fmt.render(text)
        elapsed = time.perf_counter() - started
        click.echo(f"{fmt.filename}: {elapsed:.2f} s, {len(content) / 1e6:.1f} MB")
    # ru_maxrss is in kilobytes on Linux: the peak of the whole process, every format included,
    # and of the process that lays out the PDF's provenance annex.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3
    click.echo(f"peak memory: {peak:.0f} MB (PDF annex process: {child:.0f} MB)")


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

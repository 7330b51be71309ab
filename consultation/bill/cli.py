"""`flask --app consultation bill ...`: freeze a version of the bill, time freezing and diffs."""

from __future__ import annotations

import copy
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from consultation.bill import versions
from consultation.bill.models import BillVersion
from consultation.bill.services import find_bill
from consultation.consultations.models import Consultation
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.extensions import db

bill_cli = AppGroup("bill", help="The draft bill.")


def _consultation(slug: str) -> Consultation:
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise click.ClickException(f"No consultation has the slug {slug!r}.")
    return consultation


@bill_cli.command("freeze")
@click.argument("slug")
@click.option("--note", default="", help="What this version is for (shown with it).")
def freeze(slug: str, note: str) -> None:
    """Freeze the consultation's bill into its next version, with the rules of the page:
    synthesis phase only, at least one article, 100% coverage."""
    consultation = _consultation(slug)
    bill = find_bill(consultation)
    if bill is None:
        raise click.ClickException("This consultation has no bill yet.")
    started = time.perf_counter()
    try:
        version = versions.freeze_bill_version(bill, note, None, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    elapsed = (time.perf_counter() - started) * 1000
    click.echo(
        f"Froze version {version.number} of the bill of {slug} "
        f"({version.content['article_count']} articles, SHA-256 {version.checksum}) "
        f"in {elapsed:.0f} ms."
    )


@bill_cli.command("bench")
@click.argument("slug")
def bench(slug: str) -> None:
    """Time freezing the bill as it stands and the diff page between its first and last
    versions, whatever the phase; nothing is saved (the transaction is rolled back)."""
    consultation = _consultation(slug)
    bill = find_bill(consultation)
    if bill is None:
        raise click.ClickException("This consultation has no bill yet.")
    started = time.perf_counter()
    version = versions.create_version(bill, "bench", None, utcnow())
    db.session.flush()
    freeze_ms = (time.perf_counter() - started) * 1000
    count = version.content["article_count"]
    db.session.rollback()
    click.echo(f"freeze: {freeze_ms:.0f} ms for {count} articles (target < 2000 ms)")
    listed = versions.list_versions(bill)
    if len(listed) < 2:
        click.echo("diff: needs two versions")
        return
    first, last = listed[-1], listed[0]
    started = time.perf_counter()
    diff = versions.diff_versions(first, last)
    compute_ms = (time.perf_counter() - started) * 1000
    from consultation.bill.views import render_version_diff  # the page's own rendering

    timings = []
    with current_app.test_request_context():
        for _ in range(2):  # the first render also compiles the templates
            started = time.perf_counter()
            html = render_version_diff(consultation, first, last)
            timings.append((time.perf_counter() - started) * 1000)
    click.echo(
        f"diff: v{first.number} → v{last.number}: computed in {compute_ms:.0f} ms, page "
        f"rendered in {timings[1]:.0f} ms (first render, compiling the templates: "
        f"{timings[0]:.0f} ms) ({len(html) // 1024} KiB, {diff.added} added, "
        f"{diff.removed} removed, {diff.moved} moved, {diff.changed} changed; target < 500 ms)"
    )
    # The worst case: every article of the last version changed (a transient version, never
    # saved), to show the word-level diff of a whole bill stays within the target.
    content = copy.deepcopy(last.content)
    for article, _division in versions.walk_snapshot(content):
        article["body"] = article["body"].replace("le", "la", 1) + " Un alinéa est ajouté."
    rewritten = BillVersion(number=last.number + 1, content=content, frozen_at=utcnow())
    with current_app.test_request_context():
        started = time.perf_counter()
        html = render_version_diff(consultation, last, rewritten)
        every_ms = (time.perf_counter() - started) * 1000
    click.echo(
        f"diff with every article changed ({count} articles): computed and rendered in "
        f"{every_ms:.0f} ms ({len(html) // 1024} KiB; target < 500 ms)"
    )
    db.session.rollback()

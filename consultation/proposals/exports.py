"""Open data: the public proposals as CSV and JSON files, with the list's search and filters.

Both files are streamed from one query (the co-signatures are counted in it), so that an export
of 20,000 proposals neither holds them all in memory nor asks the database once per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, current_app, stream_with_context, url_for
from sqlalchemy import Select, func, select

from consultation.accounts.models import Organisation
from consultation.consultations.models import Consultation, Theme
from consultation.core.i18n import PARIS
from consultation.core.spreadsheet import csv_cell
from consultation.extensions import db
from consultation.proposals import services
from consultation.proposals.models import Cosignature, Proposal

# The fields of each proposal, in the order of the CSV columns.
FIELDS = (
    "id",
    "title",
    "summary",
    "body",
    "rationale",
    "theme",
    "organisation",
    "source_kind",
    "region_code",
    "debate_id",
    "status",
    "reason",
    "merged_into_id",
    "submitted_at",
    "cosignatures",
    "url",
)
BATCH = 1_000  # rows fetched from the cursor at a time
BOM = "\ufeff"  # tells Excel the file is UTF-8


def _rows_query(consultation: Consultation, filters: services.ProposalFilters) -> Select:
    """The public proposals matching the filters, in the list's order, as plain columns."""
    counts = (
        select(Cosignature.proposal_id, func.count(Cosignature.id).label("number"))
        .join(Proposal, Proposal.id == Cosignature.proposal_id)
        .where(Proposal.consultation_id == consultation.id)
        .group_by(Cosignature.proposal_id)
        .subquery("cosignature_counts")
    )
    return (
        services.public_proposals_query(consultation, filters)
        .join(Organisation, Organisation.id == Proposal.organisation_id)
        .outerjoin(Theme, Theme.id == Proposal.theme_id)
        .outerjoin(counts, counts.c.proposal_id == Proposal.id)
        .with_only_columns(
            Proposal.id,
            Proposal.title,
            Proposal.summary,
            Proposal.body,
            Proposal.rationale,
            Theme.name,
            Organisation.name,
            Proposal.source_kind,
            Proposal.region_code,
            Proposal.debate_id,
            Proposal.status,
            Proposal.reason,
            Proposal.merged_into_id,
            Proposal.submitted_at,
            func.coalesce(counts.c.number, 0),
        )
        .execution_options(yield_per=BATCH)  # a server-side cursor on PostgreSQL
    )


def _paris_iso(value: datetime | None) -> str | None:
    return value.astimezone(PARIS).isoformat() if value is not None else None


@dataclass(frozen=True)
class Export:
    """Everything an export needs, read while the request's session is open: the response is
    streamed after the view returns, when the request's ORM objects are no longer usable."""

    slug: str
    filters: dict[str, str]
    statement: Select
    url_prefix: str


def prepare(consultation: Consultation, filters: services.ProposalFilters) -> Export:
    """The statement and the values of an export of these proposals."""
    # One link prefix for all rows, from BASE_URL: a file outlives the request that made it.
    prefix = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "proposals.index", slug=consultation.slug
    )
    return Export(consultation.slug, filters.as_args(), _rows_query(consultation, filters), prefix)


def proposal_records(export: Export) -> Iterator[dict[str, Any]]:
    """Each proposal of the export as a record of FIELDS, read from the cursor as they come."""
    for row in db.session.execute(export.statement):
        values = dict(zip(FIELDS, (*row, f"{export.url_prefix}/{row[0]}"), strict=True))
        values["source_kind"] = values["source_kind"].value
        values["status"] = values["status"].value
        values["submitted_at"] = _paris_iso(values["submitted_at"])
        yield values


def _csv_lines(export: Export) -> Iterator[str]:
    out = io.StringIO()
    # Semicolons: what French spreadsheets expect; the BOM makes Excel read UTF-8.
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FIELDS)
    yield BOM + _drain(out)
    for number, record in enumerate(proposal_records(export), start=1):
        writer.writerow([csv_cell(record[name]) for name in FIELDS])
        if number % 200 == 0:  # a few kilobytes per chunk, not one per row
            yield _drain(out)
    yield _drain(out)


def _drain(out: io.StringIO) -> str:
    value = out.getvalue()
    out.seek(0)
    out.truncate()
    return value


def _json_chunks(export: Export) -> Iterator[str]:
    head = {"consultation": export.slug, "filters": export.filters}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "proposals": ['
    count = 0
    for record in proposal_records(export):
        yield ("," if count else "") + json.dumps(record, ensure_ascii=False)
        count += 1
    yield f'], "count": {count}}}'


def _filename(consultation: Consultation, extension: str) -> str:
    return f"propositions-{consultation.slug}.{extension}"


def csv_response(consultation: Consultation, filters: services.ProposalFilters) -> Response:
    """The proposals as a CSV download, streamed."""
    response = Response(
        stream_with_context(_csv_lines(prepare(consultation, filters))), mimetype="text/csv"
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(consultation, "csv")}"'
    )
    return response


def json_response(consultation: Consultation, filters: services.ProposalFilters) -> Response:
    """The proposals as a JSON document, streamed."""
    response = Response(
        stream_with_context(_json_chunks(prepare(consultation, filters))),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = (
        f'inline; filename="{_filename(consultation, "json")}"'
    )
    return response

"""The final-text pages: the text and its downloads with their checksums (public from the
remise phase, a preview for staff before), and the staff's export action."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consultation.consultations.models import Consultation
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.permissions import access, is_admin, public
from consultation.core.views import acting_user
from consultation.exports import blocks, services
from consultation.exports.final_text import NotExportable, build_final_text
from consultation.exports.formats import FORMATS, ZIP
from consultation.exports.open_data import build_open_data
from consultation.extensions import db

bp = Blueprint("exports", __name__)


def _published_consultation(slug: str) -> Consultation:
    """The consultation if its final text may be shown to this visitor: everyone from the
    remise phase, staff before (a preview); others get 404, as for a file that does not exist."""
    consultation = load_consultation(slug)
    if not services.is_published(consultation) and not is_admin(current_user):
        abort(404)
    return consultation


@bp.route("/consultations/<slug>/texte-final")
@access(public)
@cached_page
def final_text(slug: str):
    """The final text, its annexes, and its files with their SHA-256."""
    consultation = _published_consultation(slug)
    try:
        text = build_final_text(consultation)
    except NotExportable as error:
        text, reason = None, error.message
    else:
        reason = None
    export = services.latest_export(consultation)
    failure = services.last_export_failure(consultation) if is_admin(current_user) else None
    return render_template(
        "exports/final_text.html",
        consultation=consultation,
        text=text,
        reason=reason,
        export=export,
        failure=failure,
        files=export.files if export else [],
        is_published=services.is_published(consultation),
        source_kinds=blocks.SOURCE_KINDS,
        format_labels={fmt.name: fmt.label for fmt in (*FORMATS.values(), ZIP)},
    )


@bp.route("/consultations/<slug>/texte-final/donnees-ouvertes.zip")
@access(public)
def open_data(slug: str):
    """The consultation's public data in one zip: debates, proposals, bill versions,
    provenance, jury results, ballot logs and draws, as CSV and JSON."""
    consultation = _published_consultation(slug)
    content = build_open_data(consultation)
    filename = f"donnees-ouvertes-{consultation.slug}.zip"
    return (
        content,
        200,
        {
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Checksum-SHA256": hashlib.sha256(content).hexdigest(),
        },
    )


@bp.route("/consultations/<slug>/texte-final/<filename>")
@access(public)
def download(slug: str, filename: str):
    """One file of the latest export, as it was made (and sent), with its checksum."""
    consultation = _published_consultation(slug)
    export = services.latest_export(consultation)
    stored = services.find_file(export, filename) if export is not None else None
    if stored is None:
        abort(404)
    return (
        stored.content,
        200,
        {
            "Content-Type": stored.mimetype,
            "Content-Disposition": f'attachment; filename="{stored.filename}"',
            "Content-Length": str(stored.size),
            "ETag": f'"{stored.sha256}"',
            "X-Checksum-SHA256": stored.sha256,
            "Cache-Control": "public, max-age=300"
            if services.is_published(consultation)
            else "private, no-store",
        },
    )


@bp.route("/gestion/consultations/<slug>/texte-final/exporter", methods=["POST"])
@access(is_admin)
def export(slug: str):
    """Export the final text in every format (a job), from the last closed round."""
    consultation = load_consultation(slug)
    try:
        # Refuse at once what the job would refuse: no closed round, nothing adopted.
        build_final_text(consultation)
    except DomainError as error:
        return render_template(
            "exports/refused.html", consultation=consultation, message=error.message
        ), error.status_code
    services.export_job(consultation.id, acting_user().id)
    db.session.commit()
    flash(
        _(
            "The final text is being exported in every format: "
            "its files are listed below once ready."
        ),
        "success",
    )
    return redirect(url_for("exports.final_text", slug=consultation.slug), 303)

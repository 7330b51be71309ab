"""Exporting the final text: every format made at once from the voted round, stored with its
SHA-256 so that every app server serves, and every dispatch sends, the same bytes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from consultation.accounts.models import User
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.audit import AuditEntry
from consultation.core.errors import is_disk_full
from consultation.core.jobs import job
from consultation.core.models import utcnow
from consultation.exports.final_text import FinalText, build_final_text
from consultation.exports.formats import FORMATS, ZIP, Format
from consultation.exports.models import ExportFile, FinalTextExport
from consultation.extensions import db

PUBLISHED_PHASES = (Phase.REMISE, Phase.ARCHIVED)
CHECKSUMS_NAME = "SHA256SUMS"
EXPORT_FAILED = "export.failed"


@dataclass(frozen=True)
class RenderedFile:
    format: Format
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def is_published(consultation: Consultation) -> bool:
    """The final text and its files are public from the remise phase on; staff preview before."""
    return consultation.phase in PUBLISHED_PHASES


def render_all(text: FinalText) -> list[RenderedFile]:
    """Every format of the final text, then the zip of them all with their checksums."""
    files = [RenderedFile(fmt, fmt.render(text)) for fmt in FORMATS.values()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rendered in files:
            archive.writestr(rendered.format.filename, rendered.content)
        sums = "".join(f"{f.sha256}  {f.format.filename}\n" for f in files)
        archive.writestr(CHECKSUMS_NAME, sums)
    return [*files, RenderedFile(ZIP, buffer.getvalue())]


def export_final_text(
    consultation: Consultation, actor: User | None, now: datetime
) -> FinalTextExport:
    """Make and keep every format of the final text; refused (409) before a round has closed
    or when nothing was adopted."""
    text = build_final_text(consultation)
    rendered = render_all(text)
    number = 1 + (
        db.session.scalar(
            select(func.max(FinalTextExport.number)).where(
                FinalTextExport.consultation_id == consultation.id
            )
        )
        or 0
    )
    export = FinalTextExport(
        consultation_id=consultation.id,
        number=number,
        round_number=text.round_number,
        version_checksum=text.version_checksum,
        article_count=text.article_count,
        created_at=now,
        created_by_id=actor.id if actor else None,
        files=[
            ExportFile(
                format=item.format.name,
                position=position,
                filename=item.format.filename,
                mimetype=item.format.mimetype,
                size=len(item.content),
                sha256=item.sha256,
                content=item.content,
            )
            for position, item in enumerate(rendered)
        ],
    )
    db.session.add(export)
    db.session.flush()
    audit.record(
        "export.final_text",
        export,
        actor=actor,
        number=number,
        articles=text.article_count,
        checksums={item.format.filename: item.sha256 for item in rendered},
    )
    return export


@job()
def export_job(consultation_id: int, actor_id: int | None) -> None:
    """Export the final text in the background (in development and tests, at once)."""
    consultation = db.session.get(Consultation, consultation_id)
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    if consultation is None:
        return
    try:
        export_final_text(consultation, actor, utcnow())
        db.session.commit()
    except Exception as error:
        # Staff see on the page that the export they asked for failed (the job queue logs it).
        db.session.rollback()
        reason = "disk_full" if is_disk_full(error) else type(error).__name__
        audit.record(EXPORT_FAILED, consultation, actor=actor, reason=reason)
        db.session.commit()
        raise


def last_export_failure(consultation: Consultation) -> AuditEntry | None:
    """The export that failed after the last one that worked, if any."""
    query = (
        select(AuditEntry)
        .where(
            AuditEntry.action == EXPORT_FAILED,
            AuditEntry.object_type == Consultation.__name__,
            AuditEntry.object_id == str(consultation.id),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    failure = db.session.scalar(query)
    latest = db.session.scalar(
        select(func.max(FinalTextExport.created_at)).where(
            FinalTextExport.consultation_id == consultation.id
        )
    )
    if failure is None or (latest is not None and latest >= failure.created_at):
        return None
    return failure


def latest_export(consultation: Consultation) -> FinalTextExport | None:
    """The last export of the final text, with its files (not their content)."""
    return db.session.scalar(
        select(FinalTextExport)
        .where(FinalTextExport.consultation_id == consultation.id)
        .options(selectinload(FinalTextExport.files))
        .order_by(FinalTextExport.number.desc())
        .limit(1)
    )


def find_file(export: FinalTextExport, filename: str) -> ExportFile | None:
    """One file of an export by its published name, with its content."""
    return db.session.scalar(
        select(ExportFile)
        .where(ExportFile.export_id == export.id, ExportFile.filename == filename)
        .options(undefer(ExportFile.content))
    )

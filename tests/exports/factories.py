"""Exports and candidates made directly in the database, for the dispatch tests."""

from __future__ import annotations

import hashlib
from itertools import count

from consultation.consultations.models import Consultation
from consultation.exports.models import Candidate, ExportFile, FinalTextExport
from consultation.extensions import db

_sequence = count(1)

FILES = {
    "pdf": ("proposition-de-loi.pdf", "application/pdf", b"%PDF-1.7 la proposition de loi\n"),
    "odt": (
        "proposition-de-loi.odt",
        "application/vnd.oasis.opendocument.text",
        b"PK\x03\x04 la proposition de loi (ODT)",
    ),
    "md": ("proposition-de-loi.md", "text/markdown", b"# Proposition de loi\n"),
}


def make_export(
    consultation: Consultation, formats: tuple[str, ...] = ("pdf", "odt", "md"), number: int = 1
) -> FinalTextExport:
    """An export of the final text with small stand-in files of the given formats."""
    files = []
    for position, name in enumerate(formats):
        filename, mimetype, content = FILES[name]
        content = content + f" export {number}".encode()
        files.append(
            ExportFile(
                format=name,
                position=position,
                filename=filename,
                mimetype=mimetype,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
            )
        )
    export = FinalTextExport(
        consultation_id=consultation.id,
        number=number,
        round_number=1,
        version_checksum="b" * 64,
        article_count=3,
        files=files,
    )
    db.session.add(export)
    db.session.flush()
    return export


def make_candidate(consultation: Consultation, **fields: object) -> Candidate:
    """A candidate with a unique address."""
    number = next(_sequence)
    candidate = Candidate(
        consultation_id=consultation.id,
        name=str(fields.pop("name", f"Candidate {number}")),
        party=str(fields.pop("party", f"Mouvement {number}")),
        email=str(fields.pop("email", f"candidate-{number}@example.org")),
    )
    db.session.add(candidate)
    db.session.flush()
    return candidate

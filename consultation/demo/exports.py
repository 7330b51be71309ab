"""The demo's final text: the historical consultation's text exported in every format on
18 February 2022 and sent to fictional candidates on the 21st, as the dispatch records show.

The files are made by the real export; the dispatches are recorded as delivered without any
message leaving the machine (their message ids are the demo's own).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.core.i18n import PARIS
from consultation.exports.models import Candidate, Dispatch, DispatchStatus, FinalTextExport
from consultation.exports.services import export_final_text
from consultation.extensions import db

# Fictional candidates: no real person or party.
CANDIDATES = (
    ("Claire Fontaine (fictive)", "Mouvement pour l'habitat durable (fictif)"),
    ("Marc Duval (fictif)", "Parti des territoires (fictif)"),
    ("Inès Barbier (fictive)", "Alliance sociale et écologique (fictive)"),
    ("Paul Lemoine (fictif)", "Union républicaine pour le logement (fictive)"),
    ("Nadia Kacem (fictive)", "Rassemblement citoyen (fictif)"),
    ("Hugo Martel (fictif)", "Initiative démocratique (fictive)"),
)
ATTACHED = ("pdf", "odt")


def _paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def load_exports(count: Callable[[str, int], None]) -> None:
    """Export the historical consultation's final text and record its dispatches, once."""
    from consultation.demo.services import HISTORICAL_SLUG

    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == HISTORICAL_SLUG)
    )
    if consultation is None or db.session.scalar(
        select(FinalTextExport.id).where(FinalTextExport.consultation_id == consultation.id)
    ):
        return
    export = export_final_text(consultation, None, _paris(date(2022, 2, 18), 10))
    count("final text exports", 1)
    checksums = {f.filename: f.sha256 for f in export.files if f.format in ATTACHED}
    for index, (name, party) in enumerate(CANDIDATES):
        candidate = Candidate(
            consultation_id=consultation.id,
            name=name,
            party=party,
            email=f"candidat-{index + 1}@example.org",
            created_at=_paris(date(2022, 2, 14), 9),
        )
        sent = _paris(date(2022, 2, 21), 9 + index % 3)
        candidate.dispatches.append(
            Dispatch(
                export=export,
                status=DispatchStatus.SENT,
                attempts=1,
                sent_at=sent,
                message_id=f"<demo-{export.id}-{index + 1}@utiles-ensemble.example>",
                checksums=checksums,
                created_at=sent,
            )
        )
        db.session.add(candidate)
    db.session.flush()
    count("candidates", len(CANDIDATES))

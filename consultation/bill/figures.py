"""Live figures cited in the exposé des motifs.

The preamble is written with placeholders such as `[[debats_tenus]]`; each page (and each frozen
version) replaces them with the figure as the database sees it, formatted the French way
("1 234", with a no-break space). An unknown placeholder stays as typed, so that a typo shows.
All the figures come from three queries, whatever the number of placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union

from consultation.consultations.models import Consultation
from consultation.debates.models import Debate, DebateStatus, debate_attendee
from consultation.extensions import db
from consultation.proposals.models import (
    PUBLIC_STATUSES,
    Cosignature,
    Proposal,
    SourceKind,
)

PLACEHOLDER = re.compile(r"\[\[([a-z_]+)\]\]")
NO_BREAK_SPACE = "\u00a0"

# The placeholders the editor may use, with what each counts (shown beside the editor).
FIGURES = {
    "debats_tenus": _l("Regional debates held"),
    "propositions": _l("Public proposals (submitted, whatever became of them)"),
    "propositions_organisme": _l("Public proposals of Hlm organisations"),
    "propositions_commission": _l("Public proposals of the USH working commissions"),
    "propositions_conseil_social": _l("Public proposals of the USH Conseil social"),
    "propositions_debat_regional": _l("Public proposals that came out of regional debates"),
    "organisations": _l(
        "Organisations that took part (a public proposal, a co-signature or a debate attended)"
    ),
    "regions": _l("Regions where a debate was held"),
}


def placeholder(name: str) -> str:
    """ "debats_tenus" → "[[debats_tenus]]", as the editor types it."""
    return f"[[{name}]]"


def format_figure(value: int) -> str:
    """A figure written the French way: 1234 → "1 234" with a no-break space, which keeps the
    number on one line. The bill is a French text, whatever the visitor's language."""
    return f"{value:,}".replace(",", NO_BREAK_SPACE)


def compute_figures(consultation: Consultation) -> dict[str, int]:
    """Every figure of FIGURES for the consultation, now (three queries)."""
    held, regions = db.session.execute(
        select(func.count(Debate.id), func.count(func.distinct(Debate.region_code))).where(
            Debate.consultation_id == consultation.id, Debate.status == DebateStatus.HELD
        )
    ).one()
    by_source = dict(
        db.session.execute(
            select(Proposal.source_kind, func.count(Proposal.id))
            .where(
                Proposal.consultation_id == consultation.id,
                Proposal.status.in_(PUBLIC_STATUSES),
            )
            .group_by(Proposal.source_kind)
        ).all()
    )
    # An organisation took part if it spoke (a public proposal), supported another's proposal
    # (a co-signature) or was present at a held debate: one UNION counts each once.
    public_proposals = select(Proposal.id).where(
        Proposal.consultation_id == consultation.id, Proposal.status.in_(PUBLIC_STATUSES)
    )
    participants = union(
        select(Proposal.organisation_id.label("organisation_id")).where(
            Proposal.consultation_id == consultation.id, Proposal.status.in_(PUBLIC_STATUSES)
        ),
        select(Cosignature.organisation_id).where(
            Cosignature.proposal_id.in_(public_proposals.scalar_subquery())
        ),
        select(debate_attendee.c.organisation_id)
        .join(Debate, Debate.id == debate_attendee.c.debate_id)
        .where(Debate.consultation_id == consultation.id),
    ).subquery()
    organisations = db.session.scalar(select(func.count()).select_from(participants)) or 0
    figures = {
        "debats_tenus": held or 0,
        "propositions": sum(by_source.values()),
        "organisations": organisations,
        "regions": regions or 0,
    }
    for kind in SourceKind:
        figures[f"propositions_{kind.value}"] = by_source.get(kind, 0)
    return figures


def resolve_figures(text: str, figures: Mapping[str, int]) -> str:
    """The text with each known placeholder replaced by its formatted figure; an unknown one
    is left as typed, so that the editor sees it and the reader is not misled by a blank."""

    def replace(match: re.Match[str]) -> str:
        value = figures.get(match.group(1))
        return match.group(0) if value is None else format_figure(value)

    return PLACEHOLDER.sub(replace, text)


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders of the text that are not figures (for the editor's warning)."""
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in FIGURES})

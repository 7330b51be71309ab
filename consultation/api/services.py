"""Queries behind the API endpoints: public data only, a constant number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consultation.bill import versions as bill_versions
from consultation.bill.services import find_bill
from consultation.consultations.models import Consultation
from consultation.core.errors import NotFound
from consultation.core.i18n import PARIS
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.jury import draw as jury_draw
from consultation.jury import members as jury_members
from consultation.jury.models import DrawStatus, RoundStatus, VotingRound
from consultation.proposals import services as proposal_services
from consultation.proposals.models import Proposal
from consultation.proposals.services import CosignatureCounts, ProposalFilters

# Drafts are never public; cancelled debates stay listed so that people learn of the cancellation.
PUBLIC_DEBATE_STATUSES = (DebateStatus.PUBLISHED, DebateStatus.CANCELLED, DebateStatus.HELD)


def public_debates_page(
    consultation: Consultation, *, region_code: str | None, page: int, per_page: int
) -> tuple[int, list[Debate]]:
    """The number of public debates matching the filter, and one page of them by start time."""
    conditions = [
        Debate.consultation_id == consultation.id,
        Debate.status.in_(PUBLIC_DEBATE_STATUSES),
    ]
    if region_code is not None:
        conditions.append(Debate.region_code == region_code)
    total = db.session.scalar(select(func.count(Debate.id)).where(*conditions)) or 0
    debates = db.session.scalars(
        select(Debate)
        .where(*conditions)
        .order_by(Debate.starts_at, Debate.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return total, list(debates)


# --- Proposals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalEntry:
    """A public proposal with what the API tells about it besides its columns."""

    proposal: Proposal
    cosignatures: CosignatureCounts
    merged_ids: tuple[int, ...] | None = None  # given on the detail only


def public_proposals_page(
    consultation: Consultation, filters: ProposalFilters, *, page: int, per_page: int
) -> tuple[int, list[ProposalEntry]]:
    """The number of public proposals matching the search and filters, and one page of them
    with their co-signature counts (three queries whatever the page size)."""
    query = proposal_services.public_proposals_query(consultation, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    proposals = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    counts = proposal_services.cosignature_counts([proposal.id for proposal in proposals])
    return total or 0, [
        ProposalEntry(proposal, counts.get(proposal.id, CosignatureCounts()))
        for proposal in proposals
    ]


def public_proposal(consultation: Consultation, proposal_id: int) -> ProposalEntry:
    """One public proposal with its co-signature counts and the proposals merged into it;
    a draft or another consultation's proposal is a 404."""
    proposal = proposal_services.find_public_proposal(consultation, proposal_id)
    counts = proposal_services.cosignature_counts([proposal.id]).get(
        proposal.id, CosignatureCounts()
    )
    merged = tuple(other.id for other in proposal_services.merged_proposals(proposal))
    return ProposalEntry(proposal, counts, merged)


# --- The draft bill ------------------------------------------------------------------------


def public_bill(consultation: Consultation) -> dict[str, Any]:
    """The current draft bill as the API gives it: the snapshot a freeze would record (title,
    exposé des motifs with its figures, nested divisions, articles with their sources) and the
    frozen versions; a fixed number of queries whatever the number of articles. 404 without a
    bill."""
    bill = find_bill(consultation)
    if bill is None:
        raise NotFound(_l("The synthesis has not started yet: this consultation has no bill."))
    content = bill_versions.build_snapshot(bill)
    base = current_app.config["BASE_URL"].rstrip("/")
    content["url"] = base + url_for("bill.text", slug=consultation.slug)
    content["versions"] = [
        {
            "number": version.number,
            "note": version.note,
            "frozen_at": version.frozen_at.astimezone(PARIS).isoformat(),
            "checksum": version.checksum,
            "url": base + url_for("bill.version", slug=consultation.slug, number=version.number),
        }
        for version in reversed(bill_versions.list_versions(bill))
    ]
    return content


# --- The jury --------------------------------------------------------------------------------


def public_jury(consultation: Consultation) -> dict[str, Any]:
    """The jury as the API gives it: the quotas, each draw's public data (never who was drawn;
    the pool snapshot is in the draw's file) and each round, with its results once closed."""
    base = current_app.config["BASE_URL"].rstrip("/")
    slug = consultation.slug
    draws = []
    for draw in jury_draw.list_draws(consultation):
        if draw.status is DrawStatus.FAILED:
            continue
        data = jury_draw.public_draw_data(draw)
        distribution = data.pop("distribution") or {}
        data.pop("pool")
        data["committed_at"] = draw.committed_at.astimezone(PARIS).isoformat()
        data["drawn_at"] = draw.drawn_at.astimezone(PARIS).isoformat() if draw.drawn_at else None
        data["minimum_probability"] = distribution.get("minimum")
        data["maximum_probability"] = distribution.get("maximum")
        data["types"] = jury_draw.labelled_types(draw)
        data["panels"] = distribution.get("panels", [])
        data["data_url"] = base + url_for("jury.draw_data", slug=slug, number=draw.number)
        draws.append(data)
    rounds = db.session.scalars(
        select(VotingRound)
        .where(VotingRound.consultation_id == consultation.id)
        .options(selectinload(VotingRound.bill_version))
        .order_by(VotingRound.number)
    )
    return {
        "quotas": [
            {
                "name": category.name,
                "label": category.label,
                "features": [
                    {
                        "feature": quota.feature,
                        "label": quota.label,
                        "min": quota.min_count,
                        "max": quota.max_count,
                    }
                    for quota in category.quotas
                ],
            }
            for category in jury_members.list_categories(consultation)
        ],
        "jurors": jury_draw.seated_juror_count(consultation),
        "draws": draws,
        "rounds": [_round_data(voting_round, base) for voting_round in rounds],
        "url": base + url_for("jury.home", slug=slug),
    }


def _round_data(voting_round: VotingRound, base: str) -> dict[str, Any]:
    closed = voting_round.status is RoundStatus.CLOSED
    slug = voting_round.consultation.slug
    number = voting_round.number
    return {
        "number": number,
        "status": voting_round.status.value,
        "bill_version": voting_round.bill_version.number,
        "opens_at": voting_round.opens_at.astimezone(PARIS).isoformat(),
        "closes_at": voting_round.closes_at.astimezone(PARIS).isoformat(),
        "quorum_percent": voting_round.quorum_percent,
        "threshold_percent": voting_round.threshold_percent,
        "results": voting_round.results if closed else None,
        "log_length": voting_round.log_length if closed else None,
        "log_head": voting_round.log_head if closed else None,
        "results_url": base + url_for("jury.results", slug=slug, number=number) if closed else None,
        "log_url": base + url_for("jury.ballot_log", slug=slug, number=number) if closed else None,
    }

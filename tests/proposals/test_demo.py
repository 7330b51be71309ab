"""The demo's proposals: a few hundred in the historical consultation, from every kind of source
and every region, all moderated; a few in the open consultation with a draft of the demo
contributor's organisation; loading again adds nothing; they can be searched."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from consultation.accounts.models import Region, User
from consultation.consultations.models import Consultation
from consultation.core.i18n import PARIS
from consultation.demo.proposals import SMALL_DEMO
from consultation.demo.services import load_demo
from consultation.proposals import search, services
from consultation.proposals.models import (
    Cosignature,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    SourceKind,
)


def _proposals(db, slug: str) -> list[Proposal]:
    return list(
        db.session.scalars(select(Proposal).join(Consultation).where(Consultation.slug == slug))
    )


def test_the_historical_consultation_has_moderated_proposals_from_every_source(db):
    load_demo(complete=False)
    db.session.commit()
    proposals = _proposals(db, "utiles-ensemble-2")
    assert len(proposals) == SMALL_DEMO
    assert {p.source_kind for p in proposals} == set(SourceKind)
    regions = set(db.session.scalars(select(Region.code)))
    assert {p.region_code for p in proposals} >= regions
    assert {p.theme_id for p in proposals} == {
        theme.id for theme in proposals[0].consultation.themes
    }
    statuses = {status: 0 for status in ProposalStatus}
    for proposal in proposals:
        statuses[proposal.status] += 1
        day = proposal.submitted_at.astimezone(PARIS).date()
        assert date(2021, 11, 15) <= day <= date(2022, 1, 31)
        assert proposal.revision_count == 1
        assert len(proposal.title) <= 200 and proposal.summary and proposal.body
        if proposal.source_kind is SourceKind.DEBAT_REGIONAL:
            assert proposal.debate is not None
            assert proposal.organisation_id == proposal.debate.organiser_id
            assert proposal.region_code == proposal.debate.region_code
            assert proposal.submitted_at > proposal.debate.starts_at
        if proposal.status is ProposalStatus.REJECTED:
            assert proposal.reason
        if proposal.status is ProposalStatus.MERGED:
            assert proposal.merged_into.status is ProposalStatus.ACCEPTED
    assert statuses[ProposalStatus.DRAFT] == statuses[ProposalStatus.SUBMITTED] == 0
    assert statuses[ProposalStatus.ACCEPTED] > SMALL_DEMO / 2
    assert statuses[ProposalStatus.REJECTED] > 0 and statuses[ProposalStatus.MERGED] > 0
    revisions = db.session.scalar(select(func.count(ProposalRevision.id)))
    assert revisions >= len(proposals)
    assert db.session.scalar(select(func.count(Cosignature.id))) > 0
    assert not db.session.scalar(
        select(func.count(Cosignature.id))
        .join(Proposal, Proposal.id == Cosignature.proposal_id)
        .where(Proposal.organisation_id == Cosignature.organisation_id)
    )


def test_the_open_consultation_accepts_proposals(db):
    load_demo(complete=False)
    db.session.commit()
    proposals = _proposals(db, "consultation-ouverte")
    submitted = [p for p in proposals if p.status is ProposalStatus.SUBMITTED]
    drafts = [p for p in proposals if p.status is ProposalStatus.DRAFT]
    assert len(submitted) >= 5
    contributor = db.session.scalar(select(User).where(User.email == "organisme@example.org"))
    assert [draft.organisation_id for draft in drafts] == [contributor.organisation_id]
    assert drafts[0].revision_count == 0
    assert proposals[0].consultation.phase == "concertation"


def test_loading_again_adds_nothing(db):
    load_demo(complete=False)
    db.session.commit()
    before = db.session.scalar(select(func.count(Proposal.id)))
    summary = load_demo(complete=False)
    db.session.commit()
    assert "proposals" not in summary.created
    assert db.session.scalar(select(func.count(Proposal.id))) == before


def test_demo_proposals_are_searchable(db):
    load_demo(complete=False)
    db.session.commit()
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == "utiles-ensemble-2")
    )
    matches = search.matches(db.session, "logements sociaux")
    assert matches is not None
    found = db.session.scalar(
        select(func.count()).select_from(
            matches.join(Proposal, Proposal.id == matches.c.proposal_id)
        )
    )
    assert found > 10
    similar = services.similar_proposals(consultation, "rénovation énergétique")
    assert similar and all(p.consultation_id == consultation.id for p in similar)

"""Moderation by staff: the queue with its counts, accepting, rejecting with a reason and
merging, each audited; refusals shown beside the field with the right status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.core.audit import AuditEntry
from consultation.proposals.models import Cosignature, Proposal, ProposalStatus
from tests import factories
from tests.proposals.helpers import make_proposal

SLUG = "moderee"
QUEUE = f"/gestion/consultations/{SLUG}/moderation"


def _url(proposal: Proposal) -> str:
    return f"/gestion/consultations/{SLUG}/propositions/{proposal.id}/moderation"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug=SLUG)


def _actions(db, proposal: Proposal) -> list[tuple[str, dict]]:
    return [
        (entry.action, entry.details)
        for entry in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "Proposal", AuditEntry.object_id == str(proposal.id))
            .order_by(AuditEntry.id)
        )
    ]


def _reload(db, proposal: Proposal) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


# --- Queue --------------------------------------------------------------------------------


def test_the_queue_counts_each_state_and_lists_the_oldest_first(admin_client, db, consultation):
    newer = make_proposal(consultation, title="Plus récente")
    older = make_proposal(consultation, title="Plus ancienne")
    older.submitted_at = newer.submitted_at - timedelta(days=2)
    make_proposal(consultation, status="accepted", title="Déjà acceptée")
    make_proposal(consultation, status="draft", title="Brouillon caché")
    db.session.commit()

    page = admin_client.get(QUEUE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Plus ancienne") < html.index("Plus récente")
    assert "Déjà acceptée" not in html and "Brouillon caché" not in html
    assert 'Submitted <span class="moderation-count">2</span>' in html
    assert 'Accepted <span class="moderation-count">1</span>' in html
    assert "1 drafts are not shown" in html
    assert older.organisation.name in html
    assert "Hlm organisation" in html  # the source kind
    assert "Pays de la Loire" in html  # the region
    assert f"/propositions/{older.id}/moderation" in html

    accepted = admin_client.get(f"{QUEUE}?status=accepted").get_data(as_text=True)
    assert "Déjà acceptée" in accepted and "Plus récente" not in accepted


def test_the_rejected_and_merged_tabs_say_why_with_constant_queries(
    admin_client, db, consultation, count_queries
):
    target = make_proposal(consultation, status="accepted", title="La cible")
    make_proposal(consultation, status="rejected", title="Refusée")
    make_proposal(consultation, status="merged", merged_into=target, title="Fusionnée 0")
    db.session.commit()
    rejected = admin_client.get(f"{QUEUE}?status=rejected").get_data(as_text=True)
    assert "Refusée" in rejected and "Hors sujet." in rejected
    with count_queries() as few:
        merged = admin_client.get(f"{QUEUE}?status=merged").get_data(as_text=True)
    assert "Fusionnée 0" in merged and f"No. {target.id}: La cible" in merged
    for number in range(1, 6):
        other = make_proposal(consultation, status="accepted", title=f"Cible {number}")
        make_proposal(consultation, status="merged", merged_into=other, title=f"Fusionnée {number}")
    db.session.commit()
    with count_queries() as many:
        admin_client.get(f"{QUEUE}?status=merged")
    assert len(many) == len(few)


def test_an_unknown_state_is_a_readable_400(admin_client, consultation, db):
    db.session.commit()
    response = admin_client.get(f"{QUEUE}?status=nimporte")
    assert response.status_code == 400
    assert "is not a state of the moderation queue" in response.get_data(as_text=True)
    assert admin_client.get(f"{QUEUE}?status=draft").status_code == 400


def test_the_queue_is_paginated_with_constant_queries(
    admin_client, db, consultation, count_queries
):
    for number in range(3):
        make_proposal(consultation, title=f"Proposition {number}")
    db.session.commit()
    with count_queries() as few:
        admin_client.get(QUEUE)
    for number in range(3, 60):
        make_proposal(
            consultation,
            title=f"Proposition {number}",
            organisation=factories.make_organisation(region_code="11" if number % 2 else "84"),
        )
    db.session.commit()
    with count_queries() as many:
        page = admin_client.get(QUEUE)
    assert len(many) == len(few)
    assert "Page 1 of 2" in page.get_data(as_text=True)
    assert admin_client.get(f"{QUEUE}?page=2").status_code == 200
    assert admin_client.get(f"{QUEUE}?page=3").status_code == 404


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
def test_only_staff_moderate(sign_in, db, consultation, role):
    proposal = make_proposal(consultation)
    db.session.commit()
    client = sign_in(role)
    assert client.get(QUEUE).status_code == 403
    assert client.get(_url(proposal)).status_code == 403
    assert client.post(_url(proposal), data={"action": "accept"}).status_code == 403
    assert _reload(db, proposal).status is ProposalStatus.SUBMITTED


def test_unknown_consultations_and_proposals_are_404(admin_client, db, consultation):
    other = factories.make_consultation()
    elsewhere = make_proposal(other)
    db.session.commit()
    assert admin_client.get("/gestion/consultations/nulle-part/moderation").status_code == 404
    assert (
        admin_client.get(
            f"/gestion/consultations/{SLUG}/propositions/999999/moderation"
        ).status_code
        == 404
    )
    assert admin_client.get(_url(elsewhere)).status_code == 404  # another consultation's


# --- Accept and reject ----------------------------------------------------------------------


def test_accepting_a_proposal_is_audited(admin_client, db, consultation):
    proposal = make_proposal(consultation)
    db.session.commit()
    page = admin_client.get(_url(proposal)).get_data(as_text=True)
    assert proposal.title in page and "Submitted" in page
    assert f"/consultations/{SLUG}/propositions/{proposal.id}" in page  # the public page

    response = admin_client.post(_url(proposal), data={"action": "accept"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(QUEUE)
    assert f"Proposal no. {proposal.id} accepted." in admin_client.get(QUEUE).get_data(as_text=True)
    proposal = _reload(db, proposal)
    assert proposal.status is ProposalStatus.ACCEPTED
    assert proposal.moderated_at is not None
    assert _actions(db, proposal)[-1] == ("proposal.accepted", {"previous": "submitted"})


def test_rejecting_needs_a_reason(admin_client, db, consultation):
    proposal = make_proposal(consultation)
    db.session.commit()
    response = admin_client.post(_url(proposal), data={"action": "reject", "reason": "  "})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="reason-errors"' in html and "Say why the proposal is rejected." in html
    assert _reload(db, proposal).status is ProposalStatus.SUBMITTED

    response = admin_client.post(
        _url(proposal), data={"action": "reject", "reason": "Hors du champ de la loi."}
    )
    assert response.status_code == 302
    proposal = _reload(db, proposal)
    assert proposal.status is ProposalStatus.REJECTED
    assert proposal.reason == "Hors du champ de la loi."
    action, details = _actions(db, proposal)[-1]
    assert action == "proposal.rejected" and details["reason"] == "Hors du champ de la loi."


def test_a_too_long_reason_keeps_what_was_typed(admin_client, db, consultation):
    proposal = make_proposal(consultation)
    db.session.commit()
    response = admin_client.post(_url(proposal), data={"action": "reject", "reason": "x" * 2001})
    assert response.status_code == 400
    assert "x" * 2001 in response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["draft", "merged"])
@pytest.mark.parametrize("action", ["accept", "reject", "merge"])
def test_drafts_and_merged_proposals_are_not_moderated(
    admin_client, db, consultation, status, action
):
    target = make_proposal(consultation, title="La cible")
    other = make_proposal(consultation, title="Une autre")
    proposal = make_proposal(consultation, status=status, merged_into=target)
    db.session.commit()
    response = admin_client.post(
        _url(proposal), data={"action": action, "reason": "Pourquoi pas.", "target": other.id}
    )
    assert response.status_code == 409
    assert 'role="alert"' in response.get_data(as_text=True)
    assert _reload(db, proposal).status is ProposalStatus(status)


def test_an_unknown_action_is_a_400(admin_client, db, consultation):
    proposal = make_proposal(consultation)
    db.session.commit()
    assert admin_client.post(_url(proposal), data={"action": "delete"}).status_code == 400


def test_moderation_is_closed_after_the_synthesis(admin_client, db):
    consultation = factories.make_consultation(slug=SLUG, phase="concertation")
    proposal = make_proposal(consultation)
    consultation.phase = "jury"
    db.session.commit()
    response = admin_client.post(_url(proposal), data={"action": "accept"})
    assert response.status_code == 409
    assert "during the concertation and the synthesis" in response.get_data(as_text=True)


# --- Merge ----------------------------------------------------------------------------------


def test_merging_keeps_everything_and_followers_move_to_the_target(admin_client, db, consultation):
    target = make_proposal(consultation, title="Construire plus de logements sociaux")
    proposal = make_proposal(consultation, title="Construire davantage de logements")
    follower = make_proposal(
        consultation, status="merged", merged_into=proposal, title="Bâtir des logements"
    )
    cosigner = factories.make_organisation(name="Cosignataire")
    db.session.add(Cosignature(proposal_id=proposal.id, organisation_id=cosigner.id))
    db.session.commit()

    page = admin_client.get(_url(proposal)).get_data(as_text=True)
    assert "Similar proposals" in page
    assert f"No. {target.id}" in page  # a candidate for the merge, with its number
    assert "Bâtir des logements" in page  # already merged into this one

    response = admin_client.post(
        _url(proposal), data={"action": "merge", "target": target.id, "note": "Même idée."}
    )
    assert response.status_code == 302
    proposal, follower = _reload(db, proposal), _reload(db, follower)
    assert proposal.status is ProposalStatus.MERGED
    assert proposal.merged_into_id == target.id and proposal.reason == "Même idée."
    assert follower.merged_into_id == target.id
    assert db.session.scalar(select(func.count(Proposal.id))) == 3  # nothing deleted
    assert db.session.scalar(select(func.count(Cosignature.id))) == 1
    assert _actions(db, proposal)[-1] == (
        "proposal.merged",
        {"previous": "submitted", "target_id": target.id},
    )
    # Its page still shows, pointing to the target.
    merged_page = admin_client.get(_url(proposal)).get_data(as_text=True)
    assert "Merged into" in merged_page and target.title in merged_page


def test_merge_refusals_show_beside_the_target(admin_client, db, consultation):
    proposal = make_proposal(consultation)
    draft = make_proposal(consultation, status="draft", title="Un brouillon")
    accepted = make_proposal(consultation, status="accepted", title="Acceptée")
    merged = make_proposal(consultation, status="merged", merged_into=accepted, title="Fusionnée")
    elsewhere = make_proposal(factories.make_consultation(), title="Ailleurs")
    db.session.commit()
    cases = {
        proposal.id: "cannot be merged into itself",
        draft.id: "Merge into a submitted or accepted proposal.",
        merged.id: "Merge into a submitted or accepted proposal.",
        elsewhere.id: "same consultation",
        999999: "Give the number of the proposal to merge into.",
    }
    for target_id, message in cases.items():
        response = admin_client.post(
            _url(proposal), data={"action": "merge", "target": target_id, "note": "Ma note"}
        )
        html = response.get_data(as_text=True)
        assert response.status_code in (400, 409), target_id
        assert 'id="target-errors"' in html and message in html, target_id
        assert "Ma note" in html  # what was typed is kept
    response = admin_client.post(_url(proposal), data={"action": "merge", "target": "abc"})
    assert response.status_code == 400
    assert _reload(db, proposal).status is ProposalStatus.SUBMITTED
    assert not [a for a, _ in _actions(db, proposal) if a == "proposal.merged"]

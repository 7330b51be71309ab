"""Co-signing a proposal on behalf of one's organisation: once, never one's own, with a CSRF
token, and the counts by source kind that follow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.accounts.models import OrganisationKind
from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.proposals.models import Cosignature
from tests import factories
from tests.proposals.helpers import make_proposal

LIST = "/consultations/ue2/propositions"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _cosignature_count(db) -> int:
    return db.session.scalar(select(func.count(Cosignature.id))) or 0


def test_another_organisation_co_signs_once(db, consultation, sign_in):
    proposal = make_proposal(consultation)
    organisation = factories.make_organisation(name="Office de Nantes")
    client = sign_in(factories.make_user("contributor", organisation=organisation))
    url = f"{LIST}/{proposal.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Co-sign on behalf of Office de Nantes" in page
    assert f'action="{url}/cosigner"' in page

    response = client.post(f"{url}/cosigner", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == url
    assert "Your organisation co-signed this proposal." in page
    assert "Co-signatures (1)" in page and "Office de Nantes" in page
    assert "Withdraw our co-signature" in page and "Co-sign on behalf" not in page

    # A colleague of the same organisation cannot sign a second time.
    colleague = sign_in(factories.make_user("contributor", organisation=organisation))
    response = colleague.post(f"{url}/cosigner")
    assert response.status_code == 409
    assert "Your organisation has already co-signed this proposal." in response.get_data(
        as_text=True
    )
    assert _cosignature_count(db) == 1


def test_a_second_co_signature_is_a_409_in_json_for_scripts(db, consultation, sign_in):
    proposal = make_proposal(consultation)
    client = sign_in("contributor")
    assert client.post(f"{LIST}/{proposal.id}/cosigner").status_code == 302
    response = client.post(f"{LIST}/{proposal.id}/cosigner", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "Your organisation has already co-signed this proposal."
    )


def test_one_s_own_organisation_cannot_co_sign(db, consultation, sign_in):
    author = factories.make_user("contributor")
    proposal = make_proposal(consultation, author=author)
    colleague = factories.make_user("contributor", organisation=author.organisation)
    client = sign_in(colleague)
    assert "Co-sign on behalf" not in client.get(f"{LIST}/{proposal.id}").get_data(as_text=True)
    response = client.post(f"{LIST}/{proposal.id}/cosigner")
    assert response.status_code == 403
    assert "Your organisation wrote this proposal: it cannot co-sign it." in response.get_data(
        as_text=True
    )
    assert _cosignature_count(db) == 0


@pytest.mark.parametrize("status", ["rejected", "merged"])
def test_only_a_submitted_or_accepted_proposal_is_co_signed(db, consultation, sign_in, status):
    target = make_proposal(consultation)
    proposal = make_proposal(consultation, status=status, merged_into=target)
    client = sign_in("contributor")
    assert "Co-sign on behalf" not in client.get(f"{LIST}/{proposal.id}").get_data(as_text=True)
    response = client.post(f"{LIST}/{proposal.id}/cosigner")
    assert response.status_code == 409
    assert "Only a submitted proposal can be co-signed." in response.get_data(as_text=True)


def test_an_accepted_proposal_can_be_co_signed(db, consultation, sign_in):
    proposal = make_proposal(consultation, status="accepted")
    assert sign_in("regional_editor").post(f"{LIST}/{proposal.id}/cosigner").status_code == 302
    assert _cosignature_count(db) == 1


def test_a_draft_of_another_organisation_is_not_found(db, consultation, sign_in):
    draft = make_proposal(consultation, status="draft")
    response = sign_in("contributor").post(f"{LIST}/{draft.id}/cosigner")
    assert response.status_code == 404
    other = make_proposal(factories.make_consultation())
    assert sign_in("contributor").post(f"{LIST}/{other.id}/cosigner").status_code == 404


def test_the_public_jurors_and_staff_cannot_co_sign(db, consultation, client, sign_in):
    proposal = make_proposal(consultation)
    url = f"{LIST}/{proposal.id}/cosigner"
    assert client.post(url).status_code == 401
    assert sign_in("juror").post(url).status_code == 403
    assert sign_in("admin").post(url).status_code == 403
    assert _cosignature_count(db) == 0


def test_withdrawing_a_co_signature(db, consultation, sign_in):
    proposal = make_proposal(consultation)
    client = sign_in("contributor")
    client.post(f"{LIST}/{proposal.id}/cosigner")
    response = client.post(f"{LIST}/{proposal.id}/cosignature/retirer", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your organisation&#39;s co-signature is withdrawn." in page
    assert "Co-signatures (0)" in page and "Co-sign on behalf" in page
    assert _cosignature_count(db) == 0
    again = client.post(f"{LIST}/{proposal.id}/cosignature/retirer")
    assert again.status_code == 404
    assert "Your organisation has not co-signed this proposal." in again.get_data(as_text=True)


def test_no_co_signing_after_the_deadline(db, consultation, sign_in):
    proposal = make_proposal(consultation)
    client = sign_in("contributor")
    consultation.proposal_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Co-sign on behalf" not in client.get(f"{LIST}/{proposal.id}").get_data(as_text=True)
    response = client.post(f"{LIST}/{proposal.id}/cosigner")
    assert response.status_code == 409
    assert "The deadline for proposals has passed." in response.get_data(as_text=True)
    consultation.phase = Phase.SYNTHESE
    db.session.commit()
    response = client.post(f"{LIST}/{proposal.id}/cosigner")
    assert "Proposals are received during the concertation phase only." in response.get_data(
        as_text=True
    )


def test_counts_by_source_kind_follow_the_co_signatures(db, consultation, sign_in, client):
    proposal = make_proposal(consultation)
    kinds = [
        OrganisationKind.ORGANISME,
        OrganisationKind.FEDERATION,  # speaks for the Hlm organisations
        OrganisationKind.COMMISSION,
        OrganisationKind.CONSEIL_SOCIAL,
    ]
    for kind in kinds:
        organisation = factories.make_organisation(kind=kind)
        user = factories.make_user("contributor", organisation=organisation)
        assert sign_in(user).post(f"{LIST}/{proposal.id}/cosigner").status_code == 302
    page = client.get(f"{LIST}/{proposal.id}").get_data(as_text=True)
    assert "Co-signatures (4)" in page
    assert 'Hlm organisation: <span class="cosignature-count">2</span>' in page
    assert 'USH working commission: <span class="cosignature-count">1</span>' in page
    assert 'USH Conseil social: <span class="cosignature-count">1</span>' in page
    assert "4 co-signatures" in client.get(LIST).get_data(as_text=True)


def test_co_signing_needs_a_csrf_token(app, db, consultation, sign_in):
    app.config["WTF_CSRF_ENABLED"] = True
    proposal = make_proposal(consultation)
    client = sign_in("contributor")
    response = client.post(f"{LIST}/{proposal.id}/cosigner")
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert _cosignature_count(db) == 0
    page = client.get(f"{LIST}/{proposal.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[2].split('"')[0]  # after the sign-out form's
    response = client.post(f"{LIST}/{proposal.id}/cosigner", data={"csrf_token": token})
    assert response.status_code == 302
    assert _cosignature_count(db) == 1

"""Live figures in the exposé des motifs: `[[placeholders]]` replaced by counts, the French way."""

from __future__ import annotations

from consultation.accounts.models import OrganisationKind
from consultation.bill import figures
from consultation.debates.models import DebateStatus
from consultation.extensions import db as _db
from consultation.proposals.models import Cosignature, ProposalStatus
from tests import factories
from tests.bill.helpers import make_bill
from tests.debates.helpers import make_debate
from tests.proposals.helpers import make_proposal


def test_figures_count_debates_proposals_organisations_and_regions(db, count_queries):
    consultation = factories.make_consultation()
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION, region_code=None)
    organisme = factories.make_organisation()
    silent = factories.make_organisation()  # co-signs only
    present = factories.make_organisation(region_code="11")  # attends a debate only
    factories.make_organisation()  # takes no part
    make_proposal(consultation, organisation=commission)
    signed = make_proposal(consultation, organisation=organisme)
    make_proposal(consultation, organisation=organisme, status=ProposalStatus.ACCEPTED)
    make_proposal(consultation, organisation=organisme, status=ProposalStatus.DRAFT)
    _db.session.add(Cosignature(proposal_id=signed.id, organisation_id=silent.id))
    held = make_debate(consultation, "52", status=DebateStatus.HELD)
    held.attendees.append(present)
    make_debate(consultation, "52", status=DebateStatus.HELD)
    make_debate(consultation, "11", status=DebateStatus.HELD)
    make_debate(consultation, "84", status=DebateStatus.PUBLISHED)  # not held
    other = factories.make_consultation()
    make_proposal(other, organisation=factories.make_organisation())
    _db.session.flush()

    with count_queries() as statements:
        values = figures.compute_figures(consultation)
    assert len(statements) <= 3
    assert values == {
        "debats_tenus": 3,
        "regions": 2,
        "propositions": 3,
        "propositions_organisme": 2,
        "propositions_commission": 1,
        "propositions_conseil_social": 0,
        "propositions_debat_regional": 0,
        "organisations": 4,  # the commission, the organisme, the co-signer, the attendee
    }
    assert set(values) == set(figures.FIGURES)


def test_placeholders_are_replaced_and_unknown_ones_stay_visible():
    text = "Après [[debats_tenus]] débats, [[propositions]] propositions et [[inconnu]]."
    resolved = figures.resolve_figures(text, {"debats_tenus": 12, "propositions": 20345})
    assert resolved == "Après 12 débats, 20\u00a0345 propositions et [[inconnu]]."
    assert figures.format_figure(1234567) == "1\u00a0234\u00a0567"
    assert figures.unknown_placeholders(text) == ["inconnu"]
    assert figures.placeholder("regions") == "[[regions]]"


def test_the_public_page_resolves_the_figures(db, client):
    consultation = factories.make_consultation(slug="c", phase="synthese")
    make_bill(consultation, preamble="Mesdames, Messieurs,\n\n[[debats_tenus]] débats, [[x]].")
    make_debate(consultation, "52", status=DebateStatus.HELD)
    _db.session.commit()
    page = client.get("/consultations/c/texte").get_data(as_text=True)
    assert "1 débats, [[x]]." in page

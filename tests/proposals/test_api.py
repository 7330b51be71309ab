"""`/api/v1/consultations/<slug>/proposals`: public proposals only, with the web list's search
and filters, paginated, each with its source kind; one proposal by number; in the OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consultation.accounts.models import OrganisationKind
from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.debates.models import DebateStatus
from consultation.proposals import services
from tests import factories
from tests.debates.helpers import make_debate
from tests.proposals.helpers import make_proposal, theme

API = "/api/v1/consultations/api-propositions/proposals"
BASE = "https://propositions.example.org"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="api-propositions")


def _get(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_json()


def test_lists_public_proposals_with_their_fields(client, db, consultation):
    organisation = factories.make_organisation(name="Habitat 44", region_code="52")
    proposal = make_proposal(
        consultation,
        organisation=organisation,
        title="Loger les jeunes",
        summary="Résumé.",
        body="Le **corps**.",
        rationale="Parce que.",
        theme_id=theme(consultation, "jeunes", "Jeunesse").id,
    )
    proposal.submitted_at = datetime(2021, 11, 15, 17, 30, tzinfo=UTC)
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION)
    services.cosign_proposal(
        proposal, factories.make_user("contributor", organisation=commission), utcnow()
    )
    services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())
    make_proposal(consultation, status="draft", title="Brouillon")
    make_proposal(factories.make_consultation(), title="Ailleurs")
    db.session.commit()
    body = _get(client, API)
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (1, 1, 20, 1)
    assert body["items"] == [
        {
            "id": proposal.id,
            "title": "Loger les jeunes",
            "summary": "Résumé.",
            "body": "Le **corps**.",
            "rationale": "Parce que.",
            "theme": "jeunes",
            "theme_name": "Jeunesse",
            "organisation_name": "Habitat 44",
            "source_kind": "organisme",
            "region_code": "52",
            "debate_id": None,
            "status": "submitted",
            "reason": "",
            "merged_into_id": None,
            "submitted_at": "2021-11-15T18:30:00+01:00",
            "cosignatures": {"total": 2, "by_source": {"commission": 1, "organisme": 1}},
            "url": f"{BASE}/consultations/api-propositions/propositions/{proposal.id}",
        }
    ]


def test_each_source_kind_is_given(client, db, consultation):
    debate = make_debate(consultation, "84", status=DebateStatus.HELD)
    editor = factories.make_user("regional_editor", region_code="84")
    kinds = {
        make_proposal(consultation).id: "organisme",
        make_proposal(
            consultation,
            organisation=factories.make_organisation(kind=OrganisationKind.COMMISSION),
        ).id: "commission",
        make_proposal(
            consultation,
            organisation=factories.make_organisation(kind=OrganisationKind.CONSEIL_SOCIAL),
        ).id: "conseil_social",
        make_proposal(consultation, author=editor, debate_id=debate.id).id: "debat_regional",
    }
    db.session.commit()
    items = _get(client, API)["items"]
    assert {item["id"]: item["source_kind"] for item in items} == kinds
    for kind in set(kinds.values()):
        items = _get(client, f"{API}?source={kind}")["items"]
        assert [item["source_kind"] for item in items] == [kind]


def test_search_filters_and_sort(client, db, consultation):
    now = utcnow()
    housing = theme(consultation, "habitat")
    in_idf = factories.make_organisation(region_code="11")
    best = make_proposal(
        consultation, title="Logement logement", summary="Logement.", theme_id=housing.id
    )
    weak = make_proposal(
        consultation,
        organisation=in_idf,
        title="Mobilité",
        summary="Transports.",
        body="Près du logement.",
    )
    other = make_proposal(consultation, title="Énergie", summary="Isoler.", body="Rénover.")
    best.submitted_at = now - timedelta(days=3)
    weak.submitted_at = now - timedelta(days=2)
    other.submitted_at = now - timedelta(days=1)
    other.accept(now)
    db.session.commit()

    def ids(query: str) -> list[int]:
        return [item["id"] for item in _get(client, f"{API}?{query}")["items"]]

    assert ids("") == [other.id, weak.id, best.id]
    assert ids("q=logements") == [best.id, weak.id]
    assert ids("q=logements&sort=recent") == [weak.id, best.id]
    assert ids("q=LOGEMENT&region=11") == [weak.id]
    assert ids("theme=habitat") == [best.id]
    assert ids("status=accepted") == [other.id]
    assert ids("q=%C3%A9nergie") == [other.id]
    assert ids("q=NEAR(%22logement%22*%20AND%20OR%20-%5E%3A") == []


def test_paginates(client, db, consultation):
    start = utcnow() - timedelta(days=10)
    proposals = []
    for index in range(5):
        proposal = make_proposal(consultation)
        proposal.submitted_at = start + timedelta(hours=index)
        proposals.append(proposal)
    db.session.commit()
    body = _get(client, f"{API}?per_page=2&page=2")
    assert [item["id"] for item in body["items"]] == [proposals[2].id, proposals[1].id]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert _get(client, f"{API}?per_page=2&page=9")["items"] == []
    assert _get(client, f"{API}?per_page=100")["total"] == 5
    for bad in ("per_page=101", "per_page=0", "page=0", "page=deux"):
        assert client.get(f"{API}?{bad}").status_code == 422, bad


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("theme=inconnu", "There is no theme “inconnu”."),
        ("region=99", "There is no region with the code “99”."),
        ("source=ministere", "“ministere” is not a source of proposals."),
        ("status=draft", "“draft” is not a proposal status."),
        ("sort=alphabet", "“alphabet” is not a sort order."),
    ],
)
def test_unknown_filters_are_a_400_json_error(client, db, consultation, query, message):
    db.session.commit()
    error = _get(client, f"{API}?{query}", 400)["error"]
    assert error["status"] == 400 and error["message"] == message


def test_one_proposal(client, db, consultation):
    target = make_proposal(consultation, title="La cible")
    merged = make_proposal(consultation, status="merged", merged_into=target)
    db.session.commit()
    body = _get(client, f"{API}/{target.id}")
    assert body["id"] == target.id and body["title"] == "La cible"
    assert body["source_kind"] == "organisme"
    assert body["merged_proposal_ids"] == [merged.id]
    assert body["cosignatures"] == {"total": 0, "by_source": {}}
    body = _get(client, f"{API}/{merged.id}")
    assert body["status"] == "merged" and body["merged_into_id"] == target.id


def test_drafts_and_other_consultations_are_404(client, db, consultation):
    draft = make_proposal(consultation, status="draft")
    elsewhere = make_proposal(factories.make_consultation())
    factories.make_consultation(slug="en-preparation", phase=Phase.PREPARATION)
    db.session.commit()
    for url in (f"{API}/{draft.id}", f"{API}/{elsewhere.id}", f"{API}/999999"):
        error = _get(client, url, 404)["error"]
        assert error["status"] == 404
    assert _get(client, f"{API}/{draft.id}", 404)["error"]["message"] == (
        "This proposal does not exist."
    )
    assert client.get("/api/v1/consultations/inconnue/proposals").status_code == 404
    assert client.get("/api/v1/consultations/en-preparation/proposals").status_code == 404


def test_query_count_does_not_grow_with_the_proposals(app, client, db, consultation, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    url = f"{API}?q=logement&region=52&theme=produire"

    def grow(number: int) -> None:
        for index in range(number):
            organisation = factories.make_organisation(
                kind=(OrganisationKind.ORGANISME, OrganisationKind.COMMISSION)[index % 2]
            )
            proposal = make_proposal(consultation, organisation=organisation)
            services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())

    grow(1)
    db.session.commit()
    with count_queries() as few:
        assert len(_get(client, url)["items"]) == 1
    grow(25)
    db.session.commit()
    with count_queries() as many:
        assert len(_get(client, url)["items"]) == 20
    assert len(many) == len(few) <= 8


def test_responses_are_served_from_the_page_cache(client, db, consultation, count_queries):
    proposal = make_proposal(consultation)
    db.session.commit()
    for url in (API, f"{API}/{proposal.id}"):
        first = client.get(url)
        with count_queries() as statements:
            second = client.get(url)
        assert second.get_data() == first.get_data()
        assert statements == []


def test_openapi_describes_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    listing = spec["paths"]["/api/v1/consultations/{slug}/proposals"]["get"]
    parameters = {parameter["name"] for parameter in listing["parameters"]}
    assert {"q", "theme", "region", "source", "status", "sort", "page", "per_page"} <= parameters
    assert {"200", "400", "404"} <= set(listing["responses"])
    one = spec["paths"]["/api/v1/consultations/{slug}/proposals/{proposal_id}"]["get"]
    assert {"200", "404"} <= set(one["responses"])
    schemas = spec["components"]["schemas"]
    assert {"Proposal", "ProposalPage", "ProposalDetail"} <= set(schemas)
    properties = schemas["Proposal"]["properties"]
    assert properties["source_kind"]["enum"] == [
        "organisme",
        "commission",
        "conseil_social",
        "debat_regional",
    ]
    assert properties["submitted_at"]["format"] == "date-time"
    assert "merged_proposal_ids" in schemas["ProposalDetail"]["properties"]

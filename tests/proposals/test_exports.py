"""Open data exports of the public proposals: CSV for spreadsheets (formula-injection safe,
UTF-8 with a BOM) and JSON, with the list's search and filters, in a constant number of queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from consultation.accounts.models import OrganisationKind
from consultation.core.models import utcnow
from consultation.core.spreadsheet import csv_cell
from consultation.debates.models import DebateStatus
from consultation.proposals import exports, services
from tests import factories
from tests.debates.helpers import make_debate
from tests.proposals.helpers import make_proposal, theme

LIST = "/consultations/ue2/propositions"
BASE = "https://propositions.example.org"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def _json(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Texte = normal", "Texte = normal"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_the_cell_helper_neutralises_formulas(value, expected):
    assert csv_cell(value) == expected


def test_csv_has_every_field_a_bom_and_no_formula(client, db, consultation):
    organisation = factories.make_organisation(name='=Office;"Nantes"', region_code="52")
    proposal = make_proposal(
        consultation,
        organisation=organisation,
        title='=HYPERLINK("http://evil.example","clic")',
        summary="+33 1 23 45 67 89",
        body="-2+3\nSur deux lignes; avec « guillemets » et des accents : é à ç.",
        rationale="@SUM(A1:A9)",
        theme_id=theme(consultation, "habitat", "\tHabitat").id,
    )
    proposal.submitted_at = datetime(2021, 11, 15, 17, 30, tzinfo=UTC)
    services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())
    make_proposal(consultation, status="draft", title="Brouillon")
    db.session.commit()
    response = client.get(f"{LIST}.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="propositions-ue2.csv"' in response.headers["Content-Disposition"]
    [row] = _csv(response)
    assert list(row) == list(exports.FIELDS)
    assert row == {
        "id": str(proposal.id),
        "title": '\'=HYPERLINK("http://evil.example","clic")',
        "summary": "'+33 1 23 45 67 89",
        "body": "'-2+3\nSur deux lignes; avec « guillemets » et des accents : é à ç.",
        "rationale": "'@SUM(A1:A9)",
        "theme": "'\tHabitat",
        "organisation": '\'=Office;"Nantes"',
        "source_kind": "organisme",
        "region_code": "52",
        "debate_id": "",
        "status": "submitted",
        "reason": "",
        "merged_into_id": "",
        "submitted_at": "2021-11-15T18:30:00+01:00",
        "cosignatures": "1",
        "url": f"{BASE}{LIST}/{proposal.id}",
    }
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_json_has_the_same_fields_and_the_filters(client, db, consultation):
    debate = make_debate(consultation, "84", status=DebateStatus.HELD)
    editor = factories.make_user("regional_editor", region_code="84")
    target = make_proposal(
        consultation, author=editor, debate_id=debate.id, title="Logements des jeunes"
    )
    merged = make_proposal(
        consultation, status="merged", merged_into=target, title="Un logement jeune"
    )
    make_proposal(consultation, title="Mobilité", summary="Autre.", body="Autre.")
    db.session.commit()
    body = _json(client.get(f"{LIST}.json?q=logement&sort=recent"))
    assert body["consultation"] == "ue2"
    assert body["filters"] == {"q": "logement", "sort": "recent"}
    assert body["count"] == 2
    assert [item["id"] for item in body["proposals"]] == [merged.id, target.id]
    first, second = body["proposals"]
    assert list(first) == list(exports.FIELDS)
    assert first["status"] == "merged" and first["merged_into_id"] == target.id
    assert second["source_kind"] == "debat_regional" and second["debate_id"] == debate.id
    assert second["region_code"] == "84" and second["cosignatures"] == 0
    assert second["title"] == "Logements des jeunes"  # JSON is not a spreadsheet: as typed
    assert second["url"] == f"{BASE}{LIST}/{target.id}"


def test_exports_apply_the_filters_and_never_include_drafts(client, db, consultation):
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION, region_code=None)
    make_proposal(consultation, organisation=commission, title="Commission")
    make_proposal(consultation, title="Organisme", status="accepted")
    make_proposal(consultation, title="Brouillon", status="draft")
    db.session.commit()
    rows = _csv(client.get(f"{LIST}.csv"))
    assert {row["title"] for row in rows} == {"Commission", "Organisme"}
    rows = _csv(client.get(f"{LIST}.csv?source=commission"))
    assert [row["title"] for row in rows] == ["Commission"]
    body = _json(client.get(f"{LIST}.json?status=accepted"))
    assert [item["title"] for item in body["proposals"]] == ["Organisme"]
    empty = _json(client.get(f"{LIST}.json?q=introuvable"))
    assert empty["proposals"] == [] and empty["count"] == 0
    assert _csv(client.get(f"{LIST}.csv?q=le+la")) == []


def test_exports_make_a_constant_number_of_queries(app, client, db, consultation, count_queries):
    def grow(number: int) -> None:
        for index in range(number):
            proposal = make_proposal(consultation, title=f"Proposition {index}")
            for _ in range(index % 3):
                services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())

    grow(2)
    db.session.commit()
    counted = {}
    for suffix in (".csv", ".json"):
        with count_queries() as few:
            client.get(f"{LIST}{suffix}?theme=produire").get_data()
        counted[suffix] = len(few)
    grow(40)
    db.session.commit()
    for suffix in (".csv", ".json"):
        with count_queries() as many:
            client.get(f"{LIST}{suffix}?theme=produire").get_data()
        assert len(many) == counted[suffix], suffix
    assert len(_csv(client.get(f"{LIST}.csv"))) == 42
    assert sum(row["cosignatures"] for row in _json(client.get(f"{LIST}.json"))["proposals"]) == (
        sum(index % 3 for index in range(2)) + sum(index % 3 for index in range(40))
    )


def test_exports_stream_large_results(client, db, consultation):
    for index in range(450):  # more than one chunk of rows
        make_proposal(consultation, title=f"Proposition {index}")
    db.session.commit()
    response = client.get(f"{LIST}.csv")
    assert response.is_streamed
    assert len(_csv(response)) == 450
    assert _json(client.get(f"{LIST}.json"))["count"] == 450

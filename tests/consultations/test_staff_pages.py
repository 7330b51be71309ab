"""Staff create and edit consultations; bad dates are refused and nothing is half-written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from consultation.consultations.models import Consultation, Phase
from tests import factories

VALID = {
    "title": "Utiles ensemble 3",
    "slug": "utiles-ensemble-3",
    "summary": "Une **nouvelle** consultation.",
    "proposal_deadline": "2027-01-31T23:59",
    "concertation_starts_on": "2026-12-01",
    "concertation_ends_on": "2027-01-31",
    "synthese_starts_on": "2027-02-01",
    "synthese_ends_on": "2027-02-15",
}


def test_staff_create_a_consultation_in_preparation(db, admin_client):
    response = admin_client.post("/gestion/consultations/nouvelle", data=VALID)
    assert response.status_code == 302
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == "utiles-ensemble-3")
    )
    assert consultation.phase is Phase.PREPARATION
    assert consultation.period(Phase.CONCERTATION).starts_on == date(2026, 12, 1)
    assert consultation.period(Phase.JURY) is None
    # 23:59 in Paris in winter is 22:59 UTC
    assert consultation.proposal_deadline.hour == 22


def test_end_before_start_is_refused_and_nothing_is_written(db, admin_client):
    data = {**VALID, "concertation_ends_on": "2026-11-01"}
    response = admin_client.post("/gestion/consultations/nouvelle", data=data)
    assert response.status_code == 400
    assert "se termine avant de commencer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Consultation.id))) == 0


def test_overlapping_phases_are_refused(db, admin_client):
    data = {**VALID, "synthese_starts_on": "2027-01-15"}
    response = admin_client.post("/gestion/consultations/nouvelle", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Consultation.id))) == 0


def test_half_given_dates_and_bad_slugs_are_refused(db, admin_client):
    for bad in (
        {"synthese_ends_on": ""},
        {"slug": "Pas Valide"},
        {"title": ""},
        {"concertation_starts_on": "pas une date"},
    ):
        response = admin_client.post("/gestion/consultations/nouvelle", data={**VALID, **bad})
        assert response.status_code == 400, bad
    assert db.session.scalar(select(func.count(Consultation.id))) == 0


def test_a_taken_slug_is_a_conflict(db, admin_client):
    factories.make_consultation(slug="utiles-ensemble-3")
    db.session.commit()
    response = admin_client.post("/gestion/consultations/nouvelle", data=VALID)
    assert response.status_code == 409


def test_staff_edit_texts_and_dates(db, admin_client):
    consultation = factories.make_consultation(slug="a-modifier")
    db.session.commit()
    page = admin_client.get("/gestion/consultations/a-modifier")
    assert page.status_code == 200
    assert 'name="concertation_starts_on"' in page.get_data(as_text=True)
    response = admin_client.post("/gestion/consultations/a-modifier", data=VALID)
    assert response.status_code == 302
    db.session.refresh(consultation)
    assert consultation.slug == "utiles-ensemble-3"
    assert consultation.period(Phase.JURY) is None  # cleared dates remove the period
    assert consultation.period(Phase.SYNTHESE).ends_on == date(2027, 2, 15)


def test_an_archived_consultation_is_read_only(db, admin_client):
    factories.make_consultation(slug="archive", phase=Phase.ARCHIVED)
    db.session.commit()
    response = admin_client.post("/gestion/consultations/archive", data=VALID)
    assert response.status_code == 409
    assert db.session.scalar(select(Consultation.slug)) == "archive"


def test_the_manage_list_shows_every_consultation(db, admin_client):
    factories.make_consultation(slug="visible", phase=Phase.PREPARATION)
    db.session.commit()
    assert "/gestion/consultations/visible" in admin_client.get("/gestion/consultations").get_data(
        as_text=True
    )

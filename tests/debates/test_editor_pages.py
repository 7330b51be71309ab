"""Management pages: an editor schedules, edits, publishes, cancels and minutes the debates of
their own region; staff act on all; another region's debate answers 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.core.models import utcnow
from consultation.debates.models import Debate, DebateStatus
from consultation.debates.services import PARIS
from tests import factories
from tests.debates.helpers import association, make_debate, registration

BASE = "/gestion/consultations/ue2/debats"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _form(**changes: object) -> dict[str, object]:
    start = (utcnow() + timedelta(days=7)).astimezone(PARIS).replace(second=0, microsecond=0)
    data: dict[str, object] = {
        "title": "Habiter demain",
        "description": "Un débat ouvert.",
        "starts_at": f"{start:%Y-%m-%dT%H:%M}",
        "ends_at": f"{start + timedelta(hours=2):%Y-%m-%dT%H:%M}",
        "format": "in_person",
        "venue": "Salle des fêtes, Nantes",
        "online_url": "",
        "capacity": "30",
        "partner_id": "",
        "region_code": "",
    }
    data.update(changes)
    return data


def _debates(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Debate))


def test_an_editor_schedules_then_publishes_a_debate(editor_client, db, consultation):
    db.session.commit()
    assert editor_client.get(f"{BASE}/nouveau").status_code == 200
    response = editor_client.post(f"{BASE}/nouveau", data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    debate = db.session.scalar(select(Debate))
    assert (debate.status, debate.region_code, debate.capacity) == (DebateStatus.DRAFT, "52", 30)
    assert debate.starts_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") == _form()["starts_at"]
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Debate saved as a draft." in page and "Publish" in page
    response = editor_client.post(f"{BASE}/{debate.id}/publier", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Debate, debate.id).status is DebateStatus.PUBLISHED
    listing = editor_client.get(BASE).get_data(as_text=True)
    assert "Habiter demain" in listing and "Published" in listing


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"capacity": "-3"}, 400, "The capacity must be a positive number"),
        ({"venue": ""}, 400, "Give the address of the venue."),
        ({"format": "online"}, 400, "Give the link to join the debate online."),
        ({"starts_at": "2001-01-01T18:00", "ends_at": "2001-01-01T20:00"}, 400, "during the"),
        ({"title": ""}, 400, "This field is required."),
        ({"starts_at": "demain"}, 400, "This field is required."),
    ],
)
def test_bad_debate_forms_are_refused_beside_the_field(
    editor_client, db, consultation, changes, status, message
):
    db.session.commit()
    response = editor_client.post(f"{BASE}/nouveau", data=_form(**changes))
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _debates(db) == 0


def test_an_end_before_the_start_is_refused(editor_client, db, consultation):
    db.session.commit()
    form = _form()
    form["ends_at"], form["starts_at"] = form["starts_at"], form["ends_at"]
    response = editor_client.post(f"{BASE}/nouveau", data=form)
    assert response.status_code == 400
    assert "The debate must end after it starts." in response.get_data(as_text=True)
    assert _debates(db) == 0


def test_an_overlap_is_a_warning(editor_client, db, consultation):
    db.session.commit()
    editor_client.post(f"{BASE}/nouveau", data=_form(title="Premier"))
    response = editor_client.post(f"{BASE}/nouveau", data=_form(title="Second"))
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "overlaps “Premier”" in page
    assert _debates(db) == 2


def test_editing_raises_the_sequence_and_a_failed_edit_changes_nothing(
    editor_client, db, consultation
):
    debate = make_debate(consultation, title="Avant")
    db.session.commit()
    url = f"{BASE}/{debate.id}"
    assert "Avant" in editor_client.get(url).get_data(as_text=True)
    assert editor_client.post(url, data=_form(title="Après", capacity="-1")).status_code == 400
    db.session.expire_all()
    assert db.session.get(Debate, debate.id).title == "Avant"
    assert editor_client.post(url, data=_form(title="Après")).status_code == 302
    db.session.expire_all()
    changed = db.session.get(Debate, debate.id)
    assert (changed.title, changed.sequence) == ("Après", 1)


def test_an_editor_of_another_region_gets_404_everywhere(sign_in, db, consultation):
    debate = make_debate(consultation, region_code="11")
    registration(debate)
    db.session.commit()
    editor = sign_in("regional_editor")  # region 52
    for method, path, data in [
        ("GET", f"{BASE}/{debate.id}", None),
        ("POST", f"{BASE}/{debate.id}", _form(title="Piraté")),
        ("POST", f"{BASE}/{debate.id}/publier", {}),
        ("GET", f"{BASE}/{debate.id}/annuler", None),
        ("POST", f"{BASE}/{debate.id}/annuler", {"reason": "Non"}),
        ("GET", f"{BASE}/{debate.id}/compte-rendu", None),
        ("POST", f"{BASE}/{debate.id}/compte-rendu", {"minutes": "Non"}),
        ("GET", f"{BASE}/{debate.id}/inscriptions.csv", None),
    ]:
        response = editor.open(path, method=method, data=data)
        assert response.status_code == 404, f"{method} {path}"
    db.session.expire_all()
    unchanged = db.session.get(Debate, debate.id)
    assert unchanged.title != "Piraté" and unchanged.status is DebateStatus.PUBLISHED
    assert "Débat" not in editor.get(BASE).get_data(as_text=True)


def test_staff_see_and_act_on_every_region(admin_client, db, consultation):
    make_debate(consultation, region_code="11", title="Île-de-France")
    make_debate(consultation, region_code="52", title="Pays de la Loire")
    association("84")
    db.session.commit()
    listing = admin_client.get(BASE).get_data(as_text=True)
    assert "Île-de-France" in listing and "Pays de la Loire" in listing
    response = admin_client.post(f"{BASE}/nouveau", data=_form(region_code="84"))
    assert response.status_code == 302
    created = db.session.scalar(select(Debate).where(Debate.region_code == "84"))
    assert created is not None
    response = admin_client.post(f"{BASE}/nouveau", data=_form(region_code=""))
    assert response.status_code == 400
    assert "Choose the region of the debate." in response.get_data(as_text=True)


def test_cancel_a_debate_from_its_page(editor_client, db, consultation, outbox):
    debate = make_debate(consultation)
    registration(debate, "un@example.org")
    db.session.commit()
    url = f"{BASE}/{debate.id}/annuler"
    assert editor_client.get(url).status_code == 200
    assert editor_client.post(url, data={"reason": ""}).status_code == 400
    response = editor_client.post(url, data={"reason": "Salle fermée"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Debate, debate.id).status is DebateStatus.CANCELLED
    assert outbox()[-1]["Subject"].startswith("Debate cancelled")
    # Cancelling twice is a conflict, not a 500.
    assert editor_client.post(url, data={"reason": "Encore"}).status_code == 409


def test_record_minutes_from_the_page(editor_client, db, consultation):
    debate = make_debate(consultation, starts_at=utcnow() - timedelta(hours=3))
    partner = factories.make_organisation(name="Habitat 44")
    db.session.commit()
    url = f"{BASE}/{debate.id}/compte-rendu"
    assert "Habitat 44" in editor_client.get(url).get_data(as_text=True)
    data = {"minutes": "Compte rendu", "attendance": "-2", "organisations": [str(partner.id)]}
    response = editor_client.post(url, data=data)
    assert response.status_code == 400
    assert "The attendance cannot be negative." in response.get_data(as_text=True)
    data["attendance"] = "25"
    assert editor_client.post(url, data=data).status_code == 302
    db.session.expire_all()
    held = db.session.get(Debate, debate.id)
    assert (held.status, held.attendance, [o.name for o in held.attendees]) == (
        DebateStatus.HELD,
        25,
        ["Habitat 44"],
    )


def test_minutes_before_the_debate_are_a_conflict(editor_client, db, consultation):
    debate = make_debate(consultation)
    db.session.commit()
    response = editor_client.post(f"{BASE}/{debate.id}/compte-rendu", data={"minutes": "Tôt"})
    assert response.status_code == 409


def test_export_registrations_as_csv(editor_client, db, consultation):
    debate = make_debate(consultation)
    registration(debate, "un@example.org", name="Camille")
    db.session.commit()
    response = editor_client.get(f"{BASE}/{debate.id}/inscriptions.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Camille;un@example.org" in response.get_data(as_text=True)
    page = editor_client.get(f"{BASE}/{debate.id}").get_data(as_text=True)
    assert "un@example.org" in page and "1 registered, 0 on the waiting list." in page


def test_contributors_and_anonymous_cannot_manage(client, sign_in, db, consultation):
    debate = make_debate(consultation)
    db.session.commit()
    assert sign_in("contributor").get(BASE).status_code == 403
    assert sign_in("contributor").get(f"{BASE}/{debate.id}").status_code == 403
    assert client.get(BASE).status_code == 302


def test_the_management_list_costs_a_constant_number_of_queries(
    sign_in, db, consultation, count_queries
):
    make_debate(consultation)
    admin = sign_in("admin")
    admin.get(BASE)
    with count_queries() as few:
        admin.get(BASE)
    for region in ("52", "11", "84"):
        for _ in range(3):
            registration(make_debate(consultation, region_code=region, capacity=2))
    db.session.commit()
    with count_queries() as many:
        assert admin.get(BASE).status_code == 200
    assert len(many) == len(few)

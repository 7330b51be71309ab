"""Registration: places, then a waiting list promoted in order; one per email; closed when the
debate is not open; cancellation links; e-mails with the .ics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from consultation.core.errors import Conflict, DomainError, NotFound
from consultation.core.models import utcnow
from consultation.debates import services
from consultation.debates.models import DebateStatus, Registration, RegistrationStatus
from tests import factories
from tests.debates.helpers import make_debate, registration

CANCEL_LINK = re.compile(r"https://debats\.example\.org/inscriptions/([A-Za-z0-9_-]{20,})/annuler")


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _registrations(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


def test_registration_is_confirmed_by_mail_with_the_ics_and_a_cancel_link(db, consultation, outbox):
    debate = make_debate(consultation, capacity=10)
    created = services.register(debate, " Camille  Martin ", "Camille@Example.org", "", utcnow())
    assert created.status is RegistrationStatus.CONFIRMED
    assert (created.name, created.email) == ("Camille Martin", "camille@example.org")
    assert created.cancel_token_hash != created.cancel_token  # only the hash is stored
    [message] = outbox()
    assert message["To"] == "camille@example.org"
    body = message.get_body(("plain",)).get_content()
    assert CANCEL_LINK.search(body).group(1) == created.cancel_token
    assert f"https://debats.example.org/consultations/ue2/debats/{debate.id}" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["UID"]) == f"debate-{debate.id}@debats.example.org"


def test_a_full_debate_offers_the_waiting_list_never_a_refusal(db, consultation, outbox):
    debate = make_debate(consultation, capacity=2)
    statuses = [registration(debate).status for _ in range(4)]
    assert statuses == ["confirmed", "confirmed", "waiting", "waiting"]
    assert "waiting list" in outbox()[-1]["Subject"]


def test_a_cancellation_promotes_the_first_waiting_person_in_order(db, consultation, outbox):
    debate = make_debate(consultation, capacity=1)
    first = registration(debate, "premier@example.org")
    second = registration(debate, "second@example.org")
    third = registration(debate, "troisieme@example.org")
    sent = len(outbox())
    services.cancel_registration(first.cancel_token, utcnow())
    assert first.status is RegistrationStatus.CANCELLED and first.cancelled_at is not None
    assert second.status is RegistrationStatus.CONFIRMED
    assert third.status is RegistrationStatus.WAITING
    [message] = outbox()[sent:]
    assert message["To"] == "second@example.org"
    assert len(list(message.iter_attachments())) == 1
    # Cancelling from the waiting list frees no place: nobody is promoted.
    services.cancel_registration(third.cancel_token, utcnow())
    assert len(outbox()) == sent + 1


def test_a_cancellation_link_works_once(db, consultation):
    debate = make_debate(consultation)
    created = registration(debate)
    services.cancel_registration(created.cancel_token, utcnow())
    with pytest.raises(Conflict):
        services.cancel_registration(created.cancel_token, utcnow())
    with pytest.raises(NotFound):
        services.cancel_registration("not-a-token", utcnow())


def test_one_registration_per_email_and_debate(db, consultation, outbox):
    debate = make_debate(consultation)
    registration(debate, "camille@example.org")
    with pytest.raises(Conflict) as error:
        services.register(debate, "Camille", " CAMILLE@example.org ", "", utcnow())
    assert error.value.status_code == 409 and error.value.field == "email"
    assert _registrations(db) == 1
    assert len(outbox()) == 1
    # The same email may register for another debate.
    registration(make_debate(consultation), "camille@example.org")


def test_someone_who_cancelled_may_register_again(db, consultation):
    debate = make_debate(consultation, capacity=1)
    first = registration(debate, "camille@example.org")
    services.cancel_registration(first.cancel_token, utcnow())
    again = registration(debate, "camille@example.org")
    assert again.id == first.id and again.status is RegistrationStatus.CONFIRMED
    assert again.cancelled_at is None


@pytest.mark.parametrize("email", ["", "pas-une-adresse", "a@", "@example.org", "a b@example.org"])
def test_a_malformed_email_is_refused(db, consultation, outbox, email):
    debate = make_debate(consultation)
    with pytest.raises(DomainError) as error:
        services.register(debate, "Camille", email, "", utcnow())
    assert error.value.status_code == 400 and error.value.field == "email"
    assert _registrations(db) == 0 and outbox() == []


@pytest.mark.parametrize(
    ("status", "starts_in"),
    [
        (DebateStatus.DRAFT, timedelta(days=3)),
        (DebateStatus.CANCELLED, timedelta(days=3)),
        (DebateStatus.HELD, timedelta(hours=-3)),
        (DebateStatus.PUBLISHED, timedelta(hours=-1)),  # started
        (DebateStatus.PUBLISHED, timedelta(days=-3)),  # over
    ],
)
def test_registration_is_closed_unless_published_and_not_started(
    db, consultation, outbox, status, starts_in
):
    debate = make_debate(consultation, status=status, starts_at=utcnow() + starts_in)
    with pytest.raises(Conflict) as error:
        services.register(debate, "Camille", "camille@example.org", "", utcnow())
    assert error.value.status_code == 409
    assert _registrations(db) == 0 and outbox() == []


def test_registrations_export_as_csv_without_formulas(db, consultation):
    debate = make_debate(consultation, capacity=1)
    registration(debate, "un@example.org", name="=HYPERLINK(1)", organisation_name="Hlm 44")
    registration(debate, "deux@example.org")
    lines = services.registrations_csv(debate).splitlines()
    assert lines[0] == "nom;email;organisation;statut;inscrit_le;annule_le"
    assert lines[1].startswith("'=HYPERLINK(1);un@example.org;Hlm 44;confirmed;")
    assert ";deux@example.org;;waiting;" in lines[2]


# --- Through the pages -----------------------------------------------------------------------


def _register(client, debate, email="camille@example.org", **data):
    form = {"name": "Camille Martin", "email": email, "organisation_name": "Hlm 44", **data}
    return client.post(f"/consultations/ue2/debats/{debate.id}/inscription", data=form)


def test_a_visitor_registers_from_the_debate_page(client, db, consultation, outbox):
    debate = make_debate(consultation, capacity=1)
    db.session.commit()
    response = _register(client, debate)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are registered." in page
    assert "0 left of 1" in page and "Join the waiting list" in page
    response = _register(client, debate, email="dominique@example.org")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "you are on the waiting list" in page
    assert [m["To"] for m in outbox()] == ["camille@example.org", "dominique@example.org"]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "pas-une-adresse"}, 400, "is not a valid e-mail address"),
        ({"email": ""}, 400, "This field is required."),
        ({"name": ""}, 400, "This field is required."),
        ({"email": "deja@example.org"}, 409, "is already registered for this debate"),
    ],
)
def test_bad_registrations_are_refused_beside_the_field(
    client, db, consultation, outbox, data, status, message
):
    debate = make_debate(consultation)
    registration(debate, "deja@example.org")
    db.session.commit()
    sent = len(outbox())
    response = _register(client, debate, **data)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert _registrations(db) == 1 and len(outbox()) == sent


def test_registering_for_a_closed_debate_is_a_conflict(client, db, consultation):
    debate = make_debate(consultation, starts_at=utcnow() - timedelta(minutes=5))
    cancelled = make_debate(consultation, status="cancelled")
    draft = make_debate(consultation, status="draft")
    db.session.commit()
    response = _register(client, debate)
    assert response.status_code == 409
    assert "registration is closed" in response.get_data(as_text=True)
    assert _register(client, cancelled).status_code == 409
    assert _register(client, draft).status_code == 404  # the public does not see drafts
    assert _registrations(db) == 0


def test_the_cancellation_link_asks_for_confirmation_then_cancels(client, db, consultation):
    debate = make_debate(consultation, capacity=1)
    first = registration(debate, "un@example.org")
    second = registration(debate, "deux@example.org")
    db.session.commit()
    url = f"/inscriptions/{first.cancel_token}/annuler"
    page = client.get(url).get_data(as_text=True)
    assert "Cancel my registration" in page and debate.title in page
    db.session.refresh(first)
    assert first.status is RegistrationStatus.CONFIRMED  # a GET changes nothing
    response = client.post(url, data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, first.id).status is RegistrationStatus.CANCELLED
    assert db.session.get(Registration, second.id).status is RegistrationStatus.CONFIRMED
    assert client.get(url).status_code == 409
    assert client.get("/inscriptions/unknown/annuler").status_code == 404


def test_a_simultaneous_duplicate_is_a_conflict_not_a_crash(db, consultation, monkeypatch):
    debate = make_debate(consultation)
    original = services._confirmed_count

    def racing(debate_):
        # Another request registers the same email between the check and the insert.
        db.session.add(
            Registration(
                debate_id=debate_.id,
                name="Autre",
                email="camille@example.org",
                status=RegistrationStatus.CONFIRMED,
                cancel_token_hash="x" * 64,
                created_at=utcnow(),
            )
        )
        db.session.flush()
        return original(debate_)

    monkeypatch.setattr(services, "_confirmed_count", racing)
    with pytest.raises(Conflict):
        services.register(debate, "Camille", "camille@example.org", "", utcnow())


def test_changing_a_published_debate_tells_registrants_and_fills_new_places(
    db, consultation, outbox
):
    editor = factories.make_user("regional_editor")
    debate = make_debate(consultation, capacity=1)
    first = registration(debate, "un@example.org")
    waiting = registration(debate, "deux@example.org")
    sent = len(outbox())
    data = services.DebateInput(
        title=debate.title,
        description="",
        starts_at=debate.starts_at + timedelta(hours=1),
        ends_at=debate.ends_at + timedelta(hours=1),
        format=debate.format,
        venue="Nouvelle salle",
        capacity=2,
    )
    services.update_debate(debate, data, editor)
    assert waiting.status is RegistrationStatus.CONFIRMED
    messages = outbox()[sent:]
    changed = [m for m in messages if m["Subject"].startswith("Debate changed")]
    assert sorted(m["To"] for m in changed) == ["deux@example.org", "un@example.org"]
    body = changed[0].get_body(("plain",)).get_content()
    assert "Nouvelle salle" in body
    [event] = Calendar.from_ical(next(changed[0].iter_attachments()).get_content()).walk("VEVENT")
    assert int(event["SEQUENCE"]) == debate.sequence
    assert any(m["Subject"].startswith("A place is yours") for m in messages)
    assert first.status is RegistrationStatus.CONFIRMED
    # A change of the description alone sends nothing.
    sent = len(outbox())
    services.update_debate(
        debate, services.DebateInput(**{**data.__dict__, "description": "x"}), editor
    )
    assert len(outbox()) == sent

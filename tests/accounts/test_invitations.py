"""Invitations: staff send one-time, expiring links; a link creates one account, once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consultation.accounts import services
from consultation.accounts.models import Invitation, OrganisationKind, Role, User, UserSession
from consultation.core.errors import Conflict
from consultation.core.models import utcnow
from tests import factories
from tests.accounts.helpers import assert_error_page, audit_entries, is_signed_in, row_count

PASSWORD = "a long enough passphrase"
LINK = re.compile(r"https?://[^\s<\"]+/invitation/([A-Za-z0-9_-]{20,})")


def _invite(email: str = "new@example.org", role: Role = Role.JUROR, organisation=None, **kw):
    invitation, token = services.invite_user(
        email, role, organisation, kw.get("actor"), kw.get("valid_for", timedelta(days=7))
    )
    return invitation, token


def _accept(client, token: str, name: str = "Camille Martin", password: str = PASSWORD):
    return client.post(
        f"/invitation/{token}",
        data={"display_name": name, "new_password": password, "confirm_password": password},
    )


# --- Creating invitations ----------------------------------------------------------------


def test_staff_invite_someone_and_the_mail_carries_the_link(admin_client, db, outbox):
    organisation = factories.make_organisation(name="Habitat 44")
    db.session.commit()

    response = admin_client.post(
        "/gestion/invitations",
        data={
            "email": "Camille@Example.org",
            "role": "contributor",
            "organisation_id": str(organisation.id),
        },
    )

    assert response.status_code == 200
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitation.email == "camille@example.org"
    assert invitation.role is Role.CONTRIBUTOR
    assert invitation.organisation_id == organisation.id
    assert invitation.invited_by_id == admin_client.user.id
    assert invitation.accepted_at is None
    assert timedelta(days=6, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=7)

    [message] = outbox()
    assert message["To"] == "camille@example.org"
    body = message.get_content()
    token = LINK.search(body).group(1)
    assert services.token_hash_of(token) == invitation.token_hash  # only the hash is stored
    assert token in response.get_data(as_text=True)  # also shown to staff, to pass on
    [entry] = audit_entries("invitation.created")
    assert entry.actor_id == admin_client.user.id
    assert entry.details == {"email": "camille@example.org", "role": "contributor"}


def test_a_contributor_invitation_needs_an_organisation(admin_client, db, outbox):
    response = admin_client.post(
        "/gestion/invitations",
        data={"email": "camille@example.org", "role": "contributor", "organisation_id": ""},
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="organisation_id-errors"' in body  # the message sits beside the field
    assert "This role needs an organisation." in body
    assert row_count(Invitation) == 0
    assert outbox() == []


def test_a_regional_editor_invitation_needs_a_regional_association(admin_client, db, outbox):
    organisme = factories.make_organisation(kind=OrganisationKind.ORGANISME)
    db.session.commit()

    response = admin_client.post(
        "/gestion/invitations",
        data={
            "email": "camille@example.org",
            "role": "regional_editor",
            "organisation_id": str(organisme.id),
        },
    )

    assert response.status_code == 400
    assert "A regional editor belongs to a regional Hlm association." in response.get_data(
        as_text=True
    )
    assert row_count(Invitation) == 0
    assert outbox() == []


@pytest.mark.parametrize("typed", ["alice@example.org", "ALICE@example.org"])
def test_an_invitation_for_an_existing_account_is_refused(admin_client, db, outbox, typed):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = admin_client.post("/gestion/invitations", data={"email": typed, "role": "juror"})

    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'id="email-errors"' in body
    assert "An account already exists for alice@example.org." in body
    assert row_count(Invitation) == 0
    assert outbox() == []


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address", "role": "juror"},
        {"email": "camille@example.org", "role": "emperor"},
        {"email": "camille@example.org", "role": "juror", "organisation_id": "999999"},
        {"email": "camille@example.org", "role": "juror", "organisation_id": "abc"},
    ],
)
def test_invalid_invitation_forms_are_refused(admin_client, db, outbox, data):
    response = admin_client.post("/gestion/invitations", data=data)

    assert response.status_code == 400
    assert row_count(Invitation) == 0
    assert outbox() == []


def test_the_invitations_page_shows_each_invitations_state(admin_client, db):
    _invite("pending@example.org")
    accepted, _ = _invite("accepted@example.org")
    accepted.accepted_at = utcnow()
    expired, _ = _invite("expired@example.org")
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()

    body = admin_client.get("/gestion/invitations").get_data(as_text=True)

    assert re.search(r"pending@example.org.*?pending until", body, re.S)
    assert re.search(r"accepted@example.org.*?accepted on", body, re.S)
    assert re.search(r"expired@example.org.*?expired", body, re.S)


# --- Accepting invitations ---------------------------------------------------------------


def test_the_link_creates_the_account_once_and_signs_in(client, db):
    organisation = factories.make_organisation(name="Habitat 44")
    invitation, token = _invite("camille@example.org", Role.CONTRIBUTOR, organisation)
    db.session.commit()

    page = client.get(f"/invitation/{token}")
    assert page.status_code == 200
    assert "camille@example.org" in page.get_data(as_text=True)
    assert "Habitat 44" in page.get_data(as_text=True)

    response = _accept(client, token, name="  Camille Martin ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.session.scalars(select(User)).one()
    assert user.email == "camille@example.org"
    assert user.display_name == "Camille Martin"
    assert user.role is Role.CONTRIBUTOR
    assert user.organisation_id == organisation.id
    assert user.password_hash.startswith("$argon2id$")
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None
    assert invitation.user_id == user.id
    assert is_signed_in(client)
    assert db.session.scalar(select(UserSession.user_id)) == user.id
    assert [entry.object_id for entry in audit_entries("account.created")] == [str(user.id)]
    [accepted] = audit_entries("invitation.accepted")
    assert accepted.actor_id == user.id


def test_a_used_link_answers_409_and_creates_nothing_more(app, client, db):
    _, token = _invite()
    db.session.commit()
    assert _accept(client, token).status_code == 302

    other = app.test_client()
    assert_error_page(other.get(f"/invitation/{token}"), 409, "already been used")
    assert_error_page(_accept(other, token, name="Someone else"), 409, "already been used")

    assert row_count(User) == 1
    assert db.session.scalar(select(User.display_name)) == "Camille Martin"
    assert not is_signed_in(other)


def test_an_expired_link_answers_410_and_creates_nothing(client, db):
    invitation, token = _invite()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert_error_page(client.get(f"/invitation/{token}"), 410, "This invitation has expired.")
    assert_error_page(_accept(client, token), 410, "This invitation has expired.")

    assert row_count(User) == 0
    db.session.refresh(invitation)
    assert invitation.accepted_at is None
    assert audit_entries("invitation.accepted") == []


@pytest.mark.parametrize("token", ["unknown-token-0123456789abcdef", "x"])
def test_an_unknown_link_answers_404(client, db, token):
    _invite()
    db.session.commit()

    assert_error_page(client.get(f"/invitation/{token}"), 404, "This invitation link is not valid")
    assert_error_page(_accept(client, token), 404)
    assert row_count(User) == 0


@pytest.mark.parametrize(
    ("name", "password", "confirm"),
    [
        ("Camille", "short", "short"),
        ("Camille", PASSWORD, PASSWORD + "?"),
        ("", PASSWORD, PASSWORD),
    ],
)
def test_a_refused_form_leaves_the_invitation_usable(client, db, name, password, confirm):
    invitation, token = _invite()
    db.session.commit()

    response = client.post(
        f"/invitation/{token}",
        data={"display_name": name, "new_password": password, "confirm_password": confirm},
    )

    assert response.status_code == 400
    assert row_count(User) == 0
    db.session.refresh(invitation)
    assert invitation.accepted_at is None
    assert not is_signed_in(client)
    assert _accept(client, token).status_code == 302


def test_an_account_created_meanwhile_for_the_email_is_a_conflict(client, db):
    """The address got an account (say, from the CLI) after the invitation was sent."""
    invitation, token = _invite("camille@example.org")
    factories.make_user(email="camille@example.org", role="juror")
    db.session.commit()

    response = _accept(client, token)

    assert_error_page(response, 409, "An account already exists for camille@example.org.")
    assert row_count(User) == 1
    db.session.refresh(invitation)
    assert invitation.accepted_at is None  # the claim was rolled back with the rest
    assert row_count(UserSession) == 0


def test_accepting_while_signed_in_ends_the_previous_session(db, sign_in):
    browser = sign_in("juror")
    previous_user = browser.user
    _, token = _invite("camille@example.org")
    db.session.commit()

    assert _accept(browser, token).status_code == 302

    sessions = db.session.scalars(select(UserSession)).all()
    assert [s.user_id for s in sessions] != [previous_user.id]
    assert all(s.user_id != previous_user.id for s in sessions)


# --- Two uses at the same time ----------------------------------------------------------


def test_the_claim_is_conditional_so_a_lost_race_is_a_conflict(db, monkeypatch):
    """Between the check and the claim, another request accepts the invitation: this one loses."""
    _, token = _invite()
    db.session.commit()
    find_invitation = services.find_invitation

    def found_then_taken(token: str, now=None):
        found = find_invitation(token, now)
        with db.engine.begin() as other_request:
            other_request.execute(
                update(Invitation).where(Invitation.id == found.id).values(accepted_at=utcnow())
            )
        return found

    monkeypatch.setattr(services, "find_invitation", found_then_taken)

    with pytest.raises(Conflict):
        services.accept_invitation(token, "Camille", PASSWORD)
    db.session.rollback()
    assert row_count(User) == 0


def test_two_simultaneous_accepts_cannot_both_succeed(app, db, monkeypatch):
    _, token = _invite()
    db.session.commit()
    # Hold both requests just before their claim, so that both have passed every check.
    both_checked = threading.Barrier(2, timeout=20)
    waited = threading.local()
    check_password_strength = services.check_password_strength

    def wait_for_the_other(password: str) -> None:
        check_password_strength(password)
        if not getattr(waited, "done", False):
            waited.done = True
            both_checked.wait()

    monkeypatch.setattr(services, "check_password_strength", wait_for_the_other)
    statuses: list[int] = []

    def accept(name: str) -> None:
        statuses.append(_accept(app.test_client(), token, name=name).status_code)

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [302, 409]
    assert row_count(User) == 1
    assert len(audit_entries("invitation.accepted")) == 1

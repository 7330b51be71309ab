"""Forgotten passwords: a one-time, expiring link by e-mail; the answer never reveals an account."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, select, update

from consultation.accounts import services
from consultation.accounts.models import PasswordReset, User
from consultation.core.errors import Conflict
from consultation.core.models import utcnow
from consultation.extensions import db as _db
from tests import factories
from tests.accounts.helpers import (
    assert_error_page,
    audit_entries,
    copy_session_cookie,
    is_signed_in,
    post_sign_in,
    row_count,
    session_count,
)

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"(https?://[^\s<\"]+)/mot-de-passe/([A-Za-z0-9_-]{20,})")
SENT = "If an account uses this address, we have sent it a link to choose a new password."
TOO_MANY = "Too many attempts in a short time. Wait a minute, then try again."


def _ask(client, email_address: str, address: str = "127.0.0.1", **kwargs):
    """Send the forgotten-password form from `address`."""
    return client.post(
        "/mot-de-passe-oublie",
        data={"email": email_address},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def _choose(client, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(
        f"/mot-de-passe/{token}",
        data={
            "new_password": password,
            "confirm_password": password if confirm is None else confirm,
        },
    )


def _token_from(message) -> str:
    return LINK.search(message.get_content()).group(2)


def _reset_for(user: User) -> tuple[PasswordReset, str]:
    """A reset link for `user`, asked for through the service; returns it with its token."""
    tokens: list[str] = []
    with current_app.test_request_context("/"):  # the mail is rendered as for a request
        services.request_password_reset(user.email, lambda token: tokens.append(token) or token)
    [token] = tokens
    reset = _db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == services.token_hash_of(token))
    )
    return reset, token


def _password_is(user: User, password: str) -> bool:
    _db.session.refresh(user)
    try:
        return services._hasher.verify(user.password_hash or "", password)
    except (VerificationError, InvalidHashError):
        return False


# --- The whole flow ----------------------------------------------------------------------


def test_a_forgotten_password_is_replaced_through_the_mailed_link(app, client, db, outbox, sign_in):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    elsewhere = sign_in(user)
    thief = copy_session_cookie(elsewhere, app)
    assert is_signed_in(thief)

    page = client.get("/mot-de-passe-oublie")
    assert page.status_code == 200
    response = _ask(client, "  Alice@Example.org ")

    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    [message] = outbox()
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == "Choose a new password for Utiles ensemble"
    base_url, token = LINK.search(message.get_content()).groups()
    assert base_url == app.config["BASE_URL"]
    reset = db.session.scalars(select(PasswordReset)).one()
    assert reset.user_id == user.id
    assert reset.token_hash == services.token_hash_of(token)  # only the hash is stored
    assert timedelta(minutes=59) < reset.expires_at - utcnow() <= timedelta(hours=1)
    assert reset.used_at is None
    assert _password_is(user, factories.PASSWORD)  # asking changes nothing yet
    assert is_signed_in(elsewhere)

    form = client.get(f"/mot-de-passe/{token}")
    assert form.status_code == 200
    assert "alice@example.org" in form.get_data(as_text=True)
    response = _choose(client, token)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your new password is saved" in client.get("/", follow_redirects=True).get_data(
        as_text=True
    )
    assert is_signed_in(client)
    assert _password_is(user, NEW_PASSWORD)
    assert user.password_hash.startswith("$argon2id$")
    assert not _password_is(user, factories.PASSWORD)
    db.session.refresh(reset)
    assert reset.used_at is not None
    # Every other browser is signed out, a copied cookie included; only this one remains.
    assert not is_signed_in(elsewhere)
    assert not is_signed_in(thief)
    assert session_count(user.id) == 1
    # The old password no longer signs in; the new one does.
    assert post_sign_in(app.test_client(), "alice@example.org").status_code == 401
    assert post_sign_in(app.test_client(), "alice@example.org", NEW_PASSWORD).status_code == 302
    # The link worked once.
    assert_error_page(client.get(f"/mot-de-passe/{token}"), 409, "already been used")

    [requested] = audit_entries("account.password_reset_requested")
    assert (requested.object_type, requested.object_id) == ("User", str(user.id))
    assert requested.actor_id is None
    [done] = audit_entries("account.password_reset")
    assert (done.object_type, done.object_id) == ("User", str(user.id))
    assert done.actor_id == user.id
    assert done.details == {"sessions_ended": 1}


def test_the_sign_in_page_links_to_the_forgotten_password_page(client):
    body = client.get("/connexion").get_data(as_text=True)

    assert 'href="/mot-de-passe-oublie"' in body
    assert "Forgot your password?" in body


# --- No account probing ------------------------------------------------------------------


def test_the_answer_is_the_same_whether_or_not_the_account_can_reset(app, db, outbox):
    factories.make_user(email="alice@example.org")
    factories.make_user(email="gone@example.org", is_active=False)
    factories.make_user(email="nopassword@example.org", password_hash=None)
    db.session.commit()

    answers = {
        typed: _ask(app.test_client(), typed)
        for typed in (
            "nobody@example.org",
            "gone@example.org",
            "nopassword@example.org",
            "alice@example.org",
        )
    }

    assert {response.status_code for response in answers.values()} == {200}
    bodies = {response.get_data(as_text=True) for response in answers.values()}
    assert len(bodies) == 1
    assert SENT in bodies.pop()
    # Only the account that can reset gets a mail, a link and an audit entry.
    assert [message["To"] for message in outbox()] == ["alice@example.org"]
    assert [reset.user.email for reset in db.session.scalars(select(PasswordReset))] == [
        "alice@example.org"
    ]
    assert len(audit_entries("account.password_reset_requested")) == 1


@pytest.mark.parametrize("typed", ["", "not an address", "a" * 320 + "@example.org"])
def test_an_invalid_address_is_a_form_error(client, db, outbox, typed):
    response = _ask(client, typed)

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="email-errors"' in body
    assert SENT not in body
    assert outbox() == []
    assert row_count(PasswordReset) == 0


def test_the_link_is_built_from_the_base_url_not_the_host_header(app, client, db, outbox):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = _ask(client, "alice@example.org", headers={"Host": "evil.example"})

    assert response.status_code == 200
    [message] = outbox()
    assert "evil.example" not in message.get_content()
    assert LINK.search(message.get_content()).group(1) == app.config["BASE_URL"]


# --- Links that cannot be used -----------------------------------------------------------


def _assert_nothing_written(user: User, password_hash: str, sessions: int) -> None:
    _db.session.refresh(user)
    assert user.password_hash == password_hash
    assert session_count(user.id) == sessions
    assert audit_entries("account.password_reset") == []


def test_a_used_link_answers_409_and_changes_nothing_more(app, client, db):
    user = factories.make_user()
    _, token = _reset_for(user)
    db.session.commit()
    assert _choose(client, token).status_code == 302
    db.session.refresh(user)
    after_first_use = user.password_hash

    other = app.test_client()
    assert_error_page(other.get(f"/mot-de-passe/{token}"), 409, "already been used")
    assert_error_page(_choose(other, token, "yet another passphrase"), 409, "already been used")

    db.session.refresh(user)
    assert user.password_hash == after_first_use
    assert not is_signed_in(other)
    assert session_count(user.id) == 1
    assert len(audit_entries("account.password_reset")) == 1


def test_an_expired_link_answers_410_and_changes_nothing(client, db, sign_in):
    user = factories.make_user()
    reset, token = _reset_for(user)
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    elsewhere = sign_in(user)
    before = user.password_hash

    assert_error_page(client.get(f"/mot-de-passe/{token}"), 410, "has expired")
    assert_error_page(_choose(client, token), 410, "has expired")

    _assert_nothing_written(user, before, sessions=1)
    db.session.refresh(reset)
    assert reset.used_at is None
    assert is_signed_in(elsewhere)
    assert not is_signed_in(client)


@pytest.mark.parametrize("token", ["unknown-token-0123456789abcdef", "x"])
def test_an_unknown_link_answers_404_and_changes_nothing(client, db, sign_in, token):
    user = factories.make_user()
    _reset_for(user)
    db.session.commit()
    elsewhere = sign_in(user)
    before = user.password_hash

    assert_error_page(client.get(f"/mot-de-passe/{token}"), 404, "link is not valid")
    assert_error_page(_choose(client, token), 404, "link is not valid")

    _assert_nothing_written(user, before, sessions=1)
    assert is_signed_in(elsewhere)


def test_a_link_of_an_account_deactivated_since_answers_404(client, db):
    user = factories.make_user()
    reset, token = _reset_for(user)
    user.is_active = False
    db.session.commit()
    before = user.password_hash

    assert_error_page(client.get(f"/mot-de-passe/{token}"), 404, "link is not valid")
    assert_error_page(_choose(client, token), 404)

    _assert_nothing_written(user, before, sessions=0)
    db.session.refresh(reset)
    assert reset.used_at is None


@pytest.mark.parametrize(
    ("password", "confirm", "field"),
    [
        ("short", "short", "new_password"),
        ("eleven char", "eleven char", "new_password"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm_password"),
        ("", "", "new_password"),
    ],
)
def test_a_weak_or_mistyped_password_is_a_form_error_and_the_link_stays_usable(
    client, db, sign_in, password, confirm, field
):
    user = factories.make_user()
    reset, token = _reset_for(user)
    db.session.commit()
    elsewhere = sign_in(user)
    before = user.password_hash

    response = _choose(client, token, password, confirm)

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in body
    assert 'aria-invalid="true"' in body
    _assert_nothing_written(user, before, sessions=1)
    db.session.refresh(reset)
    assert reset.used_at is None
    assert is_signed_in(elsewhere)
    assert not is_signed_in(client)
    assert _choose(client, token).status_code == 302


def test_using_one_link_voids_the_others_sent_to_the_account(client, db, outbox):
    user = factories.make_user(email="alice@example.org")
    other_user = factories.make_user(email="bob@example.org")
    db.session.commit()
    for typed in ("alice@example.org", "alice@example.org", "bob@example.org"):
        assert _ask(client, typed).status_code == 200
    first, second, bobs = (_token_from(message) for message in outbox())

    assert _choose(client, second).status_code == 302

    assert_error_page(client.get(f"/mot-de-passe/{first}"), 409, "already been used")
    pending = db.session.scalars(select(PasswordReset).where(PasswordReset.used_at.is_(None)))
    assert [reset.user_id for reset in pending] == [other_user.id]  # other accounts keep theirs
    assert client.get(f"/mot-de-passe/{bobs}").status_code == 200
    assert _password_is(user, NEW_PASSWORD)


def test_deleting_an_account_deletes_its_links(db):
    user = factories.make_user()
    _reset_for(user)
    db.session.commit()

    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()

    assert row_count(PasswordReset) == 0


def test_the_claim_is_conditional_so_a_lost_race_is_a_conflict(db, monkeypatch):
    """Between the check and the claim, another request uses the link: this one loses."""
    user = factories.make_user()
    _, token = _reset_for(user)
    db.session.commit()
    before = user.password_hash
    find_password_reset = services.find_password_reset

    def found_then_used(token: str, now=None):
        found = find_password_reset(token, now)
        with db.engine.begin() as other_request:
            other_request.execute(
                update(PasswordReset).where(PasswordReset.id == found.id).values(used_at=utcnow())
            )
        return found

    monkeypatch.setattr(services, "find_password_reset", found_then_used)

    with pytest.raises(Conflict):
        services.reset_password(token, NEW_PASSWORD)
    db.session.rollback()
    db.session.refresh(user)
    assert user.password_hash == before


def test_two_simultaneous_uses_of_one_link_cannot_both_succeed(app, db, monkeypatch):
    user = factories.make_user()
    _, token = _reset_for(user)
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

    def choose(password: str) -> None:
        statuses.append(_choose(app.test_client(), token, password).status_code)

    passwords = ("first new passphrase", "second new passphrase")
    threads = [threading.Thread(target=choose, args=(password,)) for password in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [302, 409]
    assert len(audit_entries("account.password_reset")) == 1
    assert session_count(user.id) == 1
    assert [_password_is(user, password) for password in passwords].count(True) == 1


# --- Rate limits -------------------------------------------------------------------------


@pytest.fixture
def limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_sixth_request_from_one_address_gets_429(limited, client, db, outbox):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    for number in range(5):  # a different email each time: only the address limit counts
        response = _ask(client, f"guess{number}@example.org", address="198.51.100.1")
        assert response.status_code == 200

    response = _ask(client, "alice@example.org", address="198.51.100.1")

    assert_error_page(response, 429, TOO_MANY)
    assert "Retry-After" in response.headers
    assert outbox() == []
    assert row_count(PasswordReset) == 0
    assert _ask(client, "alice@example.org", address="198.51.100.2").status_code == 200


def test_sixth_request_for_one_email_from_new_addresses_gets_429(limited, client, db, outbox):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    for number in range(5):
        response = _ask(client, "alice@example.org", address=f"203.0.113.{number}")
        assert response.status_code == 200

    # However its email is typed, the account is held back whatever the address.
    response = _ask(client, " ALICE@example.org", address="203.0.113.99")

    assert_error_page(response, 429, TOO_MANY)
    assert len(outbox()) == 5
    assert _ask(client, "bob@example.org", address="203.0.113.99").status_code == 200


def test_showing_the_forgotten_password_page_is_not_limited(limited, client):
    for _ in range(8):
        assert client.get("/mot-de-passe-oublie").status_code == 200

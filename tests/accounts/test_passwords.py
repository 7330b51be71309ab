"""Passwords: argon2id hashes, the change form and its refusals."""

from __future__ import annotations

import pytest

from consultation.accounts import services
from consultation.core.errors import DomainError
from tests import factories
from tests.accounts.helpers import audit_entries, is_signed_in, session_count

NEW_PASSWORD = "a brand new passphrase"


def _change(client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_hashes_are_argon2id():
    hashed = services.hash_password("some long password")

    assert hashed.startswith("$argon2id$")
    assert services.hash_password("some long password") != hashed  # salted


def test_password_change_stores_a_new_argon2id_hash(db, sign_in):
    user = factories.make_user()
    db.session.commit()
    client = sign_in(user)

    response = _change(client, factories.PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert services._hasher.verify(user.password_hash, NEW_PASSWORD)
    [entry] = audit_entries("account.password_changed")
    assert entry.actor_id == user.id
    assert entry.object_id == str(user.id)


def test_wrong_current_password_is_refused_and_nothing_changes(db, sign_in):
    user = factories.make_user()
    db.session.commit()
    client, other_browser = sign_in(user), sign_in(user)
    before = user.password_hash

    response = _change(client, "not my password", NEW_PASSWORD)

    assert response.status_code == 400
    assert "The current password is incorrect." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before
    assert session_count(user.id) == 2
    assert is_signed_in(other_browser)
    assert audit_entries("account.password_changed") == []


@pytest.mark.parametrize(
    ("new", "confirm"),
    [
        ("short", "short"),
        ("eleven char", "eleven char"),
        (NEW_PASSWORD, NEW_PASSWORD + "!"),  # confirmation differs
        ("", ""),
    ],
)
def test_weak_or_mistyped_new_password_is_refused(db, sign_in, new, confirm):
    user = factories.make_user()
    db.session.commit()
    client = sign_in(user)
    before = user.password_hash

    response = _change(client, factories.PASSWORD, new, confirm)

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before
    assert is_signed_in(client)


def test_the_service_refuses_short_passwords_too():
    with pytest.raises(DomainError, match="at least 12 characters"):
        services.check_password_strength("x" * (services.MIN_PASSWORD_LENGTH - 1))
    services.check_password_strength("x" * services.MIN_PASSWORD_LENGTH)


def test_a_user_without_password_cannot_change_it_without_the_current_one(db, sign_in):
    user = factories.make_user(password_hash=None)
    db.session.commit()
    client = sign_in(user)

    response = _change(client, "anything at all", NEW_PASSWORD)

    assert response.status_code == 400
    db.session.refresh(user)
    assert user.password_hash is None


def test_anonymous_visitors_cannot_change_a_password(client):
    assert _change(client, factories.PASSWORD, NEW_PASSWORD).status_code == 401

"""Server-side sessions: sign-out, password change and deactivation really revoke a cookie."""

from __future__ import annotations

import re

from consultation.accounts.models import User, UserSession
from tests import factories
from tests.accounts.helpers import (
    audit_entries,
    copy_session_cookie,
    is_signed_in,
    post_sign_in,
    session_count,
)

NEW_PASSWORD = "a brand new passphrase"


def _signed_in_by_form(app, email_address: str):
    client = app.test_client()
    assert post_sign_in(client, email_address).status_code == 302
    return client


def test_a_copied_cookie_stops_working_after_sign_out(app, db):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    browser = _signed_in_by_form(app, "alice@example.org")
    thief = copy_session_cookie(browser, app)
    assert is_signed_in(thief)

    response = browser.post("/deconnexion")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert session_count(user.id) == 0
    assert not is_signed_in(thief)
    assert not is_signed_in(browser)
    [entry] = audit_entries("auth.signed_out")
    assert entry.actor_id == user.id


def test_sign_out_only_ends_this_browser(app, db, sign_in):
    user = factories.make_user()
    db.session.commit()
    laptop, phone = sign_in(user), sign_in(user)

    laptop.post("/deconnexion")

    assert not is_signed_in(laptop)
    assert is_signed_in(phone)
    assert session_count(user.id) == 1


def test_sign_out_is_a_post(admin_client, client):
    assert admin_client.get("/deconnexion").status_code == 405
    assert is_signed_in(admin_client)
    assert client.post("/deconnexion").status_code == 401


def test_password_change_ends_the_other_sessions_and_keeps_this_one(app, db, sign_in):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    here, elsewhere = sign_in(user), sign_in(user)
    thief = copy_session_cookie(elsewhere, app)

    response = here.post(
        "/compte/mot-de-passe",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/compte"
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert not is_signed_in(thief)
    assert session_count(user.id) == 1
    assert post_sign_in(app.test_client(), "alice@example.org", NEW_PASSWORD).status_code == 302
    assert post_sign_in(app.test_client(), "alice@example.org").status_code == 401


def test_deactivation_by_an_admin_ends_every_session(app, db, admin_client, sign_in):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    browser = sign_in(user)
    thief = copy_session_cookie(browser, app)

    response = admin_client.post(
        f"/gestion/utilisateurs/{user.id}/activation", data={"active": "0"}
    )

    assert response.status_code == 302
    assert not is_signed_in(browser)
    assert not is_signed_in(thief)
    assert session_count(user.id) == 0
    assert db.session.get(User, user.id).is_active is False
    [entry] = audit_entries("account.deactivated")
    assert entry.actor_id == admin_client.user.id
    assert entry.object_id == str(user.id)


def test_a_deactivated_users_remaining_session_is_refused(app, db, sign_in):
    """Even a session row that survived deactivation (restored backup, race) lets no one in."""
    user = factories.make_user()
    db.session.commit()
    browser = sign_in(user)
    user.is_active = False
    db.session.commit()

    assert not is_signed_in(browser)


def test_account_page_lists_the_users_sessions(app, db, sign_in):
    user = factories.make_user()
    other_user = factories.make_user()
    db.session.commit()
    here, _elsewhere = sign_in(user), sign_in(user)
    sign_in(other_user)
    other_session_id = db.session.scalar(  # `elsewhere`, opened after `here`
        db.select(UserSession.id)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.id.desc())
    )

    body = here.get("/compte").get_data(as_text=True)

    revoke_urls = re.findall(r'action="(/compte/sessions/\d+/fermer)"', body)
    # Two browsers: this one (no button) and the other one; never the other user's session.
    assert revoke_urls == [f"/compte/sessions/{other_session_id}/fermer"]
    assert body.count("<tr>") == 1 + 2  # header row and one row per session
    assert user.email in body


def test_signing_out_another_browser_from_the_account_page(app, db, sign_in):
    user = factories.make_user()
    db.session.commit()
    elsewhere = sign_in(user)
    here = sign_in(user)
    elsewhere_id = min(db.session.scalars(db.select(UserSession.id)))

    response = here.post(f"/compte/sessions/{elsewhere_id}/fermer")

    assert response.status_code == 302
    assert response.headers["Location"] == "/compte"
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)
    [entry] = audit_entries("auth.session_revoked")
    assert entry.details["session_id"] == elsewhere_id


def test_another_users_session_cannot_be_touched(app, db, sign_in):
    mallory = sign_in("contributor")
    victim = sign_in("contributor")
    victim_session_id = db.session.scalar(
        db.select(UserSession.id).where(UserSession.user_id == victim.user.id)
    )

    response = mallory.post(f"/compte/sessions/{victim_session_id}/fermer")

    assert response.status_code == 404
    assert is_signed_in(victim)
    assert session_count(victim.user.id) == 1
    assert audit_entries("auth.session_revoked") == []


def test_an_unknown_session_is_not_found(admin_client):
    assert admin_client.post("/compte/sessions/999999/fermer").status_code == 404


def test_anonymous_visitors_have_no_account_page(client):
    response = client.get("/compte")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")
    assert client.post("/compte/sessions/1/fermer").status_code == 401


def test_a_forged_cookie_is_not_a_session(app, db):
    user = factories.make_user()
    db.session.commit()
    forger = app.test_client()
    with forger.session_transaction() as session:
        session["_user_id"] = str(user.id)  # the user id, as Flask-Login usually stores it

    assert not is_signed_in(forger)


def test_the_account_page_runs_a_constant_number_of_queries(db, sign_in, count_queries):
    user = factories.make_user()
    db.session.commit()
    client = sign_in(user)

    def queries() -> int:
        client.get("/compte")
        with count_queries() as statements:
            assert client.get("/compte").status_code == 200
        return len(statements)

    few = queries()
    for _ in range(20):
        sign_in(user)
    assert queries() == few


def test_sessions_expire_when_idle_or_too_old(app, db):
    from datetime import timedelta

    from sqlalchemy import func, select

    from consultation.accounts import services
    from consultation.core.models import utcnow

    user = factories.make_user()
    token = services.start_session(user, "127.0.0.1", "pytest")
    now = utcnow()
    assert services.load_session_user(token, now + timedelta(days=6)) is not None
    assert services.load_session_user(token, now + timedelta(days=14)) is None  # idle 8 days
    sessions = select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    assert db.session.scalar(sessions) == 0  # the expired session is gone for good

    old = services.start_session(user, "127.0.0.1", "pytest")
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    row.created_at = now - timedelta(days=31)
    assert services.load_session_user(old, now) is None

"""Nobody learns which e-mail addresses have an account: sign-in, the password reset and the
invitation links answer the same way, and as fast, whether the address is known or not.

Rate limits are off in testing (RATELIMIT_ENABLED), so the many attempts here are not refused.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from consultation.accounts import services as account_services
from consultation.accounts.models import Invitation, Role
from consultation.core.models import utcnow
from tests import factories
from tests.security.helpers import without_tokens

KNOWN = "alice@example.org"
UNKNOWN = "nobody@example.org"
DEACTIVATED = "gone@example.org"
ATTEMPTS = 15


def _page(response, email_address: str) -> str:
    """The answer with what legitimately differs removed: tokens and the address typed."""
    return without_tokens(response.get_data(as_text=True)).replace(email_address, "EMAIL")


def _users(db) -> None:
    factories.make_user(email=KNOWN)
    factories.make_user(email=DEACTIVATED, is_active=False)
    db.session.commit()


def test_sign_in_answers_the_same_to_unknown_wrong_and_deactivated(app, db):
    _users(db)
    attempts = {
        UNKNOWN: factories.PASSWORD,
        KNOWN: "not the password",
        DEACTIVATED: factories.PASSWORD,  # even the right password says nothing more
    }
    answers = {}
    for email_address, password in attempts.items():
        response = app.test_client().post(
            "/connexion", data={"email": email_address, "password": password}
        )
        answers[email_address] = (response.status_code, _page(response, email_address))

    statuses = {status for status, _ in answers.values()}
    assert statuses == {401}
    bodies = {body for _, body in answers.values()}
    assert len(bodies) == 1, "the sign-in page differs between unknown, wrong and deactivated"
    assert "Adresse électronique ou mot de passe incorrect" in bodies.pop()


def test_sign_in_takes_as_long_for_an_unknown_address(app, db):
    """The unknown address is checked against a dummy argon2 hash, so that the time of the
    answer does not tell a known address either."""
    _users(db)
    client = app.test_client()
    durations: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}

    def attempt(email_address: str) -> None:
        start = time.perf_counter()
        response = client.post("/connexion", data={"email": email_address, "password": "wrong"})
        durations[email_address].append(time.perf_counter() - start)
        assert response.status_code == 401

    attempt(KNOWN)  # warm up (templates, caches)
    durations[KNOWN].clear()
    for _ in range(ATTEMPTS):  # interleaved, so that a busy machine slows both alike
        attempt(KNOWN)
        attempt(UNKNOWN)

    known, unknown = (statistics.median(durations[address]) for address in (KNOWN, UNKNOWN))
    assert 0.5 < unknown / known < 2, f"median {unknown=:.4f}s, {known=:.4f}s"


def test_the_password_reset_request_answers_the_same_and_mails_only_the_known(app, db, outbox):
    _users(db)
    answers = {}
    for email_address in (KNOWN, UNKNOWN, DEACTIVATED):
        response = app.test_client().post("/mot-de-passe-oublie", data={"email": email_address})
        answers[email_address] = (response.status_code, _page(response, email_address))

    assert {status for status, _ in answers.values()} == {200}
    assert len({body for _, body in answers.values()}) == 1
    messages = outbox()
    assert [message["To"] for message in messages] == [KNOWN]


def test_an_unusable_invitation_link_does_not_tell_its_address(app, db):
    """Unknown, expired and used links each say what is wrong with the link, never whose it
    was, nor whether that address has an account."""
    admin = factories.make_user("admin")
    expired, expired_token = account_services.invite_user(
        "expired@example.org", Role.JUROR, None, admin, timedelta(days=1)
    )
    expired.expires_at = utcnow() - timedelta(minutes=1)
    used, used_token = account_services.invite_user(
        "used@example.org", Role.JUROR, None, admin, timedelta(days=1)
    )
    used.accepted_at = utcnow()
    db.session.commit()
    client = app.test_client()
    form = {"display_name": "X", "new_password": "a" * 20, "confirm_password": "a" * 20}

    for token, status in (("unknown-token", 404), (expired_token, 410), (used_token, 409)):
        for method in ("GET", "POST"):
            response = client.open(f"/invitation/{token}", method=method, data=form)
            body = response.get_data(as_text=True)
            assert response.status_code == status, (token, method)
            assert 'class="error-page"' in body
            for address in ("expired@example.org", "used@example.org", admin.email):
                assert address not in body, (token, method, address)
    db.session.expire_all()
    assert db.session.get(Invitation, used.id).accepted_at is not None
    assert db.session.get(Invitation, expired.id).accepted_at is None

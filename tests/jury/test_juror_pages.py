"""Jurors' pages: the invitation a drawn member opens (accept with a juror account, or
decline), and the staff's list of jurors with their answers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from consultation.accounts.models import Invitation, Role, User
from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.jury import ballots, jurors
from consultation.jury.models import DrawKind, Juror, JurorStatus
from tests import factories
from tests.accounts.helpers import assert_error_page, is_signed_in
from tests.jury.factories import frozen_version, make_draw, make_juror, make_member, make_quotas

PASSWORD = "a long enough passphrase"
FEATURES = {"genre": "femme", "age": "35-64"}
LINK = re.compile(r"https?://\S+/consultations/([\w-]+)/jury/invitation/([A-Za-z0-9_-]{20,})")


def _drawn(db, count: int = 1, consultation=None, **member_fields):  # type: ignore[no-untyped-def]
    """A consultation in its jury phase and `count` drawn members not sent a link yet."""
    if consultation is None:
        consultation = factories.make_consultation(phase=Phase.JURY)
        make_quotas(consultation)
    draw = make_draw(consultation, panel_size=count)
    drawn = [
        make_juror(
            consultation,
            status=JurorStatus.INVITED,
            draw=draw,
            member=make_member(consultation, FEATURES, **member_fields),
        )
        for _ in range(count)
    ]
    return consultation, drawn


def _staff_url(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"/gestion/consultations/{consultation.slug}/jury/jures"


def _invite(app, db, juror) -> str:  # type: ignore[no-untyped-def]
    """Invite through the service, as the staff page does; returns the token."""
    with app.test_request_context("/"):
        token = jurors.invite_juror(juror, None, utcnow(), lambda t: f"https://x/{t}")
    db.session.commit()
    return token


def _page(consultation, token: str) -> str:  # type: ignore[no-untyped-def]
    return f"/consultations/{consultation.slug}/jury/invitation/{token}"


def _accept(client, consultation, token, password=PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        _page(consultation, token),
        data={"display_name": "Camille", "new_password": password, "confirm_password": password},
    )


# --- Staff: sending the invitations ------------------------------------------------------------


def test_staff_send_the_pending_invitations_and_the_mail_carries_the_link(
    db, admin_client, outbox, client
):
    consultation, drawn = _drawn(db, 2)
    db.session.commit()

    response = admin_client.post(f"{_staff_url(consultation)}/inviter")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(_staff_url(consultation))
    messages = outbox()
    assert sorted(m["To"] for m in messages) == sorted(j.member.contact.email for j in drawn)
    body = messages[0].get_content()
    slug, token = LINK.search(body).groups()
    assert slug == consultation.slug
    assert client.get(_page(consultation, token)).status_code == 200
    assert body.count("http") == 1  # one link: accept or decline from the same page
    page = admin_client.get(_staff_url(consultation))
    assert "2 invitations sent." in page.text
    for juror in drawn:
        db.session.refresh(juror)
        assert juror.invitation_id is not None
    # Nothing left to send: the button says so rather than sending again.
    again = admin_client.post(f"{_staff_url(consultation)}/inviter", follow_redirects=True)
    assert "Every drawn member has already been sent an invitation." in again.text
    assert len(outbox()) == 2


def test_a_member_without_an_email_is_reported_and_the_others_invited(db, admin_client, outbox):
    consultation, drawn = _drawn(db, 2)
    drawn[0].member.contact.email = None
    db.session.commit()

    response = admin_client.post(f"{_staff_url(consultation)}/inviter", follow_redirects=True)

    assert response.status_code == 200
    assert "1 invitation sent." in response.text
    assert "1 drawn member could not be invited" in response.text
    assert "No e-mail address" in response.text
    assert [m["To"] for m in outbox()] == [drawn[1].member.contact.email]

    one = admin_client.post(f"{_staff_url(consultation)}/{drawn[0].id}/relancer")
    assert one.status_code == 400
    assert f"Pool member {drawn[0].member.reference} has no e-mail address" in one.text


def test_staff_send_one_juror_a_new_link_and_the_old_one_stops_working(
    app, db, admin_client, outbox, client
):
    consultation, [juror] = _drawn(db)
    db.session.commit()
    url = f"{_staff_url(consultation)}/{juror.id}/relancer"

    assert admin_client.post(url).status_code == 303
    assert admin_client.post(url).status_code == 303

    first, second = (LINK.search(m.get_content()).group(2) for m in outbox())
    assert_error_page(client.get(_page(consultation, first)), 410, "a newer one may have been sent")
    assert client.get(_page(consultation, second)).status_code == 200


def test_a_juror_of_another_consultation_is_not_found(db, admin_client, outbox):
    consultation, _ = _drawn(db)
    other, [elsewhere] = _drawn(db)
    db.session.commit()

    response = admin_client.post(f"{_staff_url(consultation)}/{elsewhere.id}/relancer")

    assert response.status_code == 404
    assert admin_client.post(f"{_staff_url(consultation)}/999999/relancer").status_code == 404
    assert outbox() == []
    assert other.id != consultation.id


def test_a_juror_who_answered_is_not_sent_a_new_link(db, admin_client, outbox):
    consultation = factories.make_consultation(phase=Phase.JURY)
    juror = make_juror(consultation, status=JurorStatus.DECLINED)
    db.session.commit()

    response = admin_client.post(f"{_staff_url(consultation)}/{juror.id}/relancer")

    assert response.status_code == 409
    assert "already answered" in response.text
    assert outbox() == []


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
def test_only_staff_see_the_jurors(db, sign_in, role):
    consultation, _ = _drawn(db)
    db.session.commit()

    assert sign_in(role).get(_staff_url(consultation)).status_code == 403


def test_unknown_consultation_is_not_found(db, admin_client):
    assert admin_client.get("/gestion/consultations/nowhere/jury/jures").status_code == 404


# --- Staff: the list of jurors -----------------------------------------------------------------


def test_the_staff_page_shows_each_jurors_status_and_contact(app, db, admin_client):
    consultation, drawn = _drawn(db, 4, full_name="Dominique Durand")
    _invite(app, db, drawn[1])
    expired_token = _invite(app, db, drawn[2])
    db.session.execute(
        update(Invitation)
        .where(Invitation.id == drawn[2].invitation_id)
        .values(expires_at=utcnow() - timedelta(days=1))
    )
    declined = make_juror(consultation, status=JurorStatus.DECLINED, draw=drawn[0].draw)
    accepted = make_juror(consultation, status=JurorStatus.ACCEPTED, draw=drawn[0].draw)
    replacement = make_draw(consultation, kind=DrawKind.REPLACEMENT)
    late = make_juror(consultation, status=JurorStatus.INVITED, draw=replacement)
    db.session.commit()

    response = admin_client.get(_staff_url(consultation))

    assert response.status_code == 200
    body = response.text
    assert "Dominique Durand" in body
    assert drawn[0].member.contact.email in body

    def row(juror: Juror) -> str:
        match = re.search(rf'<tr id="juror-{juror.id}">(.*?)</tr>', body, re.S)
        assert match, juror
        return match.group(1)

    assert "Not invited yet" in row(drawn[0])
    assert "Send the invitation" in row(drawn[0])
    assert "no answer yet, link valid until" in row(drawn[1])
    assert "Send a new link" in row(drawn[1])
    assert "Link expired on" in row(drawn[2])
    assert "Declined the invitation" in row(declined)
    assert "relancer" not in row(declined)
    assert "Accepted the invitation" in row(accepted)
    assert "Not invited yet" in row(late)
    assert "Replacement draw 2" in body
    summary = re.sub(r">\s+<", "><", body)
    assert "<dt>Drawn members</dt><dd>7</dd>" in summary
    assert "<dt>Invitation sent</dt><dd>2</dd>" in summary
    assert "<dt>Accepted the invitation</dt><dd>1</dd>" in summary
    assert "<dt>Declined the invitation</dt><dd>1</dd>" in summary
    assert "<dt>Not sent an invitation yet</dt><dd>3</dd>" in summary  # drawn[0, 3] and late
    assert "Send the 3 pending invitations" in body
    assert expired_token not in body  # links are for the jurors' eyes only


def test_the_staff_page_without_a_draw(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.JURY)
    db.session.commit()

    response = admin_client.get(_staff_url(consultation))

    assert response.status_code == 200
    assert "No jury has been drawn yet." in response.text


def test_the_staff_page_runs_a_fixed_number_of_queries(app, db, admin_client, count_queries):
    consultation, drawn = _drawn(db, 2)
    for juror in drawn:
        _invite(app, db, juror)
    db.session.commit()
    admin_client.get(_staff_url(consultation))  # warm up: sign-in session, caches

    with count_queries() as few:
        assert admin_client.get(_staff_url(consultation)).status_code == 200

    _consultation, more = _drawn(db, 12, consultation=consultation)
    replacement = make_draw(consultation, kind=DrawKind.REPLACEMENT)
    for _ in range(3):
        make_juror(consultation, status=JurorStatus.INVITED, draw=replacement)
    for juror in more[:6]:
        _invite(app, db, juror)
    make_juror(consultation, status=JurorStatus.ACCEPTED, draw=replacement)
    db.session.commit()

    with count_queries() as many:
        assert admin_client.get(_staff_url(consultation)).status_code == 200

    assert len(many) == len(few), many


# --- The drawn member: accepting ---------------------------------------------------------------


def test_the_invitation_page_explains_the_jury_and_its_rounds(app, db, client):
    consultation, [juror] = _drawn(db, email="camille@example.org")
    version = frozen_version(consultation, 1)
    now = utcnow()
    ballots.open_round(
        consultation, version, now + timedelta(days=3), now + timedelta(days=5), 50, 50, None, now
    )
    token = _invite(app, db, juror)

    response = client.get(_page(consultation, token))

    assert response.status_code == 200
    body = response.text
    assert consultation.title in body
    assert "You were drawn by lot" in body
    assert "Round 1: from" in body
    assert "camille@example.org" in body  # the address they will sign in with
    assert f"/consultations/{consultation.slug}/jury/invitation/{token}/refuser" in body


def test_accepting_creates_a_juror_account_that_can_vote(app, db, client):
    consultation, [juror] = _drawn(db, email="camille@example.org")
    token = _invite(app, db, juror)

    response = _accept(client, consultation, token)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/jury/vote")
    user = db.session.scalar(select(User).where(User.email == "camille@example.org"))
    assert user is not None and user.role is Role.JUROR
    db.session.refresh(juror)
    assert juror.status is JurorStatus.ACCEPTED
    assert juror.user_id == user.id
    assert is_signed_in(client)
    vote = client.get(f"/consultations/{consultation.slug}/jury/vote")
    assert vote.status_code == 200
    assert "Your vote" in vote.text

    # The link is spent: a second use is refused, readably.
    assert_error_page(_accept(client, consultation, token), 409, "already been used")
    assert_error_page(client.get(_page(consultation, token)), 409)
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_a_weak_or_mismatched_password_is_refused_beside_the_field(app, db, client):
    consultation, [juror] = _drawn(db)
    token = _invite(app, db, juror)

    short = _accept(client, consultation, token, password="short")
    differ = client.post(
        _page(consultation, token),
        data={
            "display_name": "Camille",
            "new_password": PASSWORD,
            "confirm_password": PASSWORD + "!",
        },
    )

    assert short.status_code == 400
    assert 'id="new_password-errors"' in short.text
    assert differ.status_code == 400
    assert "The passwords differ." in differ.text
    db.session.refresh(juror)
    assert juror.status is JurorStatus.INVITED
    assert db.session.scalars(select(User)).all() == []


def test_an_expired_link_is_gone(app, db, client):
    consultation, [juror] = _drawn(db)
    token = _invite(app, db, juror)
    db.session.execute(
        update(Invitation)
        .where(Invitation.id == juror.invitation_id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()

    assert_error_page(client.get(_page(consultation, token)), 410, "has expired")
    assert_error_page(_accept(client, consultation, token), 410)
    assert_error_page(client.post(_page(consultation, token) + "/refuser"), 410)
    db.session.refresh(juror)
    assert juror.status is JurorStatus.INVITED


def test_an_unknown_link_is_not_found(db, client):
    consultation, _ = _drawn(db)
    db.session.commit()

    assert_error_page(client.get(_page(consultation, "not-a-real-token")), 404, "not valid")
    assert_error_page(_accept(client, consultation, "not-a-real-token"), 404)
    assert_error_page(client.post(_page(consultation, "not-a-real-token") + "/refuser"), 404)


def test_a_link_under_another_consultation_is_not_found(app, db, client):
    _consultation, [juror] = _drawn(db)
    other = factories.make_consultation(phase=Phase.JURY)
    token = _invite(app, db, juror)

    assert client.get(_page(other, token)).status_code == 404
    assert _accept(client, other, token).status_code == 404
    assert client.post(_page(other, token) + "/refuser").status_code == 404
    db.session.refresh(juror)
    assert juror.status is JurorStatus.INVITED


# --- The drawn member: declining ---------------------------------------------------------------


def test_declining_frees_the_seat_and_the_link_stops_working(app, db, client, admin_client):
    consultation, [juror] = _drawn(db)
    token = _invite(app, db, juror)

    response = client.post(_page(consultation, token) + "/refuser")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/")
    assert "You declined the invitation" in client.get(response.headers["Location"]).text
    db.session.refresh(juror)
    assert juror.status is JurorStatus.DECLINED
    assert juror.responded_at is not None
    assert_error_page(client.get(_page(consultation, token)), 409, "You declined this invitation")
    assert_error_page(_accept(client, consultation, token), 409, "You declined")
    assert_error_page(client.post(_page(consultation, token) + "/refuser"), 409)
    # The accounts' own invitation page does not take it either.
    assert client.get(f"/invitation/{token}").status_code in (409, 410)
    assert db.session.scalars(select(User).where(User.role == Role.JUROR)).all() == []
    staff = admin_client.get(_staff_url(consultation)).text
    assert "1 seat was left free by a decline" in staff


def test_a_declined_juror_cannot_reach_the_ballot(app, db, client):
    consultation, [juror] = _drawn(db)
    token = _invite(app, db, juror)
    client.post(_page(consultation, token) + "/refuser")

    vote = client.get(f"/consultations/{consultation.slug}/jury/vote")

    assert vote.status_code == 302  # anonymous: to the sign-in page
    assert "/connexion" in vote.headers["Location"]


def test_the_accounts_invitation_page_sends_a_drawn_member_to_the_jury_page(db, app, client):
    consultation, drawn = _drawn(db, 1)
    db.session.commit()
    token = _invite(app, db, drawn[0])
    response = client.get(f"/invitation/{token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_page(consultation, token))
    # A POST there creates no account apart from the jury's seat.
    response = client.post(
        f"/invitation/{token}",
        data={"display_name": "Camille", "new_password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert response.status_code == 303
    assert _accept(client, consultation, token).status_code == 303
    db.session.refresh(drawn[0])
    assert drawn[0].status is JurorStatus.ACCEPTED and drawn[0].user_id is not None

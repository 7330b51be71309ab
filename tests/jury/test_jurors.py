"""Jurors' invitations: a drawn member is sent a one-time link, creates a juror account with it
or declines the seat, once; a new link replaces the old one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from consultation.accounts.models import Invitation, Role, User
from consultation.accounts.services import accept_invitation, token_hash_of
from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError, Gone, InvalidTransition, NotFound
from consultation.core.models import utcnow
from consultation.extensions import db as _db
from consultation.jury import ballots, jurors
from consultation.jury.models import DrawKind, Juror, JurorStatus
from tests import factories
from tests.jury.factories import frozen_version, make_draw, make_juror, make_member, make_quotas

PASSWORD = "a long enough passphrase"
FEATURES = {"genre": "femme", "age": "35-64"}


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """The invitation mail is rendered as for a request (the staff page's)."""
    with app.test_request_context("/"):
        yield


def _link(token: str) -> str:
    return f"https://jury.example/invitation/{token}"


def _drawn(db, count: int = 1, consultation=None, **member_fields):  # type: ignore[no-untyped-def]
    """`count` drawn members of one draw, not sent an invitation yet."""
    consultation = consultation or factories.make_consultation(phase=Phase.JURY)
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
    return consultation, draw, drawn


def _actions(action: str) -> list[AuditEntry]:
    return list(
        _db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# --- Sending the invitations -------------------------------------------------------------------


def test_inviting_a_juror_creates_a_one_time_link_and_mails_it(db, outbox):
    consultation, _draw, [juror] = _drawn(db, email="Camille@Example.org", full_name="Camille M.")
    admin = factories.make_user(role=Role.ADMIN)
    now = utcnow()

    token = jurors.invite_juror(juror, admin, now, _link)

    invitation = juror.invitation
    assert invitation is not None
    assert invitation.token_hash == token_hash_of(token)  # only the hash is stored
    assert invitation.role is Role.JUROR
    assert invitation.email == "camille@example.org"
    assert invitation.invited_by_id == admin.id
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    assert juror.invited_at == now
    assert juror.status is JurorStatus.INVITED

    [message] = outbox()
    assert message["To"] == "camille@example.org"
    assert consultation.title in message["Subject"]
    body = message.get_content()
    assert "Hello Camille M.," in body
    assert f"drawn by lot for the citizen jury of the consultation “{consultation.title}”" in body
    assert _link(token) in body
    assert "Decline the invitation" in body  # how to decline
    [entry] = _actions("jury.juror_invited")
    assert entry.object_id == str(juror.id)
    assert entry.actor_id == admin.id
    assert entry.details["new_link"] is False


def test_the_mail_gives_the_dates_of_the_rounds_to_come(db, outbox):
    consultation, _draw, [juror] = _drawn(db)
    version = frozen_version(consultation, 1)
    now = utcnow()
    ballots.open_round(
        consultation, version, now + timedelta(days=3), now + timedelta(days=5), 50, 50, None, now
    )

    jurors.invite_juror(juror, None, now, _link)

    assert "Round 1: from" in outbox()[0].get_content()


def test_a_member_without_an_email_cannot_be_invited(db, outbox):
    _consultation, _draw, [juror] = _drawn(db)
    juror.member.contact.email = None
    reference = juror.member.reference

    with pytest.raises(DomainError, match=f"Pool member {reference} has no e-mail address"):
        jurors.invite_juror(juror, None, utcnow(), _link)

    assert juror.invitation_id is None
    assert db.session.scalars(select(Invitation)).all() == []
    assert outbox() == []


def test_a_member_without_contact_details_cannot_be_invited(db, outbox):
    _consultation, _draw, [juror] = _drawn(db)
    db.session.delete(juror.member.contact)
    db.session.flush()
    db.session.refresh(juror.member)

    with pytest.raises(DomainError, match="has no e-mail address"):
        jurors.invite_juror(juror, None, utcnow(), _link)
    assert outbox() == []


def test_a_new_link_replaces_the_previous_one(db, outbox):
    _consultation, _draw, [juror] = _drawn(db)
    now = utcnow()
    first = jurors.invite_juror(juror, None, now, _link)
    first_invitation = juror.invitation

    second = jurors.invite_juror(juror, None, now + timedelta(minutes=1), _link)

    assert second != first
    assert juror.invitation is not first_invitation
    assert first_invitation.is_expired(now + timedelta(minutes=1))
    with pytest.raises(Gone, match="a newer one may have been sent"):
        jurors.juror_for_invitation(first, now + timedelta(minutes=2))
    assert jurors.juror_for_invitation(second, now + timedelta(minutes=2)) is juror
    assert len(outbox()) == 2
    assert _actions("jury.juror_invited")[-1].details["new_link"] is True


@pytest.mark.parametrize("status", [JurorStatus.ACCEPTED, JurorStatus.DECLINED])
def test_a_juror_who_answered_is_not_sent_a_new_link(db, outbox, status):
    consultation = factories.make_consultation(phase=Phase.JURY)
    juror = make_juror(consultation, status=status)

    with pytest.raises(InvalidTransition):
        jurors.invite_juror(juror, None, utcnow(), _link)
    assert outbox() == []


def test_an_address_that_already_has_an_account_is_refused(db, outbox):
    factories.make_user(email="taken@example.org")
    _consultation, _draw, [juror] = _drawn(db, email="taken@example.org")

    with pytest.raises(Conflict, match="An account already exists"):
        jurors.invite_juror(juror, None, utcnow(), _link)
    assert outbox() == []


def test_invite_jurors_sends_the_pending_invitations_only(db, outbox):
    consultation, draw, drawn = _drawn(db, 3)
    jurors.invite_juror(drawn[0], None, utcnow(), _link)  # already sent one
    drawn[1].member.contact.email = None  # cannot be invited
    answered = make_juror(consultation, status=JurorStatus.ACCEPTED, draw=draw)
    _other, _, [elsewhere] = _drawn(db)

    assert jurors.invite_jurors(consultation, None, utcnow(), _link) == 1

    assert drawn[2].invitation is not None
    assert drawn[1].invitation is None
    assert answered.invitation is None
    assert elsewhere.invitation is None
    assert [m["To"] for m in outbox()] == [
        drawn[0].member.contact.email,
        drawn[2].member.contact.email,
    ]
    assert jurors.count_uninvited(consultation) == 1
    assert jurors.invite_jurors(consultation, None, utcnow(), _link) == 0


def test_invite_jurors_of_one_draw(db, outbox):
    consultation, first_draw, [first] = _drawn(db)
    replacement = make_draw(consultation, kind=DrawKind.REPLACEMENT)
    second = make_juror(consultation, status=JurorStatus.INVITED, draw=replacement)

    assert jurors.invite_jurors(replacement, None, utcnow(), _link) == 1

    assert second.invitation is not None
    assert first.invitation is None
    assert first_draw.id != replacement.id


# --- Accepting ---------------------------------------------------------------------------------


def test_accepting_creates_a_juror_account_on_the_jury(db):
    consultation, _draw, [juror] = _drawn(db, email="camille@example.org")
    token = jurors.invite_juror(juror, None, utcnow(), _link)
    now = utcnow()

    user = jurors.accept_juror_invitation(token, "Camille", PASSWORD, now)

    assert user.role is Role.JUROR
    assert user.email == "camille@example.org"
    assert user.display_name == "Camille"
    assert juror.status is JurorStatus.ACCEPTED
    assert juror.user_id == user.id
    assert juror.responded_at == now
    assert juror.invitation.accepted_at is not None
    assert ballots.is_juror(user, consultation)
    [entry] = _actions("jury.juror_accepted")
    assert entry.actor_id == user.id


def test_a_used_link_cannot_be_used_again(db):
    _consultation, _draw, [juror] = _drawn(db)
    token = jurors.invite_juror(juror, None, utcnow(), _link)
    jurors.accept_juror_invitation(token, "Camille", PASSWORD, utcnow())

    with pytest.raises(Conflict, match="already been used"):
        jurors.accept_juror_invitation(token, "Someone else", PASSWORD, utcnow())
    with pytest.raises(Conflict):
        jurors.decline_juror_invitation(token, utcnow())
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_an_expired_link_is_gone(db):
    _consultation, _draw, [juror] = _drawn(db)
    token = jurors.invite_juror(juror, None, utcnow(), _link)

    later = utcnow() + timedelta(days=15)
    with pytest.raises(Gone, match="has expired"):
        jurors.accept_juror_invitation(token, "Camille", PASSWORD, later)
    with pytest.raises(Gone):
        jurors.decline_juror_invitation(token, later)
    assert juror.status is JurorStatus.INVITED


def test_an_unknown_link_is_not_found(db):
    with pytest.raises(NotFound, match="not valid"):
        jurors.juror_for_invitation("no-such-token", utcnow())
    with pytest.raises(NotFound):
        jurors.accept_juror_invitation("no-such-token", "Camille", PASSWORD, utcnow())


def test_an_invitation_that_is_not_a_jurors_is_not_found(db):
    from consultation.accounts.services import invite_user

    _invitation, token = invite_user("staff@example.org", Role.ADMIN, None, None, timedelta(days=7))
    with pytest.raises(NotFound):
        jurors.juror_for_invitation(token, utcnow())


def test_a_weak_password_leaves_everything_as_it_was(db):
    _consultation, _draw, [juror] = _drawn(db)
    token = jurors.invite_juror(juror, None, utcnow(), _link)

    with pytest.raises(DomainError, match="at least 12 characters"):
        jurors.accept_juror_invitation(token, "Camille", "short", utcnow())

    assert juror.status is JurorStatus.INVITED
    assert juror.invitation.accepted_at is None
    assert jurors.juror_for_invitation(token, utcnow()) is juror


def test_a_seat_taken_meanwhile_undoes_the_account(db, monkeypatch):
    """If the juror's row changed between the checks and the claim (a decline or a new link
    from another request), the account made from the link is undone with the rest."""
    _consultation, _draw, [juror] = _drawn(db)
    token = jurors.invite_juror(juror, None, utcnow(), _link)
    original = jurors.juror_for_invitation

    def stale(token: str, now):  # type: ignore[no-untyped-def]
        found = original(token, now)
        db.session.execute(
            update(Juror).where(Juror.id == found.id).values(status=JurorStatus.DECLINED)
        )
        return found

    monkeypatch.setattr(jurors, "juror_for_invitation", stale)
    with pytest.raises(Conflict):
        jurors.accept_juror_invitation(token, "Camille", PASSWORD, utcnow())
    assert db.session.scalars(select(User)).all() == []
    db.session.refresh(juror.invitation)
    assert juror.invitation.accepted_at is None


# --- Declining ---------------------------------------------------------------------------------


def test_declining_frees_the_seat_and_consumes_the_link(db):
    consultation, _draw, drawn = _drawn(db, 2)
    juror = drawn[0]
    token = jurors.invite_juror(juror, None, utcnow(), _link)
    assert jurors.vacant_seats(consultation) == 0
    now = utcnow()

    declined = jurors.decline_juror_invitation(token, now)

    assert declined is juror
    assert juror.status is JurorStatus.DECLINED
    assert juror.responded_at == now
    assert juror.user_id is None
    assert jurors.vacant_seats(consultation) == 1
    with pytest.raises(Conflict, match="You declined this invitation"):
        jurors.juror_for_invitation(token, now)
    with pytest.raises(Conflict, match="You declined"):
        jurors.accept_juror_invitation(token, "Camille", PASSWORD, now)
    # Nor through the accounts' own invitation page: the link is spent.
    with pytest.raises(DomainError):
        accept_invitation(token, "Camille", PASSWORD)
    with pytest.raises(InvalidTransition):
        jurors.invite_juror(juror, None, now, _link)
    [entry] = _actions("jury.juror_declined")
    assert entry.object_id == str(juror.id)
    assert entry.actor_id is None


def test_the_jurors_of_a_consultation_by_draw(db):
    consultation, draw, drawn = _drawn(db, 2)
    replacement = make_draw(consultation, kind=DrawKind.REPLACEMENT)
    late = make_juror(consultation, status=JurorStatus.INVITED, draw=replacement)

    draws = jurors.consultation_jurors(consultation)

    assert [d.id for d in draws] == [draw.id, replacement.id]
    assert [j.id for j in draws[0].jurors] == [j.id for j in drawn]
    assert [j.id for j in draws[1].jurors] == [late.id]


def test_no_vacant_seat_without_a_draw(db):
    assert jurors.vacant_seats(factories.make_consultation()) == 0

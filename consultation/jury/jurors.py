"""Jurors' invitations: each drawn member gets a one-time link to create a juror account, and
accepts or declines it; staff follow who did what.

The link is an accounts `Invitation` (role juror) tied to the `Juror` row, so that the account
rules (one use, expiry, password strength) are the accounts' own. Every change of a juror's
status is a conditional update on its row: an acceptance, a decline and a new link sent at the
same moment cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, load_only, selectinload

from consultation.accounts import services as account_services
from consultation.accounts.models import Invitation, Role, User

# The accounts store only a hash of each link's token: look the link up the same way.
from consultation.accounts.services import token_hash_of
from consultation.consultations.models import Consultation
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, Gone, InvalidTransition, NotFound
from consultation.core.mail import send_mail
from consultation.extensions import db
from consultation.jury.models import (
    Draw,
    DrawKind,
    Juror,
    JurorStatus,
    PoolMember,
    RoundStatus,
    VotingRound,
)

# Long enough to read the mail, think it over and ask questions; short enough for the seat to
# go to someone else in time when the person never answers.
JUROR_INVITATION_VALID_FOR = timedelta(days=14)


def _with_contact() -> tuple[object, ...]:
    return (joinedload(Juror.member).joinedload(PoolMember.contact), joinedload(Juror.invitation))


def _email_of(juror: Juror) -> str:
    """The juror's contact address, or a clear refusal when the pool has none."""
    contact = juror.member.contact
    email = (contact.email or "").strip() if contact is not None else ""
    if not email:
        raise DomainError(
            _l(
                "Pool member %(reference)s has no e-mail address: the invitation cannot be sent. "
                "Add an address to their contact details, or reach them another way.",
                reference=juror.member.reference,
            )
        )
    return email


def invite_juror(
    juror: Juror, actor: User | None, now: datetime, link_for: Callable[[str], str]
) -> str:
    """Send a drawn member a one-time link to create their juror account; returns its token.

    A juror still invited may be sent a new link (the mail was lost, the link expired): the
    previous one stops working at once, so that only one link is ever usable."""
    if juror.status is not JurorStatus.INVITED:
        raise InvalidTransition(
            _l("This juror has already answered the invitation: no new link can be sent.")
        )
    email = _email_of(juror)
    previous = juror.invitation
    invitation, token = account_services.invite_user(
        email, Role.JUROR, None, actor, JUROR_INVITATION_VALID_FOR
    )
    # Only the juror row still pointing to the previous link moves to the new one: a juror who
    # answered meanwhile keeps their answer, and this new link is dropped with the request.
    moved = db.session.execute(
        update(Juror)
        .where(
            Juror.id == juror.id,
            Juror.status == JurorStatus.INVITED,
            Juror.invitation_id.is_(None)
            if previous is None
            else Juror.invitation_id == previous.id,
        )
        .values(invitation_id=invitation.id, invited_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("This juror's invitation changed meanwhile. Reload the page."))
    if previous is not None and previous.accepted_at is None and previous.expires_at > now:
        previous.expires_at = now
    db.session.refresh(juror)
    consultation = juror.draw.consultation
    contact = juror.member.contact
    body = render_template(
        "jury/mail/invitation.txt",
        consultation=consultation,
        contact_name=contact.full_name if contact is not None else "",
        invitation=invitation,
        rounds=upcoming_rounds(consultation),
        link=link_for(token),
    )
    subject = _l(
        "You were drawn by lot for the citizen jury of %(title)s", title=consultation.title
    )
    send_mail(invitation.email, str(subject), body)
    audit.record(
        "jury.juror_invited",
        juror,
        actor=actor,
        draw=juror.draw.number,
        member=juror.member.reference,
        new_link=previous is not None,
    )
    db.session.flush()
    return token


def invite_jurors(
    target: Draw | Consultation,
    actor: User | None,
    now: datetime,
    link_for: Callable[[str], str],
) -> int:
    """Invite every drawn member of a draw (or of all the consultation's draws) who has not been
    sent a link yet; returns how many were.

    A member who cannot be invited (no address, an account already there) is left for staff to
    see on the jurors' page; the others are invited all the same."""
    query = (
        select(Juror)
        .where(Juror.status == JurorStatus.INVITED, Juror.invitation_id.is_(None))
        .options(*_with_contact(), joinedload(Juror.draw))
        .order_by(Juror.id)
    )
    if isinstance(target, Draw):
        query = query.where(Juror.draw_id == target.id)
    else:
        query = query.where(Juror.consultation_id == target.id)
    invited = 0
    for juror in db.session.scalars(query).unique().all():
        try:
            with db.session.begin_nested():
                invite_juror(juror, actor, now, link_for)
        except DomainError:
            continue
        invited += 1
    return invited


def juror_for_invitation(token: str, now: datetime) -> Juror:
    """The juror behind a link still usable: unknown → 404, used or declined → 409, expired or
    replaced by a newer link → 410."""
    row = db.session.execute(
        select(Invitation, Juror)
        .outerjoin(Juror, Juror.invitation_id == Invitation.id)
        .where(Invitation.token_hash == token_hash_of(token))
    ).one_or_none()
    invitation, juror = row if row is not None else (None, None)
    replaced = (
        invitation is not None
        and juror is None
        and invitation.role is Role.JUROR
        and not invitation.is_accepted
        and invitation.is_expired(now)
    )
    if invitation is None or (juror is None and not replaced):
        raise NotFound(_l("This invitation link is not valid. Check that you copied it whole."))
    if juror is None:
        # A juror's link that no juror points to any more was replaced by a newer one.
        raise Gone(
            _l(
                "This invitation link is no longer valid: a newer one may have been sent to you. "
                "Use the link of the latest message, or ask the USH team for a new one."
            )
        )
    if juror.status is JurorStatus.DECLINED:
        raise Conflict(
            _l(
                "You declined this invitation, so the link can no longer be used. If you changed "
                "your mind, contact the USH team."
            )
        )
    if juror.status is JurorStatus.ACCEPTED or invitation.is_accepted:
        raise Conflict(
            _l("This invitation has already been used. Sign in with the account it created.")
        )
    if invitation.is_expired(now):
        raise Gone(_l("This invitation has expired. Ask the USH team for a new one."))
    return juror


def accept_juror_invitation(token: str, display_name: str, password: str, now: datetime) -> User:
    """Create the juror's account from their link and seat them on the jury, all or nothing."""
    juror = juror_for_invitation(token, now)
    invitation_id = juror.invitation_id
    # A savepoint, so that an account is never left without its seat (nor a seat without its
    # account) whatever the caller does with the transaction afterwards.
    with db.session.begin_nested():
        user = account_services.accept_invitation(token, display_name, password)
        seated = db.session.execute(
            update(Juror)
            .where(
                Juror.id == juror.id,
                Juror.status == JurorStatus.INVITED,
                Juror.invitation_id == invitation_id,
            )
            .values(status=JurorStatus.ACCEPTED, user_id=user.id, responded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if seated != 1:
            raise Conflict(_l("This invitation has already been answered."))
    db.session.refresh(juror)
    audit.record("jury.juror_accepted", juror, actor=user, draw_id=juror.draw_id)
    db.session.flush()
    return user


def decline_juror_invitation(token: str, now: datetime) -> Juror:
    """Decline a seat on the jury: the link stops working and the seat can be drawn again."""
    juror = juror_for_invitation(token, now)
    invitation_id = juror.invitation_id
    declined = db.session.execute(
        update(Juror)
        .where(
            Juror.id == juror.id,
            Juror.status == JurorStatus.INVITED,
            Juror.invitation_id == invitation_id,
        )
        .values(status=JurorStatus.DECLINED, responded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if declined != 1:
        raise Conflict(_l("This invitation has already been answered."))
    # Expired rather than marked accepted: no account came of it, and neither this page nor the
    # accounts' invitation page will create one from it any more.
    db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(juror)
    if juror.invitation is not None:
        db.session.refresh(juror.invitation)
    # The person is anonymous here: the audit entry has no actor.
    audit.record("jury.juror_declined", juror, actor=None, draw_id=juror.draw_id)
    db.session.flush()
    return juror


def consultation_jurors(consultation: Consultation) -> list[Draw]:
    """The consultation's draws, in order, each with its jurors, their contacts and links
    loaded (a fixed number of queries however large the jury)."""
    return list(
        db.session.scalars(
            select(Draw)
            .where(Draw.consultation_id == consultation.id)
            # The pool snapshot and the distribution can be large, and this page needs neither.
            .options(
                load_only(
                    Draw.id,
                    Draw.number,
                    Draw.kind,
                    Draw.status,
                    Draw.panel_size,
                    Draw.drawn_at,
                    Draw.consultation_id,
                ),
                selectinload(Draw.jurors).options(*_with_contact()),
            )
            .order_by(Draw.number)
        )
    )


def count_uninvited(consultation: Consultation) -> int:
    """How many drawn members of the consultation have not been sent a link yet."""
    return (
        db.session.scalar(
            select(func.count(Juror.id)).where(
                Juror.consultation_id == consultation.id,
                Juror.status == JurorStatus.INVITED,
                Juror.invitation_id.is_(None),
            )
        )
        or 0
    )


def upcoming_rounds(consultation: Consultation) -> list[VotingRound]:
    """The voting rounds still to come or open, in order: what an invited juror commits to."""
    return list(
        db.session.scalars(
            select(VotingRound)
            .where(
                VotingRound.consultation_id == consultation.id,
                VotingRound.status != RoundStatus.CLOSED,
            )
            .order_by(VotingRound.number)
        )
    )


def vacant_seats(consultation: Consultation) -> int:
    """Seats left free by jurors who declined: the initial panel's size, less the jurors still
    invited or seated (what a replacement draw has to fill)."""
    panel_size = db.session.scalar(
        select(Draw.panel_size)
        .where(Draw.consultation_id == consultation.id, Draw.kind == DrawKind.INITIAL)
        .order_by(Draw.number)
        .limit(1)
    )
    if panel_size is None:
        return 0
    taken = (
        db.session.scalar(
            select(func.count(Juror.id)).where(
                Juror.consultation_id == consultation.id,
                Juror.status != JurorStatus.DECLINED,
            )
        )
        or 0
    )
    return max(panel_size - taken, 0)


def jury_invitation_page(invitation: Invitation, token: str) -> str | None:
    """The jury's page for an invitation sent to a drawn member, or None for other invitations:
    only that page seats the juror as their account is created."""
    slug = db.session.scalar(
        select(Consultation.slug)
        .join(Juror, Juror.consultation_id == Consultation.id)
        .where(Juror.invitation_id == invitation.id)
    )
    return url_for("jury.invitation", slug=slug, token=token) if slug is not None else None

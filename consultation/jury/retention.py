"""Personal data of the jury: erasing one volunteer at their request, and the retention purge
once the consultation is archived.

What a draw publishes (the pseudonymous reference and the features of every member, frozen in
the draw's snapshot) stays, so that anyone can still replay it; contact data goes. Once the
rounds' secret keys are purged too, no ballot can be linked to a juror any more, while the
ballot log, its tally and its verification still hold: they never used the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import contains_eager

from consultation.accounts.models import ERASED_EMAIL_DOMAIN, Invitation, User
from consultation.accounts.personal_data import erase_invitation, erase_registration
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import Conflict, NotFound
from consultation.debates.models import Debate, Registration
from consultation.extensions import db
from consultation.jury.members import is_pool_frozen, lock_pool
from consultation.jury.models import Juror, PoolContact, PoolMember, VotingRound


@dataclass(frozen=True)
class MemberErasure:
    """What erasing a pool member did."""

    reference: str
    member_removed: bool  # True: the member left the pool; False: only their contact went
    had_contact: bool


def find_pool_member(consultation: Consultation, member_id: int) -> PoolMember:
    """A member of the consultation's pool; another consultation's member is not found."""
    member = db.session.get(PoolMember, member_id)
    if member is None or member.consultation_id != consultation.id:
        raise NotFound(_l("This volunteer is not in the pool."))
    return member


def search_pool(consultation: Consultation, query: str, limit: int = 20) -> list[PoolMember]:
    """Members whose reference or e-mail address is the query (whatever its case), or whose
    name contains it: staff find the person who asks to be erased."""
    query = " ".join(query.split())
    if not query:
        return []
    wanted = query.casefold()
    rows = db.session.scalars(
        select(PoolMember)
        .outerjoin(PoolContact, PoolContact.member_id == PoolMember.id)
        .where(PoolMember.consultation_id == consultation.id)
        .where(
            (func.upper(PoolMember.reference) == query.upper())
            | (PoolContact.email == wanted)
            | PoolContact.full_name.ilike(f"%{_escape_like(query)}%", escape="\\")
        )
        .options(contains_eager(PoolMember.contact))
        .order_by(PoolMember.reference)
        .limit(limit)
    )
    return list(rows)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _erase_juror_invitations(member_ids: list[int], now: datetime) -> int:
    """Replace the address of the drawn members' invitations; an unused link stops working."""
    invitations = db.session.scalars(
        select(Invitation)
        .join(Juror, Juror.invitation_id == Invitation.id)
        .where(Juror.member_id.in_(member_ids))
        .where(Invitation.email.not_like(f"%@{ERASED_EMAIL_DOMAIN}"))
    ).all()
    for invitation in invitations:
        erase_invitation(invitation, now)
    return len(invitations)


def erase_pool_member(
    consultation: Consultation, member: PoolMember, actor: User | None, now: datetime
) -> MemberErasure:
    """Erase a volunteer's personal data at their request.

    Before any draw, the member leaves the pool altogether. Once a draw has been committed on
    the pool (or the consultation is archived), the draws' published data must still replay:
    the pseudonymous reference and the features stay, only the contact data goes."""
    lock_pool(consultation)  # a draw committed meanwhile would snapshot a member being removed
    reference, had_contact = member.reference, member.contact is not None
    keep_member = (
        consultation.phase is Phase.ARCHIVED
        or is_pool_frozen(consultation)
        or db.session.scalar(select(Juror.id).where(Juror.member_id == member.id)) is not None
    )
    _erase_juror_invitations([member.id], now)
    if keep_member:
        if member.contact is not None:
            db.session.delete(member.contact)
    else:
        db.session.delete(member)  # its features and contact go with it
    audit.record(
        "jury.pool_member_erased",
        consultation,
        actor=actor,
        reference=reference,
        member_removed=not keep_member,
        had_contact=had_contact,
    )
    db.session.flush()
    return MemberErasure(reference, not keep_member, had_contact)


@dataclass(frozen=True)
class PurgeSummary:
    """What the retention purge erased (zeros when run again)."""

    contacts: int
    secret_keys: int
    invitations: int
    registrations: int

    @property
    def total(self) -> int:
        return self.contacts + self.secret_keys + self.invitations + self.registrations


def purge_consultation(
    consultation: Consultation, actor: User | None, now: datetime
) -> PurgeSummary:
    """Once the consultation is archived, erase the personal data its archive does not need:
    the jury pool's contact data, the drawn members' invitation addresses, the names and
    addresses of the debates' registrations, and the rounds' secret keys (after which no ballot
    can be linked to a juror). Running it again erases nothing more."""
    if consultation.phase is not Phase.ARCHIVED:
        raise Conflict(
            _l(
                "The consultation is not archived: its personal data is purged only once it is "
                "archived."
            )
        )
    contacts = (
        db.session.execute(
            delete(PoolContact).where(PoolContact.consultation_id == consultation.id),
            execution_options={"synchronize_session": "fetch"},
        ).rowcount
        or 0
    )
    keys = (
        db.session.execute(
            update(VotingRound)
            .where(
                VotingRound.consultation_id == consultation.id,
                VotingRound.secret_key.is_not(None),
            )
            .values(secret_key=None),
            execution_options={"synchronize_session": "fetch"},
        ).rowcount
        or 0
    )
    member_ids = list(
        db.session.scalars(select(Juror.member_id).where(Juror.consultation_id == consultation.id))
    )
    invitations = _erase_juror_invitations(member_ids, now) if member_ids else 0
    registrations = db.session.scalars(
        select(Registration)
        .join(Debate, Debate.id == Registration.debate_id)
        .where(Debate.consultation_id == consultation.id)
        .where(Registration.email.not_like(f"%@{ERASED_EMAIL_DOMAIN}"))
    ).all()
    for registration in registrations:
        erase_registration(registration)
    summary = PurgeSummary(contacts, keys, invitations, len(registrations))
    if summary.total:
        audit.record(
            "jury.personal_data_purged",
            consultation,
            actor=actor,
            contacts=contacts,
            secret_keys=keys,
            invitations=invitations,
            registrations=len(registrations),
        )
    db.session.flush()
    return summary

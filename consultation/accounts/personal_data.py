"""Personal data (GDPR): everything the platform holds about an account, as JSON, and the
account's erasure at its owner's request."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from consultation.accounts.models import (
    ERASED_EMAIL_DOMAIN,
    Invitation,
    Organisation,
    PasswordReset,
    Role,
    User,
)
from consultation.accounts.services import active_sessions, password_matches, revoke_sessions
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError
from consultation.core.models import Base, utcnow
from consultation.debates.models import Debate, Registration
from consultation.extensions import db
from consultation.jury.models import Juror, PoolContact, PoolMember
from consultation.proposals.models import Cosignature, Proposal, ProposalRevision

ERASED = "[erased]"  # what replaces a personal value in the audit log's details
# Details of audit entries that may hold a name or an address.
_PERSONAL_DETAILS = ("email", "display_name", "name", "full_name")


def erased_email(kind: str, row_id: int) -> str:
    """A unique placeholder address for an erased row (`kind` tells the tables apart)."""
    return f"erased-{kind}-{row_id}-{secrets.token_hex(4)}@{ERASED_EMAIL_DOMAIN}"


def erase_registration(registration: Registration) -> None:
    """A debate registration without the name, address and organisation of who registered."""
    registration.email = erased_email("registration", registration.id)
    registration.name = ""
    registration.organisation_name = ""


def erase_invitation(invitation: Invitation, now: datetime) -> None:
    """An invitation without its address; a link not used yet stops working."""
    invitation.email = erased_email("invitation", invitation.id)
    if invitation.accepted_at is None:
        invitation.expires_at = min(invitation.expires_at, now)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _organisation_data(organisation: Organisation | None) -> dict[str, object] | None:
    if organisation is None:
        return None
    return {
        "id": organisation.id,
        "name": organisation.name,
        "kind": organisation.kind.value,
        "region": organisation.region.name if organisation.region else None,
    }


def export_personal_data(user: User) -> dict[str, object]:
    """Everything the platform holds about the user or their e-mail address, as JSON-ready
    data: never a password hash, a token hash nor a ballot key."""
    email = user.email
    sessions = active_sessions(user)
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.email == email).order_by(Invitation.id)
    )
    resets = db.session.scalars(
        select(PasswordReset).where(PasswordReset.user_id == user.id).order_by(PasswordReset.id)
    )
    proposals = db.session.scalars(
        select(Proposal).where(Proposal.author_id == user.id).order_by(Proposal.id)
    )
    revisions = db.session.scalars(
        select(ProposalRevision)
        .where(ProposalRevision.author_id == user.id)
        .order_by(ProposalRevision.id)
    )
    cosignatures = db.session.scalars(
        select(Cosignature).where(Cosignature.user_id == user.id).order_by(Cosignature.id)
    )
    registrations = db.session.execute(
        select(Registration, Debate)
        .join(Debate, Debate.id == Registration.debate_id)
        .where(Registration.email == email)
        .order_by(Registration.id)
    )
    applications = db.session.scalars(
        select(PoolMember)
        .join(PoolContact, PoolContact.member_id == PoolMember.id)
        .where(PoolContact.email == email)
        .order_by(PoolMember.id)
    )
    seats = db.session.scalars(select(Juror).where(Juror.user_id == user.id).order_by(Juror.id))
    return {
        "format": "utiles-ensemble-personal-data/1",
        "exported_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role.value,
            "organisation": _organisation_data(user.organisation),
            "is_active": user.is_active,
            "created_at": _time(user.created_at),
            "updated_at": _time(user.updated_at),
            "last_login_at": _time(user.last_login_at),
        },
        "sessions": [
            {
                "created_at": _time(s.created_at),
                "last_seen_at": _time(s.last_seen_at),
                "ip_address": s.ip_address,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ],
        "invitations": [
            {
                "role": i.role.value,
                "organisation": _organisation_data(i.organisation),
                "created_at": _time(i.created_at),
                "expires_at": _time(i.expires_at),
                "accepted_at": _time(i.accepted_at),
            }
            for i in invitations
        ],
        "password_resets": [
            {
                "created_at": _time(r.created_at),
                "expires_at": _time(r.expires_at),
                "used_at": _time(r.used_at),
            }
            for r in resets
        ],
        "proposals": [
            {
                "id": p.id,
                "consultation": p.consultation.slug,
                "organisation": p.organisation.name,
                "title": p.title,
                "summary": p.summary,
                "body": p.body,
                "rationale": p.rationale,
                "status": p.status.value,
                "created_at": _time(p.created_at),
                "submitted_at": _time(p.submitted_at),
            }
            for p in proposals
        ],
        "proposal_revisions": [
            {
                "proposal_id": r.proposal_id,
                "number": r.number,
                "title": r.title,
                "created_at": _time(r.created_at),
            }
            for r in revisions
        ],
        "cosignatures": [
            {
                "proposal_id": c.proposal_id,
                "organisation": c.organisation.name,
                "created_at": _time(c.created_at),
            }
            for c in cosignatures
        ],
        "debate_registrations": [
            {
                "debate_id": debate.id,
                "debate": debate.title,
                "starts_at": _time(debate.starts_at),
                "name": r.name,
                "email": r.email,
                "organisation_name": r.organisation_name,
                "status": r.status.value,
                "created_at": _time(r.created_at),
                "cancelled_at": _time(r.cancelled_at),
            }
            for r, debate in registrations
        ],
        "jury_applications": [
            {
                "consultation": m.consultation.slug,
                "reference": m.reference,
                "source": m.source.value,
                "created_at": _time(m.created_at),
                "features": {
                    f.quota.category.label: f.quota.label
                    for f in sorted(m.features, key=lambda f: f.quota.category.position)
                },
                "full_name": m.contact.full_name if m.contact else None,
                "email": m.contact.email if m.contact else None,
                "phone": m.contact.phone if m.contact else None,
                "consented_at": _time(m.contact.consented_at) if m.contact else None,
            }
            for m in applications
        ],
        # The ballots themselves are secret: only the receipts page links them to the juror.
        "jury_seats": [
            {
                "consultation_id": j.consultation_id,
                "draw": j.draw.number,
                "reference": j.member.reference,
                "status": j.status.value,
                "invited_at": _time(j.invited_at),
                "responded_at": _time(j.responded_at),
            }
            for j in seats
        ],
        "audit_log": _audit_data(user),
        "other_records": _other_records(user),
    }


def _audit_entries_about(user: User) -> tuple[list[audit.AuditEntry], set[tuple[str, str]]]:
    """The audit entries about the account or its invitations, or done by it; and the
    (type, id) of the objects that are the user's own (the account, its invitations)."""
    own = {("User", str(user.id))} | {
        ("Invitation", str(invitation_id))
        for invitation_id in db.session.scalars(
            select(Invitation.id).where(
                (Invitation.email == user.email) | (Invitation.user_id == user.id)
            )
        )
    }
    entry = audit.AuditEntry
    about = (entry.object_type == "User") & (entry.object_id == str(user.id))
    invitation_ids = [object_id for kind, object_id in own if kind == "Invitation"]
    if invitation_ids:
        about = about | ((entry.object_type == "Invitation") & entry.object_id.in_(invitation_ids))
    entries = db.session.scalars(
        select(entry).where(about | (entry.actor_id == user.id)).order_by(entry.id)
    )
    return list(entries), own


def _audit_data(user: User) -> list[dict[str, object]]:
    """The audit entries about the user in full; of what they did to other objects, only the
    action, its object and its time (the details may be about other people)."""
    entries, own = _audit_entries_about(user)
    return [
        {
            "created_at": _time(entry.created_at),
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "by_you": entry.actor_id == user.id,
            "ip_address": entry.ip_address if entry.actor_id == user.id else None,
            "details": entry.details if (entry.object_type, entry.object_id) in own else None,
        }
        for entry in entries
    ]


# Rows that reference the account and are exported above in their own section.
_EXPORTED_REFERENCES = {
    ("user_session", "user_id"),
    ("password_reset", "user_id"),
    ("invitation", "user_id"),
    ("proposal", "author_id"),
    ("proposal_revision", "author_id"),
    ("cosignature", "user_id"),
    ("juror", "user_id"),
    ("audit_entry", "actor_id"),
}


def _other_records(user: User) -> list[dict[str, object]]:
    """Every other row that references the account (staff work: article revisions, frozen
    versions, draws...), by table and column, found from the schema so that none is missed."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            points_to_user = any(
                fk.column.table.name == User.__tablename__ for fk in column.foreign_keys
            )
            if not points_to_user or (table.name, column.name) in _EXPORTED_REFERENCES:
                continue
            ids = list(
                db.session.scalars(select(table.c.id).where(column == user.id).order_by(table.c.id))
            )
            if ids:
                found.append({"table": table.name, "column": column.name, "ids": ids})
    return found


def _count_other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def erase_account(user: User, password: str) -> None:
    """Erase the account at its owner's request, once they retype their password.

    Contact data goes (the address becomes a unique non-routable placeholder, the name is
    cleared), the password becomes unusable, the account is deactivated and every session ends.
    The organisation's proposals stay with it, without their author; debate registrations and
    jury pool contacts under the address are erased; the audit log keeps the actions without
    the name or address."""
    if user.is_erased:
        raise Conflict(_l("This account has already been erased."))
    if not password_matches(user, password):
        raise DomainError(_l("The password is incorrect: nothing was erased."), field="password")
    if user.role is Role.ADMIN and _count_other_active_admins(user) == 0:
        raise Conflict(
            _l(
                "You are the last active administrator: give the administrator role to someone "
                "else before erasing your account."
            )
        )
    email, name = user.email, user.display_name
    entries, own = _audit_entries_about(user)  # before the address changes
    no_sync = {"synchronize_session": False}

    registrations = list(
        db.session.scalars(select(Registration).where(Registration.email == email))
    )
    for registration in registrations:
        erase_registration(registration)
    contacts = db.session.execute(
        delete(PoolContact).where(PoolContact.email == email), execution_options=no_sync
    ).rowcount
    for invitation in db.session.scalars(
        select(Invitation).where((Invitation.email == email) | (Invitation.user_id == user.id))
    ):
        erase_invitation(invitation, utcnow())
    db.session.execute(
        update(Proposal).where(Proposal.author_id == user.id).values(author_id=None),
        execution_options=no_sync,
    )
    db.session.execute(
        update(ProposalRevision)
        .where(ProposalRevision.author_id == user.id)
        .values(author_id=None),
        execution_options=no_sync,
    )
    db.session.execute(
        update(Cosignature).where(Cosignature.user_id == user.id).values(user_id=None),
        execution_options=no_sync,
    )
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    personal = {email.casefold(), name.casefold()} - {""}
    for entry in entries:
        whole_keys = (entry.object_type, entry.object_id) in own
        entry.details = _scrubbed(entry.details, personal, whole_keys)

    user.email = erased_email("user", user.id)
    user.display_name = ""
    user.password_hash = None
    user.is_active = False
    user.last_login_at = None
    ended = revoke_sessions(user)
    audit.record(
        "account.erased",
        user,
        actor=user,
        role=user.role.value,
        sessions_ended=ended,
        registrations_erased=len(registrations),
        pool_contacts_erased=contacts,
    )
    db.session.flush()


def _scrubbed(
    details: dict[str, object], personal: set[str], whole_keys: bool
) -> dict[str, object]:
    """Audit details without the erased person's name and address: values equal to one of
    `personal` (case-insensitive), and every name or address key when the entry is about
    them (`whole_keys`). A new dict, so that the JSON column is seen as changed."""

    def clean(key: str, value: object) -> object:
        if isinstance(value, list):
            return [clean(key, item) for item in value]
        if isinstance(value, str) and (
            value.casefold() in personal or (whole_keys and key in _PERSONAL_DETAILS)
        ):
            return ERASED
        return value

    return {key: clean(key, value) for key, value in (details or {}).items()}

"""Account use cases: passwords and their reset, sign-in sessions, users, organisations and
invitations."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from consultation.accounts.models import (
    Invitation,
    Organisation,
    OrganisationKind,
    PasswordReset,
    Region,
    Role,
    User,
    UserSession,
)
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, Gone, NotFound
from consultation.core.mail import send_mail
from consultation.core.models import utcnow
from consultation.extensions import db

MIN_PASSWORD_LENGTH = 12
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
# A sign-in lasts at most this long, and ends sooner when the browser stays away.
SESSION_MAX_AGE = timedelta(days=30)
SESSION_IDLE_TIMEOUT = timedelta(days=7)
# A password reset link is short-lived: whoever reads the mailbox later must not be able to use it.
PASSWORD_RESET_VALID_FOR = timedelta(hours=1)

# argon2id with the library's defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class InvalidCredentials(DomainError):
    """Unknown email or wrong password: one message for both, so accounts cannot be probed."""

    status_code = 401


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )


def normalise_email(email: str) -> str:
    """Emails are compared without case and surrounding spaces."""
    return email.strip().lower()


def check_email_address(email: str) -> None:
    """Refuse what cannot be an e-mail address (the CLI has no form to check it)."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_l("“%(email)s” is not a valid e-mail address.", email=email)) from None


def find_user_by_email(email: str) -> User | None:
    """The user with this email, whatever its case."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def password_matches(user: User, password: str) -> bool:
    """Whether `password` is the account's (an account without one matches nothing; the hash
    is checked anyway, so that the answer takes the same time)."""
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return False
    return user.password_hash is not None


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials, or InvalidCredentials."""
    user = find_user_by_email(email)
    stored_hash = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored_hash, password)
        valid = user is not None and user.password_hash is not None and user.is_active
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid:
        audit.record("auth.sign_in_failed", user, email=normalise_email(email))
        raise InvalidCredentials(_l("Incorrect email or password."))
    assert user is not None
    if _hasher.check_needs_rehash(stored_hash):
        user.password_hash = hash_password(password)
    return user


def token_hash_of(token: str) -> str:
    """What is stored of a secret token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, ip_address: str | None, user_agent: str | None) -> str:
    """Open a sign-in session and return its secret token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=token_hash_of(token),
            user=user,
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    user.last_login_at = now
    user.session_token = token
    audit.record("auth.signed_in", user, actor=user)
    db.session.flush()
    return token


def load_session_user(token: str, now: datetime | None = None) -> User | None:
    """The active user behind a session token, or None if the session was revoked or expired."""
    user_session = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash_of(token))
    )
    if user_session is None or not user_session.user.is_active:
        return None
    now = now or utcnow()
    if (
        now - user_session.created_at > SESSION_MAX_AGE
        or now - user_session.last_seen_at > SESSION_IDLE_TIMEOUT
    ):
        db.session.delete(user_session)
        return None
    if now - user_session.last_seen_at > SESSION_TOUCH_INTERVAL:
        user_session.last_seen_at = now
    user = user_session.user
    user.session_token = token
    return user


def end_session(user: User) -> None:
    """Sign out this browser: its session row goes, so a copied cookie stops working."""
    if user.session_token:
        db.session.execute(
            delete(UserSession).where(UserSession.token_hash == token_hash_of(user.session_token))
        )
    audit.record("auth.signed_out", user, actor=user)


def end_other_session(user: User, session_id: int) -> None:
    """Sign out one of the user's browsers; another user's session is not found (404)."""
    deleted = db.session.execute(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    ).rowcount
    if deleted != 1:
        raise NotFound(_l("This session does not exist or has already ended."))
    audit.record("auth.session_revoked", user, session_id=session_id)


def revoke_sessions(user: User, keep_current: bool = False) -> int:
    """Sign the user out everywhere (but here, when asked); returns how many sessions ended."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_current and user.session_token:
        statement = statement.where(UserSession.token_hash != token_hash_of(user.session_token))
    return db.session.execute(statement).rowcount or 0


def active_sessions(user: User) -> list[UserSession]:
    """The user's signed-in browsers, most recent first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def is_current_session(user: User, user_session: UserSession) -> bool:
    return bool(user.session_token) and user_session.token_hash == token_hash_of(
        user.session_token or ""
    )


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password and sign out every other browser."""
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current_password)
    except (VerificationError, InvalidHashError):
        raise DomainError(_l("The current password is incorrect.")) from None
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    revoke_sessions(user, keep_current=True)
    audit.record("account.password_changed", user)


def set_user_active(user: User, is_active: bool, actor: User) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    if user.id == actor.id and not is_active:
        raise DomainError(_l("You cannot deactivate your own account."))
    if user.is_erased and is_active:
        raise Conflict(
            _l("This account was erased at its owner's request: it cannot be reactivated.")
        )
    user.is_active = is_active
    if not is_active:
        revoke_sessions(user)
    audit.record("account.activated" if is_active else "account.deactivated", user, actor=actor)


def create_user(
    email: str,
    display_name: str,
    role: Role,
    password: str | None,
    organisation: Organisation | None = None,
    actor: User | None = None,
) -> User:
    """Create an account; the email must be new and members need an organisation."""
    email = normalise_email(email)
    check_email_address(email)
    if find_user_by_email(email) is not None:
        raise Conflict(_l("An account already exists for %(email)s.", email=email))
    check_role_fits_organisation(role, organisation)
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account.created", user, actor=actor, role=role.value)
    return user


def check_role_fits_organisation(role: Role, organisation: Organisation | None) -> None:
    """Contributors belong to an organisation; regional editors to a regional association."""
    if role.needs_organisation and organisation is None:
        raise DomainError(_l("This role needs an organisation."), field="organisation")
    if role is Role.REGIONAL_EDITOR and (
        organisation is None or organisation.kind is not OrganisationKind.ASSOCIATION_REGIONALE
    ):
        raise DomainError(
            _l("A regional editor belongs to a regional Hlm association."), field="organisation"
        )


def update_user(
    user: User,
    display_name: str,
    role: Role,
    organisation: Organisation | None,
    actor: User,
) -> dict[str, list[object]]:
    """Correct an account's name, role or organisation; returns what changed, as [old, new].

    A change of role or organisation ends the account's sessions, so that its new rights apply
    at once (an admin editing their own account keeps the browser they are using)."""
    if user.is_erased:
        raise Conflict(_l("This account was erased at its owner's request: it cannot be changed."))
    if user.id == actor.id and user.role is Role.ADMIN and role is not Role.ADMIN:
        raise DomainError(_l("You cannot remove your own administrator role."), field="role")
    check_role_fits_organisation(role, organisation)
    display_name = display_name.strip() or user.email
    previous_organisation = user.organisation
    changes: dict[str, list[object]] = {}
    if display_name != user.display_name:
        changes["display_name"] = [user.display_name, display_name]
    if role is not user.role:
        changes["role"] = [user.role, role]
    if _id_of(organisation) != user.organisation_id:
        changes["organisation"] = [previous_organisation, organisation]
    if not changes:
        return changes
    previous_role = user.role
    user.display_name = display_name
    user.role = role
    user.organisation = organisation
    db.session.flush()
    ended = 0
    if "role" in changes or "organisation" in changes:
        ended = revoke_sessions(user, keep_current=user.id == actor.id)
    audit.record(
        "account.updated",
        user,
        actor=actor,
        **({"display_name": changes["display_name"]} if "display_name" in changes else {}),
        role=[previous_role.value, role.value],
        organisation_id=[_id_of(previous_organisation), _id_of(organisation)],
        organisation=[_name_of(previous_organisation), _name_of(organisation)],
        sessions_ended=ended,
    )
    return changes


def _id_of(organisation: Organisation | None) -> int | None:
    return organisation.id if organisation is not None else None


def _name_of(organisation: Organisation | None) -> str | None:
    return organisation.name if organisation is not None else None


def _organisation_named(name: str, other_than: int | None = None) -> int | None:
    """The id of the organisation with this name, whatever its case, if there is one.

    Compared in Python: SQLite's lower() leaves accented capitals as they are ("É"), so it would
    let "Énergie" and "énergie" both in (and an exact duplicate reach the unique constraint)."""
    query = select(Organisation.id, Organisation.name).where(
        func.length(Organisation.name) == len(name)
    )
    if other_than is not None:
        query = query.where(Organisation.id != other_than)
    wanted = name.casefold()
    return next(
        (org_id for org_id, other in db.session.execute(query) if other.casefold() == wanted),
        None,
    )


def _check_organisation(
    name: str, kind: OrganisationKind, region: Region | None, other_than: int | None = None
) -> None:
    """The rules of every organisation: a name of its own, and a region for an association."""
    if not name:
        raise DomainError(_l("An organisation needs a name."), field="name")
    if _organisation_named(name, other_than) is not None:
        raise Conflict(
            _l("An organisation named “%(name)s” already exists.", name=name), field="name"
        )
    if kind is OrganisationKind.ASSOCIATION_REGIONALE and region is None:
        raise DomainError(_l("A regional association needs its region."), field="region_code")


def _find_region(region_code: str | None) -> Region | None:
    """The region with this INSEE code (None for no region); an unknown code is refused."""
    if not region_code:
        return None
    region = db.session.get(Region, region_code)
    if region is None:
        raise DomainError(_l("There is no region with this code."), field="region_code")
    return region


def create_organisation(
    name: str, kind: OrganisationKind, region_code: str | None, actor: User | None = None
) -> Organisation:
    """Add an organisation; names are unique and regional associations have a region."""
    name = " ".join(name.split())
    region = _find_region(region_code)
    _check_organisation(name, kind, region)
    organisation = Organisation(name=name, kind=kind, region=region)
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation.created", organisation, actor=actor, kind=kind.value)
    return organisation


def _has_regional_editors(organisation: Organisation) -> bool:
    """Whether regional editors belong to the organisation, or have a pending invitation to."""
    member = select(User.id).where(
        User.organisation_id == organisation.id, User.role == Role.REGIONAL_EDITOR
    )
    invited = select(Invitation.id).where(
        Invitation.organisation_id == organisation.id,
        Invitation.role == Role.REGIONAL_EDITOR,
        Invitation.accepted_at.is_(None),
        Invitation.expires_at > utcnow(),
    )
    return bool(db.session.scalar(select(member.exists() | invited.exists())))


def update_organisation(
    organisation: Organisation,
    name: str,
    kind: OrganisationKind,
    region_code: str | None,
    is_fictional: bool,
    actor: User | None,
) -> dict[str, list[object]]:
    """Correct an organisation under the rules of creation; returns what changed, as [old, new].

    One with regional editors stays a regional association: their rights come from it."""
    name = " ".join(name.split())
    region = _find_region(region_code)
    _check_organisation(name, kind, region, other_than=organisation.id)
    if kind is not OrganisationKind.ASSOCIATION_REGIONALE and _has_regional_editors(organisation):
        raise DomainError(
            _l(
                "Regional editors belong to this organisation (or are invited to): it must stay a "
                "regional Hlm association. Give them another role or organisation first."
            ),
            field="kind",
        )
    changes: dict[str, list[object]] = {}
    for field, old, new in (
        ("name", organisation.name, name),
        ("kind", organisation.kind, kind),
        ("region_code", organisation.region_code, region.code if region else None),
        ("is_fictional", organisation.is_fictional, is_fictional),
    ):
        if old != new:
            changes[field] = [old, new]
    if not changes:
        return changes
    organisation.name = name
    organisation.kind = kind
    organisation.region = region
    organisation.is_fictional = is_fictional
    db.session.flush()
    audit.record(
        "organisation.updated",
        organisation,
        actor=actor,
        **{field: [_plain(old), _plain(new)] for field, (old, new) in changes.items()},
    )
    return changes


def _plain(value: object) -> object:
    """Enum members as their stored value, for the audit log."""
    return value.value if isinstance(value, enum.Enum) else value


def invite_user(
    email: str,
    role: Role,
    organisation: Organisation | None,
    actor: User | None,
    valid_for: timedelta,
) -> tuple[Invitation, str]:
    """Create a one-time invitation; returns it with its secret token (for the link)."""
    email = normalise_email(email)
    check_email_address(email)
    if find_user_by_email(email) is not None:
        raise Conflict(_l("An account already exists for %(email)s.", email=email))
    check_role_fits_organisation(role, organisation)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        token_hash=token_hash_of(token),
        email=email,
        role=role,
        organisation=organisation,
        invited_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + valid_for,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.created", invitation, actor=actor, email=email, role=role.value)
    return invitation, token


def find_invitation(token: str, now: datetime | None = None) -> Invitation:
    """The usable invitation behind a link: unknown → 404, used → 409, expired → 410."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash_of(token))
    )
    if invitation is None:
        raise NotFound(_l("This invitation link is not valid. Check that you copied it whole."))
    if invitation.is_accepted:
        raise Conflict(
            _l("This invitation has already been used. Sign in with the account it created.")
        )
    if invitation.is_expired(now or utcnow()):
        raise Gone(_l("This invitation has expired. Ask the USH team for a new one."))
    return invitation


def accept_invitation(token: str, display_name: str, password: str) -> User:
    """Create the invited account, once; the invitation cannot be used again."""
    invitation = find_invitation(token)
    check_password_strength(password)
    # Claim the invitation with a conditional update so that two simultaneous uses cannot both win.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(_l("This invitation has already been used."))
    user = create_user(
        invitation.email, display_name, invitation.role, password, invitation.organisation
    )
    db.session.refresh(invitation)
    invitation.user_id = user.id
    audit.record("invitation.accepted", invitation, actor=user)
    return user


def send_invitation_mail(invitation: Invitation, link: str) -> None:
    """E-mail the invitation link to the invited person."""
    body = render_template("accounts/mail/invitation.txt", invitation=invitation, link=link)
    send_mail(invitation.email, str(_l("Your invitation to Utiles ensemble")), body)


def request_password_reset(email: str, link_for: Callable[[str], str]) -> None:
    """E-mail a one-time link to choose a new password, if an active account has this email.

    Returns nothing whatever the email, so that the caller answers the same way to everyone
    and nobody can learn which addresses have an account.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.password_hash is None:
        return
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(
        token_hash=token_hash_of(token),
        user=user,
        created_at=now,
        expires_at=now + PASSWORD_RESET_VALID_FOR,
    )
    db.session.add(reset)
    db.session.flush()
    audit.record("account.password_reset_requested", user)
    body = render_template("accounts/mail/password_reset.txt", reset=reset, link=link_for(token))
    send_mail(user.email, str(_l("Choose a new password for Utiles ensemble")), body)


def find_password_reset(token: str, now: datetime | None = None) -> PasswordReset:
    """The usable reset behind a link: unknown → 404, used → 409, expired → 410."""
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash_of(token))
    )
    # A deactivated account cannot get back in through a link sent before it was deactivated.
    if reset is None or not reset.user.is_active:
        raise NotFound(_l("This password reset link is not valid. Check that you copied it whole."))
    if reset.is_used:
        raise Conflict(
            _l("This password reset link has already been used. Ask for a new one if needed.")
        )
    if reset.is_expired(now or utcnow()):
        raise Gone(_l("This password reset link has expired. Ask for a new one."))
    return reset


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link, once, and sign the account out everywhere."""
    reset = find_password_reset(token)
    check_password_strength(new_password)
    now = utcnow()
    # Claim the link with a conditional update so that two simultaneous uses cannot both win.
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(_l("This password reset link has already been used."))
    # Void the account's other links, so that one left in the mailbox cannot undo this reset.
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(reset)
    user = reset.user
    user.password_hash = hash_password(new_password)
    # Whoever knew the old password may be signed in somewhere: end every session.
    ended = revoke_sessions(user)
    audit.record("account.password_reset", user, actor=user, sessions_ended=ended)
    db.session.flush()
    return user

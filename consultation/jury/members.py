"""The jury pool as citizens and staff build it: public applications, the import of a pool in
the Sortition Foundation's format, the categories and quotas staff adjust, and the pool's
summary (how many volunteers hold each feature, against its quotas).

The pool is frozen once a draw has been committed on it: the draw's snapshot and its public
replay must match the pool it was committed on, so nothing may join, leave or change after.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from consultation.accounts.models import User
from consultation.accounts.services import check_email_address, normalise_email
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, NotFound
from consultation.extensions import db
from consultation.jury.models import (
    Category,
    Draw,
    MemberFeature,
    MemberSource,
    PoolContact,
    PoolMember,
    Quota,
)
from consultation.jury.pool import ID_COLUMN, Pool, PoolError, parse_pool

# Phases after the jury: no one joins a pool whose work is done.
CLOSED_PHASES = (Phase.REMISE, Phase.ARCHIVED)
# A quota bound above this is a typing slip, and would not fit in every database's integer.
MAX_BOUND = 100_000
NAME_MAX = 200
EMAIL_MAX = 320
PHONE_MAX = 40
KEY_MAX = 80  # category names, features and references (str80 columns)
LABEL_MAX = 200
# Contact columns of respondents.csv, by the PoolContact attribute they fill (lower case).
CONTACT_COLUMNS = {
    "full_name": ("full_name", "name", "nom"),
    "email": ("email", "courriel"),
    "phone": ("phone", "telephone", "téléphone"),
}
# Generated references: a letter and random hexadecimal digits, so that they name no one and
# cannot be guessed from a name or an arrival order.
APPLICATION_PREFIX = "C"
IMPORT_PREFIX = "R"  # rows of a file without an id column, numbered in file order
_PHONE = re.compile(r"^\+?[0-9 .()\-]{6,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- State of the pool ---------------------------------------------------------------------


def is_pool_frozen(consultation: Consultation) -> bool:
    """True once a draw has been committed on the consultation's pool."""
    return (
        db.session.scalar(select(Draw.id).where(Draw.consultation_id == consultation.id).limit(1))
        is not None
    )


def list_categories(consultation: Consultation) -> list[Category]:
    """The consultation's categories in order, with their quotas (two queries)."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.consultation_id == consultation.id)
            .options(selectinload(Category.quotas))
            .order_by(Category.position, Category.id)
        )
    )


def applications_closed_reason(consultation: Consultation) -> LazyString | None:
    """Why the public cannot apply now (a message to show), or None while applications are open."""
    if consultation.phase in CLOSED_PHASES:
        return _l("Applications to the jury are closed: the jury's work is over.")
    if is_pool_frozen(consultation):
        return _l(
            "Applications to the jury are closed: the draw has started, and the pool it is "
            "made from can no longer change."
        )
    has_categories = db.session.scalar(
        select(Category.id).where(Category.consultation_id == consultation.id).limit(1)
    )
    if has_categories is None:
        return _l(
            "Applications to the jury are not open yet: the criteria of the draw are still "
            "being prepared."
        )
    return None


def check_pool_editable(consultation: Consultation) -> None:
    """Refuse any change to the pool once it is frozen or the consultation archived."""
    if consultation.phase is Phase.ARCHIVED:
        raise Conflict(_l("An archived consultation is read-only."))
    if is_pool_frozen(consultation):
        raise Conflict(
            _l(
                "The pool is frozen: a draw was committed on it, so its members and quotas "
                "can no longer change."
            )
        )


def lock_pool(consultation: Consultation) -> None:
    """Serialise the pool's writers on PostgreSQL (a no-op on SQLite, which has one writer)."""
    db.session.execute(
        select(Consultation.id).where(Consultation.id == consultation.id).with_for_update()
    )


# --- Public applications ---------------------------------------------------------------------


def _clean(value: str | None) -> str:
    """A one-line text without control characters (which some databases refuse)."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _checked_email(email: str) -> str:
    email = normalise_email(_CONTROL.sub("", email or ""))
    if not email:
        raise DomainError(_l("Give your e-mail address."), field="email")
    if len(email) > EMAIL_MAX:
        raise DomainError(_l("This e-mail address is too long."), field="email")
    try:
        check_email_address(email)
    except DomainError as error:
        raise DomainError(error.message, field="email") from None
    return email


def _checked_phone(phone: str | None) -> str | None:
    phone = _clean(phone)
    if not phone:
        return None
    if len(phone) > PHONE_MAX or not _PHONE.match(phone):
        raise DomainError(
            _l("“%(phone)s” is not a telephone number.", phone=phone[:PHONE_MAX]), field="phone"
        )
    return phone


def _new_reference(consultation: Consultation) -> str:
    """A fresh pseudonymous reference, unique in the consultation's pool."""
    while True:
        reference = APPLICATION_PREFIX + secrets.token_hex(5).upper()
        taken = db.session.scalar(
            select(PoolMember.id).where(
                PoolMember.consultation_id == consultation.id, PoolMember.reference == reference
            )
        )
        if taken is None:
            return reference


def apply_to_pool(
    consultation: Consultation,
    features: Mapping[str, str],
    full_name: str,
    email: str,
    phone: str | None,
    has_consented: bool,
    now: datetime,
) -> PoolMember:
    """Add a volunteer from the public form: their feature in every category (by category
    name), their contact kept apart, and the time of their consent."""
    reason = applications_closed_reason(consultation)
    if reason is not None:
        raise Conflict(reason)
    if not has_consented:
        raise DomainError(
            _l("Your consent is needed: without it we cannot keep your application."),
            field="has_consented",
        )
    name = _clean(full_name)
    if not name:
        raise DomainError(_l("Give your name."), field="full_name")
    if len(name) > NAME_MAX:
        raise DomainError(
            _l("The name is too long (at most %(n)d characters).", n=NAME_MAX), field="full_name"
        )
    email = _checked_email(email)
    phone = _checked_phone(phone)

    categories = list_categories(consultation)
    known = {category.name for category in categories}
    unknown = sorted(set(features) - known)
    if unknown:
        raise DomainError(
            _l("Unknown criteria of the draw: %(names)s.", names=", ".join(unknown)),
            field=unknown[0],
        )
    chosen = []
    for category in categories:
        value = (features.get(category.name) or "").strip()
        if not value:
            raise DomainError(
                _l("Choose your answer for “%(category)s”.", category=category.label),
                field=category.name,
            )
        quota = next((quota for quota in category.quotas if quota.feature == value), None)
        if quota is None:
            raise DomainError(
                _l(
                    "“%(feature)s” is not one of the answers for “%(category)s”.",
                    feature=value[:KEY_MAX],
                    category=category.label,
                ),
                field=category.name,
            )
        chosen.append(MemberFeature(category_id=category.id, quota_id=quota.id))

    already = _already_applied(email)
    lock_pool(consultation)
    taken = db.session.scalar(
        select(PoolContact.id).where(
            PoolContact.consultation_id == consultation.id, PoolContact.email == email
        )
    )
    if taken is not None:
        raise already
    member = PoolMember(
        consultation_id=consultation.id,
        reference=_new_reference(consultation),
        source=MemberSource.APPLICATION,
        created_at=now,
        features=chosen,
        contact=PoolContact(
            consultation_id=consultation.id,
            full_name=name,
            email=email,
            phone=phone,
            consented_at=now,
        ),
    )
    db.session.add(member)
    try:
        db.session.flush()
    except IntegrityError:  # the same e-mail at the same instant: the caller rolls back
        raise already from None
    return member


def _already_applied(email: str) -> Conflict:
    return Conflict(
        _l("%(email)s has already applied to this jury pool.", email=email), field="email"
    )


# --- Staff: importing a pool -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    """What an import created, and how many members it replaced."""

    categories: int
    quotas: int
    members: int
    contacts: int
    replaced: int


def decode_upload(content: bytes, name: str) -> str:
    """The text of an uploaded pool file: UTF-8 (with or without BOM), else Windows-1252, as
    spreadsheets save it; anything else (NUL bytes, undecodable bytes) is not a pool file."""
    if b"\x00" in content:
        raise PoolError(_l("The file is not UTF-8 text."), file=name)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise PoolError(_l("The file is not UTF-8 text."), file=name) from None


@dataclass(frozen=True)
class _Contact:
    full_name: str
    email: str | None
    phone: str | None


def _check_keys(pool: Pool, name: str) -> None:
    """Names, features and bounds that fit the columns (pool.py reads any length and size)."""
    for quota in pool.quotas:
        for column, value in (("category", quota.category), ("feature", quota.feature)):
            if len(value) > KEY_MAX:
                raise PoolError(
                    _l(
                        "“%(value)s…” is too long (at most %(n)d characters).",
                        value=value[:20],
                        n=KEY_MAX,
                    ),
                    file=name,
                    column=column,
                )
        if quota.max > MAX_BOUND:
            raise PoolError(
                _l(
                    "The quota %(category)s/%(feature)s: %(value)s is above %(limit)s.",
                    category=quota.category,
                    feature=quota.feature,
                    value=quota.max,
                    limit=MAX_BOUND,
                ),
                file=name,
                column="max",
            )


def _contact_columns(pool: Pool) -> dict[str, str]:
    """The respondents' columns holding contact data, by PoolContact attribute."""
    by_lower = {column.lower(): column for column in pool.columns if column not in pool.categories}
    found = {}
    for attribute, aliases in CONTACT_COLUMNS.items():
        column = next((by_lower[alias] for alias in aliases if alias in by_lower), None)
        if column is not None:
            found[attribute] = column
    return found


def _read_members(pool: Pool, name: str) -> list[tuple[str, _Contact | None]]:
    """Each member's reference and contact (None when the row has none), checked row by row."""
    columns = _contact_columns(pool)
    has_id = ID_COLUMN in pool.columns
    seen_emails: dict[str, int] = {}
    rows = []
    for index, member in enumerate(pool.members, start=1):
        reference = member.row[ID_COLUMN].strip() if has_id else f"{IMPORT_PREFIX}{index:05d}"
        if len(reference) > KEY_MAX:
            raise PoolError(
                _l("An id has at most %(n)d characters.", n=KEY_MAX), name, member.line, ID_COLUMN
            )
        values = {
            attribute: _clean(member.row.get(column)) for attribute, column in columns.items()
        }
        full_name = values.get("full_name", "")
        if len(full_name) > NAME_MAX:
            raise PoolError(
                _l("The name is too long (at most %(n)d characters).", n=NAME_MAX),
                name,
                member.line,
                columns["full_name"],
            )
        email = normalise_email(values.get("email", "")) or None
        if email is not None:
            column = columns["email"]
            try:
                if len(email) > EMAIL_MAX:
                    raise DomainError(_l("This e-mail address is too long."))
                check_email_address(email)
            except DomainError as error:
                raise PoolError(error.message, name, member.line, column) from None
            if email in seen_emails:
                raise PoolError(
                    _l(
                        "The e-mail address %(email)s is already given on line %(first)s.",
                        email=email,
                        first=seen_emails[email],
                    ),
                    name,
                    member.line,
                    column,
                )
            seen_emails[email] = member.line
        phone = values.get("phone") or None
        if phone is not None and len(phone) > PHONE_MAX:
            raise PoolError(
                _l("A telephone number has at most %(n)d characters.", n=PHONE_MAX),
                name,
                member.line,
                columns["phone"],
            )
        has_contact = bool(full_name or email or phone)
        rows.append((reference, _Contact(full_name, email, phone) if has_contact else None))
    return rows


def _clear_pool(consultation: Consultation) -> int:
    """Delete the consultation's members, categories and quotas; return how many members.

    Bulk deletes, children first (a feature held by a member RESTRICTs its quota's deletion);
    "fetch" drops the deleted rows from the session so that reused ids cannot clash."""
    fetch = {"synchronize_session": "fetch"}
    members = select(PoolMember.id).where(PoolMember.consultation_id == consultation.id)
    categories = select(Category.id).where(Category.consultation_id == consultation.id)
    db.session.execute(
        delete(MemberFeature).where(MemberFeature.member_id.in_(members)), execution_options=fetch
    )
    db.session.execute(
        delete(PoolContact).where(PoolContact.consultation_id == consultation.id),
        execution_options=fetch,
    )
    removed = db.session.execute(
        delete(PoolMember).where(PoolMember.consultation_id == consultation.id),
        execution_options=fetch,
    ).rowcount
    db.session.execute(
        delete(Quota).where(Quota.category_id.in_(categories)), execution_options=fetch
    )
    db.session.execute(
        delete(Category).where(Category.consultation_id == consultation.id),
        execution_options=fetch,
    )
    return removed or 0


def import_pool(
    consultation: Consultation,
    categories_text: str,
    respondents_text: str,
    actor: User | None,
    now: datetime,
    categories_name: str = "categories.csv",
    respondents_name: str = "respondents.csv",
) -> ImportSummary:
    """Replace the consultation's pool (categories, quotas, members) by the two files'.

    Everything is checked before anything is deleted, so a bad file changes nothing; contact
    columns go to PoolContact, other columns that are not categories are ignored."""
    check_pool_editable(consultation)
    for text, name in ((categories_text, categories_name), (respondents_text, respondents_name)):
        if "\x00" in text:
            raise PoolError(_l("The file is not UTF-8 text."), file=name)
    pool = parse_pool(categories_text, respondents_text, categories_name, respondents_name)
    _check_keys(pool, categories_name)
    rows = _read_members(pool, respondents_name)

    lock_pool(consultation)
    check_pool_editable(consultation)  # again under the lock: a draw may have been committed since
    removed = _clear_pool(consultation)
    quotas: dict[tuple[str, str], Quota] = {}
    categories = []
    for position, name in enumerate(pool.categories):
        category = Category(
            consultation_id=consultation.id, name=name, label=name[:LABEL_MAX], position=position
        )
        category.quotas = [
            Quota(
                feature=quota.feature,
                label=quota.feature,
                min_count=quota.min,
                max_count=quota.max,
                position=index,
            )
            for index, quota in enumerate(pool.features(name))
        ]
        for quota in category.quotas:
            quotas[name, quota.feature] = quota
        categories.append(category)
    db.session.add_all(categories)
    db.session.flush()

    # Bulk inserts: one statement per table (batched by SQLAlchemy), not one per member.
    member_ids = db.session.scalars(
        insert(PoolMember).returning(PoolMember.id, sort_by_parameter_order=True),
        [
            {
                "consultation_id": consultation.id,
                "reference": reference,
                "source": MemberSource.IMPORT,
                "created_at": now,
            }
            for reference, _ in rows
        ],
    ).all()
    db.session.execute(
        insert(MemberFeature),
        [
            {
                "member_id": member_id,
                "category_id": quotas[category, feature].category_id,
                "quota_id": quotas[category, feature].id,
            }
            for member_id, member in zip(member_ids, pool.members, strict=True)
            for category, feature in zip(pool.categories, member.features, strict=True)
        ],
    )
    contacts = [
        {
            "member_id": member_id,
            "consultation_id": consultation.id,
            "full_name": contact.full_name,
            "email": contact.email,
            "phone": contact.phone,
        }
        for member_id, (_, contact) in zip(member_ids, rows, strict=True)
        if contact is not None
    ]
    if contacts:
        db.session.execute(insert(PoolContact), contacts)
    summary = ImportSummary(
        categories=len(categories),
        quotas=len(quotas),
        members=len(member_ids),
        contacts=len(contacts),
        replaced=removed,
    )
    audit.record(
        "jury.pool_imported",
        consultation,
        actor=actor,
        categories=summary.categories,
        quotas=summary.quotas,
        members=summary.members,
        contacts=summary.contacts,
        replaced=summary.replaced,
        files=[categories_name, respondents_name],
    )
    return summary


# --- Staff: quotas and labels -------------------------------------------------------------------


def update_quotas(
    consultation: Consultation,
    changes: Mapping[int, tuple[int, int, str]],
    actor: User | None,
) -> list[Quota]:
    """Set the minimum, maximum and label of quotas given by id: {quota id: (min, max, label)}.

    Quotas that no panel could meet are stored (the draw reports them); a minimum above the
    maximum or a negative bound is refused, naming the field (`min_<id>`, `max_<id>`…)."""
    check_pool_editable(consultation)
    quotas = {
        quota.id: quota
        for quota in db.session.scalars(
            select(Quota)
            .join(Category)
            .where(Category.consultation_id == consultation.id, Quota.id.in_(list(changes)))
            .options(contains_eager(Quota.category))
        )
    }
    checked = []
    for quota_id, (low, high, label) in changes.items():
        quota = quotas.get(quota_id)
        if quota is None:
            raise NotFound(_l("This quota is not one of this consultation's."))
        label = _checked_label(label, f"label_{quota_id}")
        for field, bound in ((f"min_{quota_id}", low), (f"max_{quota_id}", high)):
            if bound < 0:
                raise DomainError(_l("A bound cannot be negative."), field=field)
            if bound > MAX_BOUND:
                raise DomainError(_l("A bound is at most %(limit)s.", limit=MAX_BOUND), field=field)
        if low > high:
            raise DomainError(
                _l("The minimum %(min)s is above the maximum %(max)s.", min=low, max=high),
                field=f"min_{quota_id}",
            )
        checked.append((quota, low, high, label))
    # Only once every row is valid: a refused form changes nothing.
    changed = []
    for quota, low, high, label in checked:
        before = (quota.min_count, quota.max_count, quota.label)
        if before != (low, high, label):
            changed.append(
                f"{quota.category.name}/{quota.feature}: {before[0]}..{before[1]} "
                f"“{before[2]}” → {low}..{high} “{label}”"
            )
            quota.min_count, quota.max_count, quota.label = low, high, label
    db.session.flush()
    if changed:
        audit.record("jury.quotas_updated", consultation, actor=actor, changes=changed)
    return [quotas[quota_id] for quota_id in changes]


def update_category_labels(
    consultation: Consultation, labels: Mapping[int, str], actor: User | None
) -> list[Category]:
    """Set the labels people read for categories given by id: {category id: label}."""
    check_pool_editable(consultation)
    categories = {
        category.id: category
        for category in db.session.scalars(
            select(Category).where(
                Category.consultation_id == consultation.id, Category.id.in_(list(labels))
            )
        )
    }
    checked = []
    for category_id, label in labels.items():
        category = categories.get(category_id)
        if category is None:
            raise NotFound(_l("This category is not one of this consultation's."))
        checked.append((category, _checked_label(label, f"category_label_{category_id}")))
    changed = []
    for category, label in checked:
        if label != category.label:
            changed.append(f"{category.name}: “{category.label}” → “{label}”")
            category.label = label
    db.session.flush()
    if changed:
        audit.record("jury.categories_renamed", consultation, actor=actor, changes=changed)
    return [categories[category_id] for category_id in labels]


def _checked_label(label: str, field: str) -> str:
    label = _clean(label)
    if not label:
        raise DomainError(_l("Give a label."), field=field)
    if len(label) > LABEL_MAX:
        raise DomainError(_l("A label has at most %(n)d characters.", n=LABEL_MAX), field=field)
    return label


# --- The summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSummary:
    """A feature's quota and how many pool members hold it."""

    quota_id: int
    feature: str
    label: str
    min: int
    max: int
    count: int

    @property
    def is_short(self) -> bool:
        """Fewer volunteers hold it than the panel must include."""
        return self.count < self.min


@dataclass(frozen=True)
class CategorySummary:
    """A category and its features, in order."""

    category_id: int
    name: str
    label: str
    features: list[FeatureSummary]


@dataclass(frozen=True)
class PoolSummary:
    """The pool per category and feature, and its size."""

    categories: list[CategorySummary]
    members: int


def pool_summary(consultation: Consultation) -> PoolSummary:
    """Per category and feature: label, min, max and holders; three queries whatever the size."""
    rows = db.session.execute(
        select(Category, Quota)
        .join(Quota, Quota.category_id == Category.id)
        .where(Category.consultation_id == consultation.id)
        .order_by(Category.position, Category.id, Quota.position, Quota.id)
    ).all()
    counts = dict(
        db.session.execute(
            select(MemberFeature.quota_id, func.count())
            .join(PoolMember, PoolMember.id == MemberFeature.member_id)
            .where(PoolMember.consultation_id == consultation.id)
            .group_by(MemberFeature.quota_id)
        ).all()
    )
    members = db.session.scalar(
        select(func.count())
        .select_from(PoolMember)
        .where(PoolMember.consultation_id == consultation.id)
    )
    categories: dict[int, CategorySummary] = {}
    for category, quota in rows:
        summary = categories.get(category.id)
        if summary is None:
            summary = categories[category.id] = CategorySummary(
                category.id, category.name, category.label, []
            )
        summary.features.append(
            FeatureSummary(
                quota.id,
                quota.feature,
                quota.label,
                quota.min_count,
                quota.max_count,
                counts.get(quota.id, 0),
            )
        )
    return PoolSummary(list(categories.values()), members or 0)

"""The candidates, and the sending of the final text to them: one recorded dispatch per
candidate and export, delivered by a job over SMTP, retried with back-off, never sent twice."""

from __future__ import annotations

import email.policy
import hashlib
import secrets
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload, undefer

from consultation.accounts.models import User
from consultation.accounts.services import check_email_address, normalise_email
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.core.jobs import job
from consultation.core.mail import _send_smtp, build_message
from consultation.core.models import utcnow
from consultation.exports.models import (
    Candidate,
    Dispatch,
    DispatchStatus,
    ExportFile,
    FinalTextExport,
)
from consultation.extensions import db

NAME_MAX = 200
EMAIL_MAX = 320
ATTACHED_FORMATS = ("pdf", "odt")
MAX_ATTEMPTS = 6
FIRST_RETRY_DELAY = timedelta(minutes=1)  # then 2, 4, 8 and 16 minutes
# How long a job owns a dispatch it claimed: longer than any SMTP conversation (30 s per
# command), so that nobody else sends it meanwhile, short enough that a crashed worker's
# dispatch is retried the same day.
CLAIM_LEASE = timedelta(minutes=10)
# Huey's clock and the database's may differ a little: run a retry just after it is due.
SCHEDULE_MARGIN = timedelta(seconds=2)
MAIL_TEMPLATE = "exports/mail/final_text.txt"


# --- Candidates ---------------------------------------------------------------------------------


def list_candidates(consultation: Consultation) -> list[Candidate]:
    """The consultation's candidates by name, with their dispatches."""
    return list(
        db.session.scalars(
            select(Candidate)
            .where(Candidate.consultation_id == consultation.id)
            .options(selectinload(Candidate.dispatches))
            .order_by(Candidate.name, Candidate.id)
        )
    )


def find_candidate(consultation: Consultation, candidate_id: int) -> Candidate:
    """One of the consultation's candidates; another consultation's is not found."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.consultation_id != consultation.id:
        raise NotFound(_l("This consultation has no such candidate."))
    return candidate


def _check_editable(consultation: Consultation) -> None:
    if consultation.phase is Phase.ARCHIVED:
        raise InvalidTransition(
            _l("This consultation is archived: its candidates can no longer change.")
        )


def _clean(name: str, party: str, email: str) -> tuple[str, str, str]:
    """Trimmed fields, or the first error about them."""
    name, party, email = (name or "").strip(), (party or "").strip(), normalise_email(email or "")
    if not name:
        raise DomainError(_l("Give the candidate's name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(
            _l("The name is too long (%(max)d characters at most).", max=NAME_MAX), field="name"
        )
    if len(party) > NAME_MAX:
        raise DomainError(
            _l("The party or movement is too long (%(max)d characters at most).", max=NAME_MAX),
            field="party",
        )
    if not email:
        raise DomainError(_l("Give the candidate's e-mail address."), field="email")
    if len(email) > EMAIL_MAX:
        raise DomainError(
            _l("The e-mail address is too long (%(max)d characters at most).", max=EMAIL_MAX),
            field="email",
        )
    try:
        check_email_address(email)
    except DomainError as error:
        error.field = "email"
        raise
    return name, party, email


def _duplicate(email: str) -> Conflict:
    return Conflict(
        _l(
            "Another candidate of this consultation already has the address %(email)s.", email=email
        ),
        field="email",
    )


def _check_unique(consultation: Consultation, email: str, candidate_id: int | None) -> None:
    clash = db.session.scalar(
        select(Candidate.id).where(
            Candidate.consultation_id == consultation.id,
            Candidate.email == email,
            Candidate.id != (candidate_id or 0),
        )
    )
    if clash is not None:
        raise _duplicate(email)


def _flush_unique(email: str) -> None:
    """Flush; a candidate added with the same address meanwhile is a conflict, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _duplicate(email) from None


def add_candidate(
    consultation: Consultation, name: str, party: str, email: str, actor: User | None
) -> Candidate:
    """Add a candidate the final text may be sent to; one per e-mail address."""
    _check_editable(consultation)
    name, party, email = _clean(name, party, email)
    _check_unique(consultation, email, None)
    candidate = Candidate(consultation_id=consultation.id, name=name, party=party, email=email)
    db.session.add(candidate)
    _flush_unique(email)
    audit.record("candidate.added", candidate, actor=actor, name=name)
    return candidate


def update_candidate(
    candidate: Candidate, name: str, party: str, email: str, actor: User | None
) -> Candidate:
    """Change a candidate's name, party or address; what was already sent keeps its record."""
    _check_editable(candidate.consultation)
    name, party, email = _clean(name, party, email)
    _check_unique(candidate.consultation, email, candidate.id)
    changed = [
        field
        for field, value in (("name", name), ("party", party), ("email", email))
        if getattr(candidate, field) != value
    ]
    candidate.name, candidate.party, candidate.email = name, party, email
    _flush_unique(email)
    if changed:
        audit.record("candidate.updated", candidate, actor=actor, fields=changed)
    return candidate


def delete_candidate(candidate: Candidate, actor: User | None) -> None:
    """Remove a candidate nothing was sent to yet: a delivered text's record is kept."""
    _check_editable(candidate.consultation)
    sent = db.session.scalar(
        select(func.count(Dispatch.id)).where(
            Dispatch.candidate_id == candidate.id, Dispatch.status == DispatchStatus.SENT
        )
    )
    if sent:
        raise Conflict(
            _l(
                "The final text was sent to %(name)s: the candidate is kept, as the record "
                "of that dispatch.",
                name=candidate.name,
            )
        )
    audit.record("candidate.deleted", candidate, actor=actor, name=candidate.name)
    db.session.delete(candidate)
    db.session.flush()


# --- Sending ------------------------------------------------------------------------------------


def attachments_of(export: FinalTextExport) -> list[ExportFile]:
    """The files a dispatch carries (the PDF and the ODT), or 409 when the export lacks one."""
    files = [export.file(name) for name in ATTACHED_FORMATS]
    missing = [name.upper() for name, file in zip(ATTACHED_FORMATS, files, strict=True) if not file]
    if missing:
        raise Conflict(
            _l(
                "Export %(n)d has no %(formats)s file: export the final text again before "
                "sending it.",
                n=export.number,
                formats=", ".join(missing),
            )
        )
    return [file for file in files if file is not None]


def send_final_text(
    export: FinalTextExport,
    candidates: Iterable[Candidate],
    actor: User | None,
    now: datetime,
    link: str,
) -> list[Dispatch]:
    """Record a dispatch of `export` to each candidate, with the checksums of its attachments.

    A candidate the export was already delivered to is skipped: nothing is sent twice. A
    pending or failed dispatch is queued again. Returns the dispatches to deliver: the caller
    commits, then hands them with `link` (the public page the message points to) to
    `queue_deliveries`, since each job reads its dispatch in its own transaction (a worker
    would not see an uncommitted one)."""
    if export.consultation.phase is not Phase.REMISE:
        # The message links to the public final-text page: it must be public by then.
        raise InvalidTransition(
            _l(
                "The final text is sent in the remise phase, once it is public: move the "
                "consultation to that phase first."
            )
        )
    checksums = {file.filename: file.sha256 for file in attachments_of(export)}
    chosen = list(candidates)
    if not chosen:
        raise DomainError(_l("Choose at least one candidate to send the final text to."))
    if any(candidate.consultation_id != export.consultation_id for candidate in chosen):
        raise NotFound(_l("This consultation has no such candidate."))
    existing = {
        dispatch.candidate_id: dispatch
        for dispatch in db.session.scalars(
            select(Dispatch).where(
                Dispatch.export_id == export.id,
                Dispatch.candidate_id.in_([candidate.id for candidate in chosen]),
            )
        )
    }
    queued: list[Dispatch] = []
    for candidate in chosen:
        dispatch = existing.get(candidate.id)
        if dispatch is None:
            dispatch = Dispatch(
                export_id=export.id,
                candidate_id=candidate.id,
                status=DispatchStatus.PENDING,
                checksums=checksums,
                created_at=now,
                created_by_id=actor.id if actor else None,
            )
            db.session.add(dispatch)
        elif dispatch.status is DispatchStatus.SENT:
            continue
        elif dispatch.status is DispatchStatus.FAILED:
            _restart(dispatch)
        # A pending one keeps its next attempt: it may be in a worker's hands right now.
        queued.append(dispatch)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l("The final text is being sent by someone else meanwhile. Reload the page.")
        ) from None
    audit.record(
        "dispatch.queued",
        export,
        actor=actor,
        candidates=[dispatch.candidate_id for dispatch in queued],
        checksums=checksums,
        link=link,
    )
    return queued


def _restart(dispatch: Dispatch) -> None:
    """A failed dispatch gets a new series of attempts (the audit log keeps the old one)."""
    dispatch.status = DispatchStatus.PENDING
    dispatch.attempts = 0
    dispatch.next_attempt_at = None


def queue_deliveries(dispatches: Iterable[Dispatch], link: str) -> None:
    """Queue the delivery jobs, once the dispatches are committed."""
    for dispatch_id in [dispatch.id for dispatch in dispatches]:
        deliver_dispatch(dispatch_id, link)


def retry_dispatch(dispatch: Dispatch, actor: User | None) -> Dispatch:
    """Staff try again a dispatch whose every attempt failed; the caller commits, then queues."""
    if dispatch.status is DispatchStatus.SENT:
        raise InvalidTransition(
            _l("This dispatch was delivered: it is not sent again."),
        )
    if dispatch.status is DispatchStatus.PENDING:
        # Only a failed dispatch is surely in nobody's hands; a pending one retries by itself.
        raise InvalidTransition(
            _l(
                "This dispatch is still pending: it is retried automatically (next attempt "
                "shown in the table)."
            )
        )
    audit.record(
        "dispatch.retried",
        dispatch,
        actor=actor,
        attempts=dispatch.attempts,
        last_error=dispatch.last_error,
    )
    _restart(dispatch)
    db.session.flush()
    return dispatch


def find_dispatch(consultation: Consultation, dispatch_id: int) -> Dispatch:
    """One dispatch of the consultation's exports; another consultation's is not found."""
    dispatch = db.session.scalar(
        select(Dispatch)
        .join(FinalTextExport, FinalTextExport.id == Dispatch.export_id)
        .where(Dispatch.id == dispatch_id, FinalTextExport.consultation_id == consultation.id)
    )
    if dispatch is None:
        raise NotFound(_l("This consultation has no such dispatch."))
    return dispatch


def consultation_dispatches(consultation: Consultation) -> list[Dispatch]:
    """Every dispatch of the consultation, latest export first, with its candidate and export."""
    return list(
        db.session.scalars(
            select(Dispatch)
            .join(FinalTextExport, FinalTextExport.id == Dispatch.export_id)
            .join(Candidate, Candidate.id == Dispatch.candidate_id)
            .where(FinalTextExport.consultation_id == consultation.id)
            .options(joinedload(Dispatch.candidate), joinedload(Dispatch.export))
            .order_by(FinalTextExport.number.desc(), Candidate.name, Dispatch.id)
        )
    )


def due_dispatches(now: datetime) -> list[Dispatch]:
    """The pending dispatches whose next attempt is due (or never started): for `retry-due`."""
    return list(
        db.session.scalars(
            select(Dispatch)
            .where(
                Dispatch.status == DispatchStatus.PENDING,
                or_(Dispatch.next_attempt_at.is_(None), Dispatch.next_attempt_at <= now),
            )
            .options(joinedload(Dispatch.export).joinedload(FinalTextExport.consultation))
            .order_by(Dispatch.id)
        )
    )


def final_text_link(consultation: Consultation) -> str:
    """The public final-text page, from BASE_URL (never from the request's Host header)."""
    if has_request_context():
        path = url_for("exports.final_text", slug=consultation.slug)
    else:  # the command line: build it as a request would
        with current_app.test_request_context():
            path = url_for("exports.final_text", slug=consultation.slug)
    return current_app.config["BASE_URL"] + path


# --- Delivery -----------------------------------------------------------------------------------


@job()
def deliver_dispatch(dispatch_id: int, link: str) -> None:
    """Deliver one dispatch in the background (in development and tests, at once)."""
    deliver(dispatch_id, link, utcnow())


def deliver(dispatch_id: int, link: str, now: datetime) -> DispatchStatus | None:
    """Send one dispatch if it is due and no one else is sending it, and record the outcome.

    Returns the dispatch's new status, or None when there was nothing to do (already sent,
    failed, not due yet, or claimed by another worker). Commits: each step must be seen by the
    other workers at once.
    """
    claimed = _claim(dispatch_id, link, now)
    if claimed is None:
        return None
    dispatch, raw = claimed
    try:
        _transmit(raw)
    except (smtplib.SMTPException, OSError) as error:
        return _record_failure(dispatch, link, describe_error(error), now)
    # From here until the commit below, the server has the message and the database does not
    # know it: a crash in this window is the only way a candidate gets the text twice (after
    # the claim's lease expires, `retry-due` sends it again). Nothing runs in between but one
    # UPDATE and its commit; and the retry carries the same Message-ID, which lets the
    # recipient's server and mail reader drop the duplicate.
    db.session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch.id, Dispatch.status == DispatchStatus.PENDING)
        .values(status=DispatchStatus.SENT, sent_at=now, next_attempt_at=None, last_error="")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return DispatchStatus.SENT


def _claim(dispatch_id: int, link: str, now: datetime) -> tuple[Dispatch, bytes] | None:
    """Take a due dispatch for this worker, and build its message; None if it is not ours.

    One conditional UPDATE, committed, claims it: it moves the next attempt to the end of a
    lease, so that another worker running the same job meanwhile (a re-queued job, `retry-due`,
    a second click) finds it not due and leaves it. Unlike SELECT … FOR UPDATE held over the
    SMTP conversation, this holds no lock during the network wait (SQLite would lock every
    writer), and a crashed worker's claim simply expires.
    """
    db.session.commit()  # the claim must not wait in, or commit, somebody else's transaction
    message_id = f"<final-text-{dispatch_id}.{secrets.token_hex(8)}@{_mail_domain()}>"
    claimed = db.session.execute(
        update(Dispatch)
        .where(
            Dispatch.id == dispatch_id,
            Dispatch.status == DispatchStatus.PENDING,
            or_(Dispatch.next_attempt_at.is_(None), Dispatch.next_attempt_at <= now),
        )
        # The Message-ID is chosen once and kept: every attempt sends the same message.
        .values(
            next_attempt_at=now + CLAIM_LEASE,
            message_id=func.coalesce(Dispatch.message_id, message_id),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    dispatch = db.session.scalar(
        select(Dispatch)
        .where(Dispatch.id == dispatch_id)
        .options(joinedload(Dispatch.candidate), joinedload(Dispatch.export))
        .execution_options(populate_existing=True)
    )
    assert dispatch is not None
    try:
        # SMTP wants CRLF line ends, and smtplib sends bytes as they are.
        raw = _message(dispatch, link).as_bytes(policy=email.policy.SMTP)
    except DomainError as error:
        # The files no longer match what was recorded: retrying will not help.
        _record_failure(dispatch, "", str(error.message), now, final=True)
        return None
    except Exception as error:  # a message that cannot be built will not build next time
        current_app.logger.exception("Dispatch %s: the message could not be built", dispatch_id)
        _record_failure(dispatch, "", f"{type(error).__name__}: {error}", now, final=True)
        return None
    return dispatch, raw


def _message(dispatch: Dispatch, link: str) -> EmailMessage:
    """The e-mail of a dispatch: the link, the PDF and the ODT, under its stable Message-ID."""
    export = dispatch.export
    files = db.session.scalars(
        select(ExportFile)
        .where(ExportFile.export_id == export.id, ExportFile.format.in_(ATTACHED_FORMATS))
        .options(undefer(ExportFile.content))
        .order_by(ExportFile.position)
    ).all()
    for file in files:
        if dispatch.checksums.get(file.filename) != hashlib.sha256(file.content).hexdigest():
            raise Conflict(
                _l(
                    "The file %(name)s no longer matches the checksum recorded for this "
                    "dispatch; it was not sent.",
                    name=file.filename,
                )
            )
    if {file.filename for file in files} != set(dispatch.checksums):
        raise Conflict(_l("A file recorded for this dispatch is missing; nothing was sent."))
    consultation = export.consultation
    candidate = dispatch.candidate
    body = current_app.jinja_env.get_template(MAIL_TEMPLATE).render(
        consultation=consultation,
        candidate=candidate,
        export=export,
        files=files,
        link=link,
    )
    subject = _l("The citizen bill of the consultation %(title)s", title=consultation.title)
    message = build_message(
        candidate.email,
        str(subject),
        body,
        tuple((file.filename, file.mimetype, file.content) for file in files),
    )
    del message["Message-ID"]
    message["Message-ID"] = dispatch.message_id
    return message


def _transmit(raw: bytes) -> None:
    """Hand the message to the SMTP server now, or write it to the outbox in development."""
    mail_url = current_app.config["MAIL_URL"]
    if mail_url:
        _send_smtp(mail_url, raw)
        return
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{time.time_ns()}.eml").write_bytes(raw)


def _record_failure(
    dispatch: Dispatch, link: str, error: str, now: datetime, *, final: bool = False
) -> DispatchStatus:
    """Count a failed attempt; schedule the next one with back-off, or give up after the last."""
    attempts = dispatch.attempts + 1
    if final or attempts >= MAX_ATTEMPTS:
        status, next_attempt_at = DispatchStatus.FAILED, None
    else:
        status = DispatchStatus.PENDING
        next_attempt_at = now + FIRST_RETRY_DELAY * 2 ** (attempts - 1)
    db.session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch.id, Dispatch.status == DispatchStatus.PENDING)
        .values(
            status=status,
            attempts=attempts,
            last_error=error[:2000],
            next_attempt_at=next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "dispatch.failed" if status is DispatchStatus.FAILED else "dispatch.attempt_failed",
        dispatch,
        actor=None,
        attempts=attempts,
        error=error[:500],
    )
    db.session.commit()
    current_app.logger.warning("Dispatch %s, attempt %d failed: %s", dispatch.id, attempts, error)
    if next_attempt_at is not None:
        # In production the queue runs it when due; with immediate jobs (development, tests)
        # the schedule never runs, and `dispatch retry-due` does it from next_attempt_at.
        deliver_dispatch.schedule(args=(dispatch.id, link), eta=next_attempt_at + SCHEDULE_MARGIN)
    return status


def describe_error(error: Exception) -> str:
    """What the SMTP server (or the network) said, for the staff page."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _mail_domain() -> str:
    """The domain of the sender's address, for Message-IDs."""
    _name, address = parseaddr(current_app.config["MAIL_SENDER"])
    return address.rpartition("@")[2] or "utiles-ensemble.example"


# --- Public record ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicDispatch:
    """To whom and when the final text was sent: never the address."""

    name: str
    party: str
    sent_at: datetime
    export_number: int
    checksums: dict[str, str]


def public_dispatches(consultation: Consultation) -> list[PublicDispatch]:
    """The delivered dispatches of the consultation, oldest first, in one query."""
    rows = db.session.execute(
        select(
            Candidate.name,
            Candidate.party,
            Dispatch.sent_at,
            FinalTextExport.number,
            Dispatch.checksums,
        )
        .join(Dispatch, Dispatch.candidate_id == Candidate.id)
        .join(FinalTextExport, FinalTextExport.id == Dispatch.export_id)
        .where(
            FinalTextExport.consultation_id == consultation.id,
            Dispatch.status == DispatchStatus.SENT,
        )
        .order_by(Dispatch.sent_at, Candidate.name, Dispatch.id)
    ).all()
    return [
        PublicDispatch(name, party, sent_at, number, dict(checksums or {}))
        for name, party, sent_at, number, checksums in rows
    ]

"""Proposal use cases: drafting, submitting and revising proposals, co-signing them, moderating
them, and the queries behind the public list, the search and the management pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from consultation.accounts.models import Organisation, Region, Role, User
from consultation.consultations.models import Consultation, Phase, Theme
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.proposals import search
from consultation.proposals.models import (
    BODY_MAX,
    PUBLIC_STATUSES,
    RATIONALE_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Cosignature,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    SourceKind,
    source_kind_of,
)

SORTS = ("relevance", "recent")
SIMILAR_LIMIT = 5


@dataclass(frozen=True)
class ProposalInput:
    """What an author types in the proposal form."""

    title: str
    summary: str = ""
    body: str = ""
    rationale: str = ""
    theme_id: int | None = None
    debate_id: int | None = None


@dataclass(frozen=True)
class ProposalFilters:
    """The public list's search and filters, checked."""

    query: str = ""
    theme: Theme | None = None
    region: Region | None = None
    source: SourceKind | None = None
    status: ProposalStatus | None = None
    sort: str = "relevance"

    @property
    def by_relevance(self) -> bool:
        return bool(self.query) and self.sort == "relevance"

    def as_args(self) -> dict[str, str]:
        """The filters as query parameters, for links and pagination."""
        args = {}
        if self.query:
            args["q"] = self.query
        if self.theme is not None:
            args["theme"] = self.theme.slug
        if self.region is not None:
            args["region"] = self.region.code
        if self.source is not None:
            args["source"] = self.source.value
        if self.status is not None:
            args["status"] = self.status.value
        if self.sort != "relevance":
            args["sort"] = self.sort
        return args


@dataclass
class CosignatureCounts:
    """Co-signatures of a proposal, by the source kind of the co-signing organisations."""

    by_source: dict[SourceKind, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_source.values())


# --- Reading -------------------------------------------------------------------------------


def parse_filters(consultation: Consultation, args: Mapping[str, str]) -> ProposalFilters:
    """Check the public list's query parameters; an unknown value is a 400 with its reason."""
    theme = None
    if slug := args.get("theme"):
        theme = db.session.scalar(
            select(Theme).where(Theme.consultation_id == consultation.id, Theme.slug == slug)
        )
        if theme is None:
            raise DomainError(_l("There is no theme “%(value)s”.", value=slug), field="theme")
    region = None
    if code := args.get("region"):
        region = db.session.get(Region, code)
        if region is None:
            raise DomainError(
                _l("There is no region with the code “%(code)s”.", code=code), field="region"
            )
    source = args.get("source") or None
    if source is not None and source not in SourceKind.__members__.values():
        raise DomainError(_l("“%(value)s” is not a source of proposals.", value=source), "source")
    status = args.get("status") or None
    if status is not None and status not in [value.value for value in PUBLIC_STATUSES]:
        raise DomainError(_l("“%(value)s” is not a proposal status.", value=status), "status")
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise DomainError(_l("“%(value)s” is not a sort order.", value=sort), field="sort")
    return ProposalFilters(
        query=(args.get("q") or "").strip()[:200],
        theme=theme,
        region=region,
        source=SourceKind(source) if source else None,
        status=ProposalStatus(status) if status else None,
        sort=sort,
    )


def public_proposals_query(consultation: Consultation, filters: ProposalFilters) -> Select:
    """The consultation's submitted proposals matching the search and filters, sorted."""
    query = select(Proposal).where(
        Proposal.consultation_id == consultation.id, Proposal.status.in_(PUBLIC_STATUSES)
    )
    if filters.theme is not None:
        query = query.where(Proposal.theme_id == filters.theme.id)
    if filters.region is not None:
        query = query.where(Proposal.region_code == filters.region.code)
    if filters.source is not None:
        query = query.where(Proposal.source_kind == filters.source)
    if filters.status is not None:
        query = query.where(Proposal.status == filters.status)
    recent = (Proposal.submitted_at.desc(), Proposal.id.desc())
    if filters.query:
        matches = search.matches(db.session, filters.query)
        if matches is None:  # nothing searchable in the query (only stop words or signs)
            return query.where(False)
        query = query.join(matches, matches.c.proposal_id == Proposal.id)
        if filters.by_relevance:
            return query.order_by(matches.c.rank, *recent)
    return query.order_by(*recent)


def similar_proposals(
    consultation: Consultation, text: str, exclude_id: int | None = None, limit: int = SIMILAR_LIMIT
) -> list[Proposal]:
    """The submitted or accepted proposals closest to a text, best first (by the search index)."""
    matches = search.matches(db.session, text, any_word=True)
    if matches is None:
        return []
    query = (
        select(Proposal)
        .join(matches, matches.c.proposal_id == Proposal.id)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.status.in_((ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED)),
        )
        .order_by(matches.c.rank, Proposal.id)
        .limit(limit)
    )
    if exclude_id is not None:
        query = query.where(Proposal.id != exclude_id)
    return list(db.session.scalars(query))


def may_see(user: User, proposal: Proposal) -> bool:
    """Submitted proposals are public; a draft is seen by its organisation and by staff."""
    if proposal.is_public:
        return True
    if not user.is_authenticated:
        return False
    return user.role is Role.ADMIN or user.organisation_id == proposal.organisation_id


def may_edit(user: User, proposal: Proposal) -> bool:
    """The members of the proposal's organisation edit it while it is not moderated."""
    return (
        user.is_authenticated
        and user.role in (Role.CONTRIBUTOR, Role.REGIONAL_EDITOR)
        and user.organisation_id == proposal.organisation_id
        and proposal.is_editable
    )


def may_cosign(user: User, proposal: Proposal) -> bool:
    """A member of another organisation may co-sign a submitted or accepted proposal."""
    return (
        user.is_authenticated
        and user.role in (Role.CONTRIBUTOR, Role.REGIONAL_EDITOR)
        and user.organisation_id is not None
        and user.organisation_id != proposal.organisation_id
        and proposal.status in (ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED)
    )


def find_proposal(consultation: Consultation, proposal_id: int, user: User) -> Proposal:
    """A proposal the user may see, or 404."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.consultation_id != consultation.id:
        raise NotFound(_l("This proposal does not exist."))
    if not may_see(user, proposal):
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def find_editable_proposal(consultation: Consultation, proposal_id: int, user: User) -> Proposal:
    """A proposal of the user's organisation, or 404 (another organisation's never shows)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.consultation_id != consultation.id
        or user.organisation_id is None
        or proposal.organisation_id != user.organisation_id
    ):
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def organisation_proposals_query(consultation: Consultation, user: User) -> Select:
    """The proposals of the user's organisation, drafts included, the latest first."""
    return (
        select(Proposal)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.organisation_id == user.organisation_id,
        )
        .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
    )


def moderation_queue_query(consultation: Consultation, status: ProposalStatus) -> Select:
    """The submitted proposals in one state, the oldest first (first come, first moderated)."""
    return (
        select(Proposal)
        .where(Proposal.consultation_id == consultation.id, Proposal.status == status)
        .order_by(Proposal.submitted_at, Proposal.id)
    )


def status_counts(consultation: Consultation) -> dict[ProposalStatus, int]:
    """How many of the consultation's proposals are in each state."""
    rows = db.session.execute(
        select(Proposal.status, func.count(Proposal.id))
        .where(Proposal.consultation_id == consultation.id)
        .group_by(Proposal.status)
    ).all()
    counts = dict.fromkeys(ProposalStatus, 0)
    counts.update({ProposalStatus(status): number for status, number in rows})
    return counts


def source_counts(consultation: Consultation) -> dict[SourceKind, int]:
    """How many public proposals came from each kind of source."""
    rows = db.session.execute(
        select(Proposal.source_kind, func.count(Proposal.id))
        .where(Proposal.consultation_id == consultation.id, Proposal.status.in_(PUBLIC_STATUSES))
        .group_by(Proposal.source_kind)
    ).all()
    counts = dict.fromkeys(SourceKind, 0)
    counts.update({SourceKind(kind): number for kind, number in rows})
    return counts


def cosignature_counts(proposal_ids: Sequence[int]) -> dict[int, CosignatureCounts]:
    """The co-signatures of these proposals, counted by the co-signers' source kind (one query)."""
    counts: dict[int, CosignatureCounts] = {}
    if not proposal_ids:
        return counts
    rows = db.session.execute(
        select(Cosignature.proposal_id, Organisation.kind, func.count(Cosignature.id))
        .join(Organisation, Organisation.id == Cosignature.organisation_id)
        .where(Cosignature.proposal_id.in_(proposal_ids))
        .group_by(Cosignature.proposal_id, Organisation.kind)
    ).all()
    for proposal_id, kind, number in rows:
        source = source_kind_of(kind, has_debate=False)
        entry = counts.setdefault(proposal_id, CosignatureCounts())
        entry.by_source[source] = entry.by_source.get(source, 0) + number
    return counts


def cosignatures(proposal: Proposal) -> list[Cosignature]:
    """The co-signatures of a proposal, in the order they were given."""
    return list(
        db.session.scalars(
            select(Cosignature)
            .where(Cosignature.proposal_id == proposal.id)
            .order_by(Cosignature.created_at, Cosignature.id)
        )
    )


def merged_proposals(proposal: Proposal) -> list[Proposal]:
    """The proposals merged into this one."""
    return list(
        db.session.scalars(
            select(Proposal).where(Proposal.merged_into_id == proposal.id).order_by(Proposal.id)
        )
    )


def debate_proposals(debate: Debate) -> list[Proposal]:
    """The public proposals that came out of a debate."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.debate_id == debate.id, Proposal.status.in_(PUBLIC_STATUSES))
            .order_by(Proposal.submitted_at, Proposal.id)
        )
    )


# --- Writing -------------------------------------------------------------------------------


def check_open(consultation: Consultation, now: datetime) -> None:
    """Proposals are written during the concertation, until the deadline."""
    if consultation.phase is not Phase.CONCERTATION:
        raise InvalidTransition(_l("Proposals are received during the concertation phase only."))
    if consultation.proposal_deadline is not None and now > consultation.proposal_deadline:
        raise InvalidTransition(_l("The deadline for proposals has passed."))


def _check_lengths(data: ProposalInput) -> None:
    if not data.title.strip():
        raise DomainError(_l("Give the proposal a title."), field="title")
    for name, value, limit in (
        ("title", data.title, TITLE_MAX),
        ("summary", data.summary, SUMMARY_MAX),
        ("body", data.body, BODY_MAX),
        ("rationale", data.rationale, RATIONALE_MAX),
    ):
        if len(value) > limit:
            raise DomainError(
                _l("At most %(limit)d characters (there are %(n)d).", limit=limit, n=len(value)),
                field=name,
            )


def _check_complete(proposal: Proposal) -> None:
    """What a proposal needs before it is submitted."""
    for name, value, message in (
        ("summary", proposal.summary, _l("Write a short summary before submitting.")),
        ("body", proposal.body, _l("Write the proposal before submitting.")),
    ):
        if not value.strip():
            raise DomainError(message, field=name)
    if proposal.theme_id is None:
        raise DomainError(_l("Choose a theme before submitting."), field="theme_id")


def _theme(consultation: Consultation, theme_id: int | None) -> Theme | None:
    if theme_id is None:
        return None
    theme = db.session.get(Theme, theme_id)
    if theme is None or theme.consultation_id != consultation.id:
        raise DomainError(_l("Choose one of the consultation's themes."), field="theme_id")
    return theme


def _debate(consultation: Consultation, debate_id: int | None, actor: User) -> Debate | None:
    """The debate a proposal came out of: a public debate of the consultation, and for a
    regional editor, a held debate of their own region."""
    if debate_id is None:
        if actor.role is Role.REGIONAL_EDITOR:
            raise DomainError(_l("Choose the debate the proposal came out of."), field="debate_id")
        return None
    debate = db.session.get(Debate, debate_id)
    if (
        debate is None
        or debate.consultation_id != consultation.id
        or debate.status in (DebateStatus.DRAFT, DebateStatus.CANCELLED)
    ):
        raise DomainError(_l("Choose one of the consultation's debates."), field="debate_id")
    if actor.role is Role.REGIONAL_EDITOR:
        if debate.region_code != actor.region_code:
            raise DomainError(_l("Choose a debate of your region."), field="debate_id")
        if debate.status is not DebateStatus.HELD:
            raise DomainError(
                _l("Mark the debate as held before recording its proposals."), field="debate_id"
            )
    return debate


def _apply(proposal: Proposal, data: ProposalInput, actor: User) -> None:
    _check_lengths(data)
    theme = _theme(proposal.consultation, data.theme_id)
    debate = _debate(proposal.consultation, data.debate_id, actor)
    proposal.title = data.title.strip()
    proposal.summary = data.summary.strip()
    proposal.body = data.body.strip()
    proposal.rationale = data.rationale.strip()
    proposal.theme_id = theme.id if theme else None
    proposal.debate_id = debate.id if debate else None
    proposal.source_kind = source_kind_of(proposal.organisation.kind, debate is not None)
    proposal.region_code = debate.region_code if debate else proposal.organisation.region_code


def _add_revision(proposal: Proposal, actor: User | None, now: datetime) -> None:
    proposal.revision_count += 1
    proposal.revisions.append(
        ProposalRevision(
            number=proposal.revision_count,
            title=proposal.title,
            summary=proposal.summary,
            body=proposal.body,
            rationale=proposal.rationale,
            theme_id=proposal.theme_id,
            author_id=actor.id if actor else None,
            created_at=now,
        )
    )


def _writer(actor: User) -> Organisation:
    if actor.role not in (Role.CONTRIBUTOR, Role.REGIONAL_EDITOR) or actor.organisation is None:
        raise Forbidden(_l("Proposals are written by the members of an organisation."))
    return actor.organisation


def create_proposal(
    consultation: Consultation, data: ProposalInput, actor: User, now: datetime
) -> Proposal:
    """Save a new draft on behalf of the author's organisation."""
    check_open(consultation, now)
    proposal = Proposal(
        consultation=consultation,
        organisation=_writer(actor),
        author_id=actor.id,
        status=ProposalStatus.DRAFT,
    )
    _apply(proposal, data, actor)
    db.session.add(proposal)
    db.session.flush()
    search.index_proposals(db.session, [proposal])
    audit.record("proposal.created", proposal, actor=actor)
    return proposal


def update_proposal(proposal: Proposal, data: ProposalInput, actor: User, now: datetime) -> None:
    """Change a draft, or a submitted proposal until the deadline (keeping a revision)."""
    check_open(proposal.consultation, now)
    _writer(actor)
    if not proposal.is_editable:
        raise InvalidTransition(_l("A moderated proposal can no longer be changed."))
    _apply(proposal, data, actor)
    if proposal.status is ProposalStatus.SUBMITTED:
        _check_complete(proposal)
        _add_revision(proposal, actor, now)
    db.session.flush()
    search.index_proposals(db.session, [proposal])
    audit.record("proposal.updated", proposal, actor=actor, revision=proposal.revision_count)


def submit_proposal(proposal: Proposal, actor: User, now: datetime) -> None:
    """Make a draft public; its text becomes the first revision."""
    check_open(proposal.consultation, now)
    _check_complete(proposal)
    proposal.submit(now)
    _add_revision(proposal, actor, now)
    db.session.flush()
    audit.record("proposal.submitted", proposal, actor=actor)


def cosign_proposal(proposal: Proposal, actor: User, now: datetime) -> Cosignature:
    """Co-sign another organisation's proposal, once per organisation."""
    check_open(proposal.consultation, now)
    if not may_cosign(actor, proposal):
        if actor.organisation_id == proposal.organisation_id:
            raise Forbidden(_l("Your organisation wrote this proposal: it cannot co-sign it."))
        raise InvalidTransition(_l("Only a submitted proposal can be co-signed."))
    cosignature = Cosignature(
        proposal_id=proposal.id,
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(cosignature)
    except IntegrityError:
        raise Conflict(_l("Your organisation has already co-signed this proposal.")) from None
    audit.record("proposal.cosigned", proposal, actor=actor, organisation=actor.organisation_id)
    return cosignature


def withdraw_cosignature(proposal: Proposal, actor: User, now: datetime) -> None:
    """Take back one's organisation's co-signature before the deadline."""
    check_open(proposal.consultation, now)
    cosignature = db.session.scalar(
        select(Cosignature).where(
            Cosignature.proposal_id == proposal.id,
            Cosignature.organisation_id == actor.organisation_id,
        )
    )
    if cosignature is None:
        raise NotFound(_l("Your organisation has not co-signed this proposal."))
    db.session.delete(cosignature)
    db.session.flush()
    audit.record("proposal.cosignature_withdrawn", proposal, actor=actor)


def has_cosigned(proposal: Proposal, user: User) -> bool:
    if not user.is_authenticated or user.organisation_id is None:
        return False
    return (
        db.session.scalar(
            select(Cosignature.id).where(
                Cosignature.proposal_id == proposal.id,
                Cosignature.organisation_id == user.organisation_id,
            )
        )
        is not None
    )


# --- Moderation ----------------------------------------------------------------------------


def _check_moderation_open(consultation: Consultation) -> None:
    if consultation.phase not in (Phase.CONCERTATION, Phase.SYNTHESE):
        raise InvalidTransition(
            _l("Proposals are moderated during the concertation and the synthesis.")
        )


def accept_proposal(proposal: Proposal, actor: User, now: datetime) -> None:
    """Keep a proposal for the synthesis."""
    _check_moderation_open(proposal.consultation)
    previous = proposal.status
    proposal.accept(now)
    db.session.flush()
    audit.record("proposal.accepted", proposal, actor=actor, previous=previous.value)


def reject_proposal(proposal: Proposal, reason: str, actor: User, now: datetime) -> None:
    """Refuse a proposal, with a reason shown on its page."""
    _check_moderation_open(proposal.consultation)
    previous = proposal.status
    proposal.reject(reason, now)
    db.session.flush()
    audit.record("proposal.rejected", proposal, actor=actor, previous=previous.value, reason=reason)


def merge_proposal(
    proposal: Proposal, target_id: int | None, reason: str, actor: User, now: datetime
) -> Proposal:
    """Fold a proposal into another; those already merged into it follow it to the target, so
    that a merge never points to a merged proposal. Nothing is deleted."""
    _check_moderation_open(proposal.consultation)
    target = db.session.get(Proposal, target_id) if target_id else None
    if target is None:
        raise DomainError(_l("Give the number of the proposal to merge into."), field="target")
    previous = proposal.status
    proposal.merge_into(target, reason, now)
    db.session.execute(
        update(Proposal)
        .where(Proposal.merged_into_id == proposal.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    audit.record(
        "proposal.merged", proposal, actor=actor, previous=previous.value, target_id=target.id
    )
    return target


# --- Public pages helpers ------------------------------------------------------------------

# Imported here rather than at the top, to keep this section in one piece.
from sqlalchemy.orm import selectinload  # noqa: E402

from consultation.consultations.services import Figure, figure_source  # noqa: E402

REVISED_FIELDS = ("title", "summary", "body", "rationale", "theme_id")


@dataclass(frozen=True)
class RevisionStep:
    """One revision of a proposal, with the fields it changed from the one before."""

    revision: ProposalRevision
    changed: tuple[str, ...]


def revision_history(proposal: Proposal) -> list[RevisionStep]:
    """The revisions of a proposal in order, each with what changed since the previous one
    (everything, for the first: it is the text as submitted)."""
    revisions = db.session.scalars(
        select(ProposalRevision)
        .where(ProposalRevision.proposal_id == proposal.id)
        .options(selectinload(ProposalRevision.theme))
        .order_by(ProposalRevision.number)
    ).all()
    steps = []
    previous: ProposalRevision | None = None
    for revision in revisions:
        if previous is None:
            changed = REVISED_FIELDS
        else:
            changed = tuple(
                name
                for name in REVISED_FIELDS
                if getattr(revision, name) != getattr(previous, name)
            )
        steps.append(RevisionStep(revision, changed))
        previous = revision
    return steps


def cosignature_counts_of(signatures: Sequence[Cosignature]) -> CosignatureCounts:
    """The counts by source kind of co-signatures already loaded (no query)."""
    counts = CosignatureCounts()
    for cosignature in signatures:
        source = source_kind_of(cosignature.organisation.kind, has_debate=False)
        counts.by_source[source] = counts.by_source.get(source, 0) + 1
    return counts


def find_public_proposal(consultation: Consultation, proposal_id: int) -> Proposal:
    """A public (submitted, moderated or merged) proposal of the consultation, or 404: for
    the API and the exports, which show what anyone may see and nothing more."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.consultation_id != consultation.id or not proposal.is_public:
        raise NotFound(_l("This proposal does not exist."))
    return proposal


SOURCE_FIGURE_LABELS = {
    SourceKind.ORGANISME: _l("proposals from Hlm organisations"),
    SourceKind.COMMISSION: _l("proposals from USH working commissions"),
    SourceKind.CONSEIL_SOCIAL: _l("proposals from the USH Conseil social"),
    SourceKind.DEBAT_REGIONAL: _l("proposals from regional debates"),
}


@figure_source
def proposal_figures(consultation: Consultation) -> list[Figure]:
    """The number of public proposals, and how many came from each kind of source."""
    counts = source_counts(consultation)
    figures = [Figure(str(_l("public proposals")), sum(counts.values()))]
    figures.extend(
        Figure(str(label), counts[source]) for source, label in SOURCE_FIGURE_LABELS.items()
    )
    return figures


# --- Drafting helpers ----------------------------------------------------------------------


def consultation_themes(consultation: Consultation) -> list[Theme]:
    """The consultation's themes, in their order, for the proposal form."""
    return list(
        db.session.scalars(
            select(Theme)
            .where(Theme.consultation_id == consultation.id)
            .order_by(Theme.position, Theme.name)
        )
    )


def debate_choices(consultation: Consultation, user: User) -> list[Debate]:
    """The debates a proposal of this user may come out of: for a regional editor, the held
    debates of their region (the ones they record proposals for); for a contributor, the
    consultation's published or held debates. The same rules as `_debate`, as a list."""
    query = select(Debate).where(Debate.consultation_id == consultation.id)
    if user.role is Role.REGIONAL_EDITOR:
        query = query.where(
            Debate.region_code == user.region_code, Debate.status == DebateStatus.HELD
        )
    else:
        query = query.where(Debate.status.in_((DebateStatus.PUBLISHED, DebateStatus.HELD)))
    return list(db.session.scalars(query.order_by(Debate.starts_at.desc(), Debate.id.desc())))


def organisation_proposals_list_query(consultation: Consultation, user: User) -> Select:
    """The organisation's proposals with their debates loaded with them (one more query per
    page, not one per row)."""
    from sqlalchemy.orm import selectinload  # here: this section only appends to the module

    return organisation_proposals_query(consultation, user).options(selectinload(Proposal.debate))


def save_proposal(
    consultation: Consultation,
    proposal: Proposal | None,
    data: ProposalInput,
    actor: User,
    now: datetime,
    *,
    submit: bool = False,
) -> Proposal:
    """Save the proposal form: create a draft (or update the proposal), then submit it when
    the author pressed "Submit" on a draft. One use case for the form, so that a refused
    submission rolls back the save with it and the author keeps what they typed."""
    if proposal is None:
        proposal = create_proposal(consultation, data, actor, now)
    else:
        update_proposal(proposal, data, actor, now)
    if submit and proposal.status is ProposalStatus.DRAFT:
        submit_proposal(proposal, actor, now)
    return proposal

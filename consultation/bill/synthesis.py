"""The synthesis workspace: turning the accepted proposals into articles, and recording what
was done with each of them (its disposition), so that every accepted proposal can be followed
forward to the articles it went into, or to the reason it was not retained.

Writes go through `services.check_editable` (the synthesis phase only) and are audited; like
every service they flush and never commit.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from consultation.accounts.models import User
from consultation.bill import services
from consultation.bill.models import (
    ARTICLE_BODY_MAX,
    HEADING_MAX,
    REASON_MAX,
    Article,
    ArticleSource,
    Bill,
    DispositionKind,
    Division,
    ProposalDisposition,
)
from consultation.bill.outline import Outline, build_outline
from consultation.consultations.models import Consultation, Theme
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.extensions import db
from consultation.proposals.models import Proposal, ProposalStatus
from consultation.proposals.search import stems

# A selection is sent in one form: bounded so that one request never gathers a whole book.
MAX_SELECTION = 50
UNDECIDED = "undecided"
STATES = (UNDECIDED, DispositionKind.INTEGRATED.value, DispositionKind.NOT_RETAINED.value)
STATE_LABELS = {
    UNDECIDED: _l("Without a disposition"),
    DispositionKind.INTEGRATED.value: _l("Integrated"),
    DispositionKind.NOT_RETAINED.value: _l("Not retained"),
}


# --- Checking the selected proposals -------------------------------------------------------


def _refusal(proposal: Proposal, field: str | None = "proposal_ids") -> DomainError | None:
    """Why this proposal cannot be disposed of by the synthesis, or None when it can."""
    if proposal.status is ProposalStatus.ACCEPTED:
        return None
    if proposal.status is ProposalStatus.MERGED:
        return InvalidTransition(
            _l(
                "Proposal no. %(id)d was merged into proposal no. %(target)d: "
                "use the proposal it was merged into.",
                id=proposal.id,
                target=proposal.merged_into_id or 0,
            ),
            field=field,
        )
    if proposal.status is ProposalStatus.REJECTED:
        message = _l(
            "Proposal no. %(id)d was rejected: only accepted proposals go into the bill.",
            id=proposal.id,
        )
    elif proposal.status is ProposalStatus.DRAFT:
        message = _l(
            "Proposal no. %(id)d is a draft: only accepted proposals go into the bill.",
            id=proposal.id,
        )
    else:
        message = _l(
            "Proposal no. %(id)d has not been moderated yet: accept it before it goes into "
            "the bill.",
            id=proposal.id,
        )
    return InvalidTransition(message, field=field)


def _clean_ids(proposal_ids: Iterable[int | None]) -> list[int]:
    """The ids in the order given, each once; an empty selection is refused."""
    ids = list(dict.fromkeys(pid for pid in proposal_ids if pid is not None))
    if not ids:
        raise DomainError(_l("Select at least one proposal."), field="proposal_ids")
    if len(ids) > MAX_SELECTION:
        raise DomainError(
            _l("Select at most %(limit)d proposals at a time.", limit=MAX_SELECTION),
            field="proposal_ids",
        )
    return ids


def accepted_proposals_for(
    consultation: Consultation, proposal_ids: Sequence[int]
) -> list[Proposal]:
    """The accepted proposals of the consultation with these ids, in the order given (one
    query); any other (unknown, another consultation's, not accepted) is refused by name."""
    ids = _clean_ids(proposal_ids)
    found = {
        proposal.id: proposal
        for proposal in db.session.scalars(select(Proposal).where(Proposal.id.in_(ids)))
    }
    proposals = []
    for proposal_id in ids:
        proposal = found.get(proposal_id)
        # Another consultation's proposal reads as unknown: its existence is not this page's.
        if proposal is None or proposal.consultation_id != consultation.id:
            raise DomainError(
                _l("There is no proposal no. %(id)d in this consultation.", id=proposal_id),
                field="proposal_ids",
            )
        refusal = _refusal(proposal)
        if refusal is not None:
            raise refusal
        proposals.append(proposal)
    return proposals


def find_accepted_proposal(consultation: Consultation, proposal_id: int) -> Proposal:
    """An accepted proposal of the consultation, or 404 (409 when it is in another state)."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.consultation_id != consultation.id:
        raise NotFound(_l("This proposal does not exist."))
    refusal = _refusal(proposal, field=None)
    if refusal is not None:
        raise refusal
    return proposal


def find_article(bill: Bill | None, article_id: int | None) -> Article:
    """An article of this bill, or a readable refusal naming the field it came from."""
    article = db.session.get(Article, article_id) if article_id else None
    if article is None or bill is None or article.bill_id != bill.id:
        raise DomainError(_l("Choose an article of this bill."), field="article_id")
    return article


def find_division(bill: Bill, division_id: int | None) -> Division | None:
    """A division of this bill (None for none), or a readable refusal."""
    if not division_id:
        return None
    division = db.session.get(Division, division_id)
    if division is None or division.bill_id != bill.id:
        raise DomainError(_l("Choose a division of this bill."), field="division_id")
    return division


# --- Dispositions ----------------------------------------------------------------------------


def _flush_or_conflict() -> None:
    """Flush; two staff members deciding on the same proposal at the same moment meet the
    unique constraints: the second is told to reload, never shown a server error."""
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(
            _l(
                "Someone else decided on these proposals at the same moment: reload the page "
                "and try again."
            )
        ) from error


def _dispositions(proposal_ids: Sequence[int]) -> dict[int, ProposalDisposition]:
    if not proposal_ids:
        return {}
    rows = db.session.scalars(
        select(ProposalDisposition).where(ProposalDisposition.proposal_id.in_(proposal_ids))
    )
    return {row.proposal_id: row for row in rows}


def _set_integrated(proposals: Sequence[Proposal], actor: User | None, now: datetime) -> None:
    """Every one of these proposals is integrated (a "not retained" is replaced)."""
    actor_id = actor.id if actor else None  # read before adding: nothing flushes half-done
    existing = _dispositions([proposal.id for proposal in proposals])
    for proposal in proposals:
        disposition = existing.get(proposal.id)
        if disposition is None:
            db.session.add(
                ProposalDisposition(
                    proposal_id=proposal.id,
                    kind=DispositionKind.INTEGRATED,
                    reason="",
                    decided_by_id=actor_id,
                    decided_at=now,
                )
            )
        elif disposition.kind is not DispositionKind.INTEGRATED:
            disposition.kind = DispositionKind.INTEGRATED
            disposition.reason = ""
            disposition.decided_by_id = actor_id
            disposition.decided_at = now


def _attribution(proposal: Proposal) -> str:
    # The bill is written in French whatever the staff member's language: not translated.
    return f"Proposition n° {proposal.id}, {proposal.organisation.name}"


CUT = " […]"


def gathered_text(proposals: Sequence[Proposal]) -> str:
    """The proposals' titles and texts one after the other, each with its attribution: a
    starting point for the article, cut to fit an article when the texts are long."""
    parts = []
    for proposal in proposals:
        text = (proposal.body or proposal.summary).strip()
        parts.append((f"**{proposal.title.strip()}**", text, f"*({_attribution(proposal)})*"))
    separator = "\n\n"
    overhead = sum(len(title) + len(credit) + 3 * len(separator) for title, _, credit in parts)
    budget = max(0, (ARTICLE_BODY_MAX - overhead) // len(parts)) if parts else 0
    blocks = []
    for title, text, credit in parts:
        if len(text) > budget:
            text = text[: max(0, budget - len(CUT))].rstrip() + CUT
        blocks.append(separator.join(piece for piece in (title, text, credit) if piece))
    return separator.join(blocks)


def create_article_from_proposals(
    bill: Bill,
    division: Division | None,
    proposal_ids: Sequence[int],
    actor: User | None,
    now: datetime,
    heading: str = "",
) -> Article:
    """A new article at the end of a division, its text gathered from the selected accepted
    proposals (in the order given) as a starting point; each becomes one of its sources and is
    disposed of as integrated."""
    consultation = bill.consultation
    services.check_editable(consultation)
    proposals = accepted_proposals_for(consultation, proposal_ids)
    if len(heading) > HEADING_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=HEADING_MAX), field="heading")
    article = services.add_article(bill, division, heading, gathered_text(proposals), actor, now)
    for proposal in proposals:
        db.session.add(
            ArticleSource(article_id=article.id, proposal_id=proposal.id, created_at=now)
        )
    _set_integrated(proposals, actor, now)
    _flush_or_conflict()
    audit.record(
        "article.created_from_proposals",
        article,
        actor=actor,
        proposal_ids=[proposal.id for proposal in proposals],
    )
    return article


@dataclass(frozen=True)
class Attachment:
    """What attaching did: the proposals newly attached, and those already sources."""

    attached: list[Proposal]
    already: list[Proposal]


def attach_proposals(
    article: Article, proposal_ids: Sequence[int], actor: User | None, now: datetime
) -> Attachment:
    """Make the selected accepted proposals sources of an existing article (those already its
    sources are left as they are) and dispose of them as integrated. The article's text is not
    touched: nobody's edit in progress is made stale by it."""
    consultation = article.bill.consultation
    services.check_editable(consultation)
    proposals = accepted_proposals_for(consultation, proposal_ids)
    present = set(
        db.session.scalars(
            select(ArticleSource.proposal_id).where(
                ArticleSource.article_id == article.id,
                ArticleSource.proposal_id.in_([proposal.id for proposal in proposals]),
            )
        )
    )
    new = [proposal for proposal in proposals if proposal.id not in present]
    already = [proposal for proposal in proposals if proposal.id in present]
    if not new:
        raise Conflict(
            _l("The selected proposals are already sources of this article."),
            field="proposal_ids",
        )
    for proposal in new:
        db.session.add(
            ArticleSource(article_id=article.id, proposal_id=proposal.id, created_at=now)
        )
    _set_integrated(new, actor, now)
    _flush_or_conflict()
    audit.record(
        "article.sources_attached",
        article,
        actor=actor,
        proposal_ids=[proposal.id for proposal in new],
    )
    return Attachment(attached=new, already=already)


def detach_proposal(article: Article, proposal_id: int, actor: User | None, now: datetime) -> None:
    """Remove a proposal from an article's sources; when it is no longer the source of any
    article, it has no disposition any more (it counts again as undecided)."""
    services.check_editable(article.bill.consultation)
    source = db.session.scalar(
        select(ArticleSource).where(
            ArticleSource.article_id == article.id, ArticleSource.proposal_id == proposal_id
        )
    )
    if source is None:
        raise NotFound(_l("This proposal is not a source of this article."))
    db.session.delete(source)
    db.session.flush()
    remaining = db.session.scalar(
        select(func.count(ArticleSource.id)).where(ArticleSource.proposal_id == proposal_id)
    )
    if not remaining:
        db.session.execute(
            delete(ProposalDisposition).where(
                ProposalDisposition.proposal_id == proposal_id,
                ProposalDisposition.kind == DispositionKind.INTEGRATED,
            )
        )
    db.session.flush()
    audit.record(
        "article.source_detached", article, actor=actor, proposal_id=proposal_id, at=now.isoformat()
    )


def _source_articles(proposal: Proposal) -> list[int]:
    return list(
        db.session.scalars(
            select(ArticleSource.article_id)
            .where(ArticleSource.proposal_id == proposal.id)
            .order_by(ArticleSource.article_id)
        )
    )


def mark_not_retained(
    proposal: Proposal, reason: str, actor: User | None, now: datetime
) -> ProposalDisposition:
    """Record that an accepted proposal is not retained in the bill, and why (shown on its
    public page). A source of an article must be detached first: both cannot be true."""
    services.check_editable(proposal.consultation)
    refusal = _refusal(proposal, field=None)
    if refusal is not None:
        raise refusal
    reason = reason.strip()
    if not reason:
        raise DomainError(_l("Say why the proposal is not retained."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=REASON_MAX), field="reason")
    if _source_articles(proposal):
        raise Conflict(
            _l(
                "This proposal is a source of an article: detach it from its articles before "
                "marking it as not retained."
            )
        )
    actor_id = actor.id if actor else None  # read before adding: nothing flushes half-done
    disposition = _dispositions([proposal.id]).get(proposal.id)
    if disposition is None:
        disposition = ProposalDisposition(proposal_id=proposal.id)
        db.session.add(disposition)
    disposition.kind = DispositionKind.NOT_RETAINED
    disposition.reason = reason
    disposition.decided_by_id = actor_id
    disposition.decided_at = now
    _flush_or_conflict()
    audit.record("proposal.not_retained", proposal, actor=actor, reason=reason)
    return disposition


def clear_disposition(proposal: Proposal, actor: User | None, now: datetime) -> None:
    """Take back a "not retained": the proposal is undecided again. An integrated proposal is
    made undecided by detaching it from its articles (its provenance is never left dangling)."""
    services.check_editable(proposal.consultation)
    if _source_articles(proposal):
        raise Conflict(
            _l("This proposal is a source of an article: detach it from its articles instead.")
        )
    disposition = _dispositions([proposal.id]).get(proposal.id)
    if disposition is None:
        raise InvalidTransition(_l("This proposal has no disposition to reconsider."))
    previous = disposition.kind.value
    db.session.delete(disposition)
    db.session.flush()
    audit.record(
        "proposal.disposition_cleared",
        proposal,
        actor=actor,
        previous=previous,
        at=now.isoformat(),
    )


# --- The workspace's queries -----------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceFilters:
    """The workspace's filters: a theme (its slug) and a state of disposition."""

    theme: Theme | None = None
    state: str | None = None

    def args(self) -> dict[str, str]:
        """The filters as query parameters, to keep them across pages and actions."""
        values = {}
        if self.theme is not None:
            values["theme"] = self.theme.slug
        if self.state:
            values["etat"] = self.state
        return values


def parse_filters(
    consultation: Consultation, args: Mapping[str, str], themes: Sequence[Theme]
) -> WorkspaceFilters:
    """The filters of the query string; an unknown theme or state is a readable 400."""
    theme = None
    if slug := args.get("theme", ""):
        theme = next((item for item in themes if item.slug == slug), None)
        if theme is None:
            raise DomainError(_l("“%(value)s” is not a theme of this consultation.", value=slug))
    state = args.get("etat", "") or None
    if state is not None and state not in STATES:
        raise DomainError(_l("“%(value)s” is not a state of disposition.", value=state))
    return WorkspaceFilters(theme=theme, state=state)


def themes_of(consultation: Consultation) -> list[Theme]:
    """The consultation's themes in their order."""
    return list(
        db.session.scalars(
            select(Theme)
            .where(Theme.consultation_id == consultation.id)
            .order_by(Theme.position, Theme.name, Theme.id)
        )
    )


def workspace_query(consultation: Consultation, filters: WorkspaceFilters) -> Select:
    """The accepted proposals with their disposition (or None), by theme then number: rows
    of (Proposal, ProposalDisposition | None)."""
    query = (
        select(Proposal, ProposalDisposition)
        .outerjoin(ProposalDisposition, ProposalDisposition.proposal_id == Proposal.id)
        .outerjoin(Theme, Theme.id == Proposal.theme_id)
        .where(services.accepted_in(consultation))
        .order_by(Theme.position, Theme.name, Proposal.id)
    )
    if filters.theme is not None:
        query = query.where(Proposal.theme_id == filters.theme.id)
    if filters.state == UNDECIDED:
        query = query.where(ProposalDisposition.id.is_(None))
    elif filters.state:
        query = query.where(ProposalDisposition.kind == DispositionKind(filters.state))
    return query


def undecided_proposals_query(consultation: Consultation) -> Select:
    """The accepted proposals that have no disposition yet, by theme then number."""
    return workspace_query(consultation, WorkspaceFilters(state=UNDECIDED)).with_only_columns(
        Proposal
    )


@dataclass(frozen=True)
class ArticleRef:
    """An article as a proposal's provenance names it: its id (for the anchor) and label."""

    article_id: int
    label: str
    heading: str = ""


def article_refs(
    outline: Outline | None, proposal_ids: Sequence[int]
) -> dict[int, list[ArticleRef]]:
    """For each of these proposals, the articles it is a source of, in the bill's order (one
    query, the outline being already loaded)."""
    refs: dict[int, list[ArticleRef]] = defaultdict(list)
    if outline is None or not proposal_ids or outline.is_empty:
        return refs
    rows = db.session.execute(
        select(ArticleSource.proposal_id, ArticleSource.article_id).where(
            ArticleSource.proposal_id.in_(proposal_ids),
            ArticleSource.article_id.in_(list(outline.article_index)),
        )
    ).all()
    for proposal_id, article_id in rows:
        node = outline.article_index[article_id]
        refs[proposal_id].append(ArticleRef(article_id, node.label, node.article.heading))
    for items in refs.values():
        items.sort(key=lambda ref: outline.article_index[ref.article_id].number)
    return refs


def numbering_outline(bill: Bill) -> Outline:
    """The bill's numbering without the articles' texts (two light queries): enough to name
    articles "Article 3" on pages that do not show them."""
    divisions = list(
        db.session.scalars(
            select(Division)
            .where(Division.bill_id == bill.id)
            .order_by(Division.position, Division.id)
        )
    )
    articles = list(
        db.session.scalars(
            select(Article)
            .options(load_only(Article.id, Article.division_id, Article.position, Article.heading))
            .where(Article.bill_id == bill.id)
            .order_by(Article.position, Article.id)
        )
    )
    return build_outline(bill, divisions, articles)


# --- Provenance of one proposal (its public page) --------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """What the synthesis did with a proposal: integrated into articles, not retained and
    why, or nothing yet (kind None)."""

    kind: DispositionKind | None
    reason: str = ""
    articles: list[ArticleRef] = field(default_factory=list)


def provenance_of(proposal: Proposal) -> Provenance | None:
    """Where an accepted proposal went in the bill (a fixed number of queries, whatever the
    size of the bill); None for a proposal the synthesis does not dispose of."""
    if proposal.status is not ProposalStatus.ACCEPTED:
        return None
    disposition = _dispositions([proposal.id]).get(proposal.id)
    if disposition is None:
        return Provenance(kind=None)
    if disposition.kind is DispositionKind.NOT_RETAINED:
        return Provenance(kind=disposition.kind, reason=disposition.reason)
    bill = services.find_bill(proposal.consultation)
    outline = numbering_outline(bill) if bill is not None else None
    return Provenance(
        kind=disposition.kind, articles=article_refs(outline, [proposal.id]).get(proposal.id, [])
    )


# --- Suggested groups of similar proposals ---------------------------------------------------

# Two proposals are suggested together when, in the same theme, their titles' stems (French
# Snowball stems, as the search index uses) overlap enough: a Jaccard index of at least
# SIMILARITY over the stems that tell proposals apart. Stems found in more than COMMON_SHARE
# of a theme's proposals (and in more than COMMON_MIN of them), or in more than COMMON_MAX,
# are left out: they link everything to everything ("logement" in a housing consultation).
# Groups are the connected components of that relation, the largest first. It reads one row
# per undecided proposal (id, title, theme) and works in memory, bounded by the pairs sharing
# an uncommon stem (a few milliseconds for hundreds of proposals).
SIMILARITY = 0.5
COMMON_SHARE = 0.1
COMMON_MAX = 60  # and a stem shared by more says little: it also bounds the pairs compared
COMMON_MIN = 5  # in a small theme, no stem is too common to tell proposals apart
MAX_GROUPS = 10
MAX_GROUP_SIZE = 12


@dataclass(frozen=True)
class SimilarGroup:
    """Undecided proposals of one theme whose titles are close."""

    theme_name: str
    proposals: list[tuple[int, str]]  # (id, title), by number


def _components(links: Mapping[int, set[int]]) -> list[list[int]]:
    seen: set[int] = set()
    groups = []
    for start in sorted(links):
        if start in seen:
            continue
        stack, group = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            group.append(node)
            for other in links[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        groups.append(sorted(group))
    return groups


def _theme_groups(titles: dict[int, str]) -> list[list[int]]:
    """The groups of similar titles within one theme."""
    stemmed = {pid: set(stems(title)) for pid, title in titles.items()}
    frequency = Counter(stem for words in stemmed.values() for stem in words)
    limit = min(COMMON_MAX, max(COMMON_MIN, int(len(stemmed) * COMMON_SHARE)))
    telling = {pid: {s for s in words if frequency[s] <= limit} for pid, words in stemmed.items()}
    index: dict[str, list[int]] = defaultdict(list)
    for pid, words in telling.items():
        for stem in words:
            index[stem].append(pid)
    candidates = {pair for pids in index.values() for pair in itertools.combinations(pids, 2)}
    links: dict[int, set[int]] = defaultdict(set)
    for first, second in candidates:
        a, b = telling[first], telling[second]
        if len(a & b) / len(a | b) >= SIMILARITY:
            links[first].add(second)
            links[second].add(first)
    return [group for group in _components(links) if len(group) > 1]


def similar_groups(consultation: Consultation, limit: int = MAX_GROUPS) -> list[SimilarGroup]:
    """Suggested groups of similar accepted proposals still without a disposition (one
    query): candidates for one article each. See the method above."""
    rows = db.session.execute(
        select(Proposal.id, Proposal.title, Proposal.theme_id, Theme.name)
        .outerjoin(Theme, Theme.id == Proposal.theme_id)
        .outerjoin(ProposalDisposition, ProposalDisposition.proposal_id == Proposal.id)
        .where(services.accepted_in(consultation), ProposalDisposition.id.is_(None))
        .order_by(Proposal.id)
    ).all()
    by_theme: dict[int | None, dict[int, str]] = defaultdict(dict)
    theme_names: dict[int | None, str] = {}
    for proposal_id, title, theme_id, theme_name in rows:
        by_theme[theme_id][proposal_id] = title
        theme_names[theme_id] = theme_name or ""
    groups = []
    for theme_id, titles in by_theme.items():
        for group in _theme_groups(titles):
            members = [(pid, titles[pid]) for pid in group[:MAX_GROUP_SIZE]]
            groups.append(SimilarGroup(theme_names[theme_id], members))
    groups.sort(key=lambda group: (-len(group.proposals), group.proposals[0][0]))
    return groups[:limit]

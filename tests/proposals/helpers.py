"""Builders of themes and proposals for the proposal tests."""

from __future__ import annotations

import itertools

from consultation.accounts.models import Organisation, User
from consultation.consultations.models import Consultation, Theme
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.proposals import services
from consultation.proposals.models import Proposal, ProposalStatus
from tests import factories

_sequence = itertools.count(1)


def theme(consultation: Consultation, slug: str | None = None, name: str | None = None) -> Theme:
    """A theme of the consultation (created on first use of its slug)."""
    number = next(_sequence)
    slug = slug or f"theme-{number}"
    found = db.session.query(Theme).filter_by(consultation_id=consultation.id, slug=slug).first()
    if found:
        return found
    found = Theme(consultation=consultation, slug=slug, name=name or f"Thème {number}")
    db.session.add(found)
    db.session.flush()
    return found


def proposal_input(consultation: Consultation, **fields: object) -> services.ProposalInput:
    """A complete input for the proposal form, in the consultation's first theme."""
    values: dict[str, object] = {
        "title": "Construire davantage de logements sociaux",
        "summary": "Relancer la production de logements abordables.",
        "body": "Les organismes Hlm **construisent** 150 000 logements par an.",
        "rationale": "La demande dépasse 2 millions de ménages.",
        "theme_id": theme(consultation, "produire").id,
    }
    values.update(fields)
    return services.ProposalInput(**values)  # type: ignore[arg-type]


def make_proposal(
    consultation: Consultation,
    author: User | None = None,
    status: ProposalStatus | str = ProposalStatus.SUBMITTED,
    organisation: Organisation | None = None,
    **fields: object,
) -> Proposal:
    """A proposal written through the services (so that it is indexed), submitted by default,
    then moved to `status` (accepted, rejected with a reason, merged into `merged_into`)."""
    if author is None:
        author = factories.make_user("contributor", organisation=organisation)
    merged_into = fields.pop("merged_into", None)
    now = utcnow()
    proposal = services.create_proposal(
        consultation, proposal_input(consultation, **fields), author, now
    )
    status = ProposalStatus(status)
    if status is not ProposalStatus.DRAFT:
        services.submit_proposal(proposal, author, now)
    if status is ProposalStatus.ACCEPTED:
        proposal.accept(now)
    elif status is ProposalStatus.REJECTED:
        proposal.reject("Hors sujet.", now)
    elif status is ProposalStatus.MERGED:
        assert isinstance(merged_into, Proposal)
        proposal.merge_into(merged_into, "", now)
    db.session.flush()
    return proposal

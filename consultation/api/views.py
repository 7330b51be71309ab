"""API endpoints under /api/v1: public data only."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from consultation.accounts.models import Region
from consultation.api import services as api_services
from consultation.api.schemas import (
    BillSchema,
    ConsultationSchema,
    DebatePageSchema,
    DebateQuerySchema,
    JurySchema,
    ProposalDetailSchema,
    ProposalPageSchema,
    ProposalQuerySchema,
)
from consultation.consultations import services
from consultation.consultations.models import Consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.permissions import access, public
from consultation.extensions import db
from consultation.proposals import services as proposal_services

bp = Blueprint(
    "api", __name__, url_prefix="/api/v1", description="Public data of the consultations"
)


@bp.route("/consultations")
class Consultations(MethodView):
    decorators = [cached_page, access(public)]

    @bp.response(200, ConsultationSchema(many=True))
    def get(self):
        """The public consultations, newest first."""
        return services.visible_consultations(None)


@bp.route("/consultations/<slug>")
class ConsultationDetail(MethodView):
    decorators = [cached_page, access(public)]

    @bp.response(200, ConsultationSchema)
    @bp.alt_response(404, description="No public consultation has this slug")
    def get(self, slug: str):
        """One public consultation."""
        consultation = services.get_consultation(slug, None)
        if consultation is None:
            abort(404)
        return consultation


@bp.route("/consultations/<slug>/debates")
class ConsultationDebates(MethodView):
    decorators = [cached_page, access(public)]

    @bp.arguments(DebateQuerySchema, location="query", as_kwargs=True)
    @bp.response(200, DebatePageSchema)
    @bp.alt_response(400, description="Unknown region code")
    @bp.alt_response(404, description="No public consultation has this slug")
    def get(self, slug: str, region: str | None, page: int, per_page: int):
        """The public debates of a consultation (published, cancelled or held), by start time."""
        consultation = services.get_consultation(slug, None)
        if consultation is None:
            abort(404)
        if region is not None and db.session.get(Region, region) is None:
            raise DomainError(
                _l("There is no region with the code “%(code)s”.", code=region), field="region"
            )
        total, debates = api_services.public_debates_page(
            consultation, region_code=region, page=page, per_page=per_page
        )
        return {
            "items": debates,
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, -(-total // per_page)),
        }


def _public_consultation(slug: str) -> Consultation:
    consultation = services.get_consultation(slug, None)
    if consultation is None:
        abort(404)
    return consultation


@bp.route("/consultations/<slug>/proposals")
class ConsultationProposals(MethodView):
    decorators = [cached_page, access(public)]

    @bp.arguments(ProposalQuerySchema, location="query", as_kwargs=True)
    @bp.response(200, ProposalPageSchema)
    @bp.alt_response(400, description="Unknown theme, region, source, status or sort order")
    @bp.alt_response(404, description="No public consultation has this slug")
    def get(self, slug: str, page: int, per_page: int, **filters: str | None):
        """The public proposals of a consultation, with the search and filters of its web page:
        by relevance when searching, else the most recently submitted first."""
        consultation = _public_consultation(slug)
        args = {name: value for name, value in filters.items() if value is not None}
        checked = proposal_services.parse_filters(consultation, args)
        total, entries = api_services.public_proposals_page(
            consultation, checked, page=page, per_page=per_page
        )
        return {
            "items": entries,
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, -(-total // per_page)),
        }


@bp.route("/consultations/<slug>/proposals/<int:proposal_id>")
class ConsultationProposal(MethodView):
    decorators = [cached_page, access(public)]

    @bp.response(200, ProposalDetailSchema)
    @bp.alt_response(404, description="No public proposal has this number in the consultation")
    def get(self, slug: str, proposal_id: int):
        """One public proposal, with its co-signatures and the proposals merged into it."""
        consultation = _public_consultation(slug)
        return api_services.public_proposal(consultation, proposal_id)


@bp.route("/consultations/<slug>/bill")
class ConsultationBill(MethodView):
    decorators = [cached_page, access(public)]

    @bp.response(200, BillSchema)
    @bp.alt_response(404, description="No public consultation has this slug, or it has no bill")
    def get(self, slug: str):
        """The current draft bill: its title, exposé des motifs (figures resolved), divisions
        and articles with their number, heading, text and source proposals, and its frozen
        versions."""
        consultation = _public_consultation(slug)
        return api_services.public_bill(consultation)


@bp.route("/consultations/<slug>/jury")
class ConsultationJury(MethodView):
    decorators = [cached_page, access(public)]

    @bp.response(200, JurySchema)
    @bp.alt_response(404, description="No public consultation has this slug")
    def get(self, slug: str):
        """The citizen jury: the quotas, each draw's public data (commitment, then seed and
        LEXIMIN probabilities; never who was drawn) and each voting round with its results
        and ballot log once closed."""
        consultation = _public_consultation(slug)
        return api_services.public_jury(consultation)

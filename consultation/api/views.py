"""API endpoints under /api/v1: public data only."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from consultation.accounts.models import Region
from consultation.api import services as api_services
from consultation.api.schemas import ConsultationSchema, DebatePageSchema, DebateQuerySchema
from consultation.consultations import services
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.permissions import access, public
from consultation.extensions import db

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

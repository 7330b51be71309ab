"""API endpoints under /api/v1: public data only."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint

from consultation.api.schemas import ConsultationSchema
from consultation.consultations import services
from consultation.core.cache import cached_page
from consultation.core.permissions import access, public

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

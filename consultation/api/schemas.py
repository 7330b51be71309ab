"""Marshmallow schemas of the public API; the OpenAPI document is generated from them."""

from flask import url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from consultation.core.i18n import PARIS
from consultation.debates.models import DebateFormat, DebateStatus


class PhasePeriodSchema(Schema):
    phase = fields.String(metadata={"description": "Phase identifier"})
    starts_on = fields.Date()
    ends_on = fields.Date()


class ConsultationSchema(Schema):
    slug = fields.String(metadata={"description": "Identifier used in addresses"})
    title = fields.String()
    summary = fields.String(metadata={"description": "Markdown"})
    phase = fields.String(
        metadata={
            "description": "Current phase",
            "enum": ["concertation", "synthese", "jury", "remise", "archived"],
        }
    )
    proposal_deadline = fields.AwareDateTime(allow_none=True)
    periods = fields.List(fields.Nested(PhasePeriodSchema))
    url = fields.Method("page_url", metadata={"description": "The consultation's public page"})

    def page_url(self, consultation) -> str:
        return url_for("consultations.home", slug=consultation.slug, _external=True)


def _paris_iso(value) -> str | None:
    """ISO 8601 with the Paris offset, as people there read the time."""
    return value.astimezone(PARIS).isoformat() if value is not None else None


_DATE_TIME = {"type": "string", "format": "date-time"}


class DebateQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    region = fields.String(
        load_default=None, metadata={"description": "INSEE code of a region, such as 52"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class DebateSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    region_code = fields.String(metadata={"description": "INSEE code of the region"})
    region_name = fields.Function(lambda debate: debate.region.name)
    organiser_name = fields.Function(lambda debate: debate.organiser.name)
    starts_at = fields.Function(
        lambda debate: _paris_iso(debate.starts_at),
        metadata={**_DATE_TIME, "description": "ISO 8601, Paris time offset"},
    )
    ends_at = fields.Function(lambda debate: _paris_iso(debate.ends_at), metadata=_DATE_TIME)
    format = fields.String(metadata={"enum": [item.value for item in DebateFormat]})
    venue = fields.String(metadata={"description": "Address; empty for an online debate"})
    online_url = fields.String(metadata={"description": "Empty for an in-person debate"})
    capacity = fields.Integer(allow_none=True, metadata={"description": "null: no limit"})
    status = fields.String(
        metadata={"enum": [DebateStatus.PUBLISHED, DebateStatus.CANCELLED, DebateStatus.HELD]}
    )
    url = fields.Method("page_url", metadata={"description": "The debate's public page"})

    def page_url(self, debate) -> str:
        # The consultation is already in the session's identity map: no query per debate.
        home = url_for("consultations.home", slug=debate.consultation.slug, _external=True)
        return f"{home}debats/{debate.id}"


class DebatePageSchema(Schema):
    items = fields.List(fields.Nested(DebateSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Number of debates matching the filter"})
    pages = fields.Integer()

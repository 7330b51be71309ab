"""Marshmallow schemas of the public API; the OpenAPI document is generated from them."""

from flask import url_for
from marshmallow import Schema, fields


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

"""Marshmallow schemas of the public API; the OpenAPI document is generated from them."""

from flask import current_app, url_for
from marshmallow import EXCLUDE, Schema, fields, pre_dump, validate

from consultation.core.i18n import PARIS
from consultation.debates.models import DebateFormat, DebateStatus
from consultation.proposals.models import PUBLIC_STATUSES, SourceKind


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


# --- Proposals -----------------------------------------------------------------------------


class ProposalQuerySchema(Schema):
    """The list's search and filters; their values are checked by the proposal services, so
    that an unknown one is a 400 saying what is wrong, as on the web page."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(
        load_default=None,
        metadata={"description": "Full-text search in French: accents and plurals ignored"},
    )
    theme = fields.String(load_default=None, metadata={"description": "Slug of a theme"})
    region = fields.String(
        load_default=None, metadata={"description": "INSEE code of a region, such as 52"}
    )
    source = fields.String(
        load_default=None,
        metadata={"description": "Source kind", "enum": [item.value for item in SourceKind]},
    )
    status = fields.String(
        load_default=None,
        metadata={"description": "State", "enum": [item.value for item in PUBLIC_STATUSES]},
    )
    sort = fields.String(
        load_default=None,
        metadata={
            "description": "relevance (the default; by date without a search) or recent",
            "enum": ["relevance", "recent"],
        },
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CosignatureCountsSchema(Schema):
    total = fields.Integer()
    by_source = fields.Dict(
        keys=fields.String(metadata={"enum": [item.value for item in SourceKind]}),
        values=fields.Integer(),
        metadata={"description": "Co-signing organisations by source kind"},
    )


class ProposalSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    summary = fields.String(metadata={"description": "Markdown"})
    body = fields.String(metadata={"description": "Markdown"})
    rationale = fields.String(metadata={"description": "Markdown"})
    theme = fields.String(allow_none=True, metadata={"description": "Slug of the theme"})
    theme_name = fields.String(allow_none=True)
    organisation_name = fields.String(metadata={"description": "The organisation that speaks"})
    source_kind = fields.String(metadata={"enum": [item.value for item in SourceKind]})
    region_code = fields.String(allow_none=True, metadata={"description": "INSEE code"})
    debate_id = fields.Integer(
        allow_none=True, metadata={"description": "The debate it came out of"}
    )
    status = fields.String(metadata={"enum": [item.value for item in PUBLIC_STATUSES]})
    reason = fields.String(metadata={"description": "The moderator's reason, if any"})
    merged_into_id = fields.Integer(
        allow_none=True, metadata={"description": "The proposal it was merged into"}
    )
    submitted_at = fields.String(
        allow_none=True, metadata={**_DATE_TIME, "description": "ISO 8601, Paris time offset"}
    )
    cosignatures = fields.Nested(CosignatureCountsSchema)
    url = fields.String(metadata={"description": "The proposal's public page"})

    @pre_dump
    def flatten(self, entry, **_kwargs) -> dict:
        """An API services' ProposalEntry as the fields above."""
        proposal = entry.proposal
        values = {
            name: getattr(proposal, name)
            for name in (
                "id",
                "title",
                "summary",
                "body",
                "rationale",
                "region_code",
                "debate_id",
                "reason",
                "merged_into_id",
            )
        }
        # The consultation, organisation and theme are in the identity map or loaded with the
        # proposal: no query per item.
        page = url_for("proposals.index", slug=proposal.consultation.slug)
        values.update(
            theme=proposal.theme.slug if proposal.theme else None,
            theme_name=proposal.theme.name if proposal.theme else None,
            organisation_name=proposal.organisation.name,
            source_kind=proposal.source_kind.value,
            status=proposal.status.value,
            submitted_at=_paris_iso(proposal.submitted_at),
            cosignatures={
                "total": entry.cosignatures.total,
                "by_source": {
                    source.value: number for source, number in entry.cosignatures.by_source.items()
                },
            },
            url=f"{current_app.config['BASE_URL'].rstrip('/')}{page}/{proposal.id}",
        )
        if entry.merged_ids is not None:
            values["merged_proposal_ids"] = list(entry.merged_ids)
        return values


class ProposalDetailSchema(ProposalSchema):
    merged_proposal_ids = fields.List(
        fields.Integer(), metadata={"description": "The proposals merged into this one"}
    )


class ProposalPageSchema(Schema):
    items = fields.List(fields.Nested(ProposalSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Number of proposals matching the filters"})
    pages = fields.Integer()


# --- The draft bill ------------------------------------------------------------------------


class BillSourceSchema(Schema):
    proposal_id = fields.Integer(metadata={"description": "The source proposal"})
    title = fields.String(metadata={"description": "The proposal's title"})
    organisation = fields.String(metadata={"description": "The organisation that proposed it"})
    source_kind = fields.String(metadata={"enum": [item.value for item in SourceKind]})
    region = fields.String(allow_none=True, metadata={"description": "Region name"})
    region_code = fields.String(allow_none=True, metadata={"description": "INSEE code"})
    debate_id = fields.Integer(
        allow_none=True, metadata={"description": "The debate it came out of"}
    )


class BillArticleSchema(Schema):
    id = fields.Integer(metadata={"description": "Stable identifier of the article"})
    number = fields.Integer(metadata={"description": "Its number in the bill, from 1"})
    label = fields.String(metadata={"description": "As written: “Article 1er”, “Article 2”…"})
    heading = fields.String()
    body = fields.String(metadata={"description": "Markdown"})
    sources = fields.List(fields.Nested(BillSourceSchema))


class BillDivisionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["titre", "chapitre", "section"]})
    number = fields.Integer(metadata={"description": "Its number among its siblings, from 1"})
    label = fields.String(metadata={"description": "As written: “TITRE Ier”, “CHAPITRE II”…"})
    heading = fields.String()
    articles = fields.List(fields.Nested(BillArticleSchema))
    divisions = fields.List(
        fields.Nested(lambda: BillDivisionSchema()),
        metadata={"description": "The divisions of the level below"},
    )


class BillVersionSchema(Schema):
    number = fields.Integer()
    note = fields.String()
    frozen_at = fields.String(metadata={**_DATE_TIME, "description": "ISO 8601, Paris offset"})
    checksum = fields.String(metadata={"description": "SHA-256 of the version's canonical JSON"})
    url = fields.String(metadata={"description": "The version's public page"})


class BillSchema(Schema):
    title = fields.String()
    preamble = fields.String(
        metadata={"description": "The exposé des motifs (Markdown), its figures resolved"}
    )
    article_count = fields.Integer()
    articles = fields.List(
        fields.Nested(BillArticleSchema),
        metadata={"description": "Articles outside any division (they come first)"},
    )
    divisions = fields.List(fields.Nested(BillDivisionSchema))
    versions = fields.List(
        fields.Nested(BillVersionSchema), metadata={"description": "Oldest first"}
    )
    url = fields.String(metadata={"description": "The draft's public page"})


# --- The jury --------------------------------------------------------------------------------


class JuryFeatureSchema(Schema):
    feature = fields.String(metadata={"description": "The feature as written in the pool files"})
    label = fields.String()
    min = fields.Integer(metadata={"description": "Jurors who must hold it"})
    max = fields.Integer(metadata={"description": "Jurors who may hold it"})


class JuryCategorySchema(Schema):
    name = fields.String()
    label = fields.String()
    features = fields.List(fields.Nested(JuryFeatureSchema))


class JuryTypeSchema(Schema):
    features = fields.List(
        fields.String(), metadata={"description": "One feature label per category, in order"}
    )
    size = fields.Integer(metadata={"description": "Volunteers of this type in the pool"})
    probability = fields.Float(metadata={"description": "Each one's chance of being drawn"})


class JuryPanelSchema(Schema):
    counts = fields.List(fields.Integer(), metadata={"description": "Members drawn per type"})
    probability = fields.Float()


class JuryDrawSchema(Schema):
    number = fields.Integer()
    kind = fields.String(metadata={"enum": ["initial", "replacement"]})
    algorithm = fields.String(metadata={"enum": ["leximin"]})
    status = fields.String(metadata={"enum": ["committed", "running", "done"]})
    panel_size = fields.Integer(metadata={"description": "Jurors to draw"})
    pool_size = fields.Integer(metadata={"description": "Volunteers in the frozen pool"})
    committed_at = fields.String(metadata=_DATE_TIME)
    drawn_at = fields.String(allow_none=True, metadata=_DATE_TIME)
    pool_checksum = fields.String(
        metadata={"description": "SHA-256 of the canonical JSON of the frozen pool and quotas"}
    )
    seed_commitment = fields.String(metadata={"description": "SHA-256 of the secret seed"})
    seed = fields.String(allow_none=True, metadata={"description": "Revealed once drawn"})
    panel_index = fields.Integer(
        allow_none=True, metadata={"description": "The panel the seed picked, from 0"}
    )
    minimum_probability = fields.Float(allow_none=True)
    maximum_probability = fields.Float(allow_none=True)
    types = fields.List(fields.Nested(JuryTypeSchema))
    panels = fields.List(
        fields.Nested(JuryPanelSchema), metadata={"description": "The LEXIMIN lottery"}
    )
    data_url = fields.String(
        metadata={"description": "The draw's full public data, pool included, to replay it"}
    )


class JuryItemResultSchema(Schema):
    item = fields.Integer(metadata={"description": "The article's id; 0 for the whole text"})
    label = fields.String()
    registered = fields.Integer()
    voted = fields.Integer(metadata={"description": "For, against or abstention"})
    pour = fields.Integer()
    contre = fields.Integer()
    abstention = fields.Integer()
    cast = fields.Integer(metadata={"description": "For plus against"})
    quorum_reached = fields.Boolean()
    adopted = fields.Boolean()
    large_support = fields.Boolean(metadata={"description": "Adopted with two thirds or more"})


class JuryResultsSchema(Schema):
    registered = fields.Integer()
    quorum_percent = fields.Integer()
    threshold_percent = fields.Integer()
    items = fields.List(fields.Nested(JuryItemResultSchema))


class JuryRoundSchema(Schema):
    number = fields.Integer()
    status = fields.String(metadata={"enum": ["scheduled", "open", "closed"]})
    bill_version = fields.Integer(metadata={"description": "The frozen version put to the vote"})
    opens_at = fields.String(metadata=_DATE_TIME)
    closes_at = fields.String(metadata=_DATE_TIME)
    quorum_percent = fields.Integer()
    threshold_percent = fields.Integer()
    results = fields.Nested(JuryResultsSchema, allow_none=True)
    log_length = fields.Integer(allow_none=True)
    log_head = fields.String(allow_none=True, metadata={"description": "Last hash of the log"})
    results_url = fields.String(allow_none=True)
    log_url = fields.String(allow_none=True, metadata={"description": "The ballot log (JSON)"})


class JurySchema(Schema):
    quotas = fields.List(fields.Nested(JuryCategorySchema))
    jurors = fields.Integer(metadata={"description": "Jurors holding their seat"})
    draws = fields.List(fields.Nested(JuryDrawSchema), metadata={"description": "First first"})
    rounds = fields.List(fields.Nested(JuryRoundSchema), metadata={"description": "First first"})
    url = fields.String(metadata={"description": "The jury's public page"})

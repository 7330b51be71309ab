"""Forms to draft a proposal, moderate it and import proposals."""

from __future__ import annotations

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from consultation.proposals.models import (
    BODY_MAX,
    RATIONALE_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Proposal,
)
from consultation.proposals.services import ProposalInput

# --- Drafting ------------------------------------------------------------------------------

DRAFT_ACTIONS = ("draft", "preview", "submit")


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _optional_id(value: object) -> int | None:
    """A select's value as an id; "" (no choice) is None. Something else than a number becomes
    0, an id nothing has, so that the services refuse it with their message (which says what
    to choose) rather than WTForms' "could not coerce"."""
    if value in (None, ""):
        return None
    text = str(value)
    return int(text) if text.isdigit() else 0


class ProposalForm(FlaskForm):
    """A proposal's text, theme and debate; the submit buttons say what to do with it."""

    title = StringField(
        _l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=TITLE_MAX)]
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[Length(max=SUMMARY_MAX)],
        description=_l("A few sentences shown in the list of proposals. Required to submit."),
    )
    body = TextAreaField(
        _l("Proposal"),
        validators=[Length(max=BODY_MAX)],
        description=_l("What should the law say or change? Required to submit."),
    )
    rationale = TextAreaField(
        _l("Rationale"),
        validators=[Length(max=RATIONALE_MAX)],
        description=_l("Why: the facts and experience behind the proposal."),
    )
    # The services check that the theme and the debate belong to the consultation (and the
    # debate to the editor's region), with a clearer message than "Not a valid choice".
    theme_id = SelectField(
        _l("Theme"),
        coerce=_optional_id,
        choices=[],
        validate_choice=False,
        validators=[Optional()],
        description=_l("Required to submit."),
    )
    debate_id = SelectField(
        _l("Debate"),
        coerce=_optional_id,
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    # Set by the button pressed ("Save as draft", "Preview", "Submit"); never rendered as an
    # input of its own, so that the button's value is the only one sent.
    action = StringField(validators=[Optional(), AnyOf(DRAFT_ACTIONS)])

    MARKDOWN_FIELDS = ("summary", "body", "rationale")

    @property
    def chosen_action(self) -> str:
        """What the author asked for; pressing Enter in a field saves a draft."""
        return self.action.data or "draft"

    def to_input(self) -> ProposalInput:
        return ProposalInput(
            title=self.title.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            rationale=self.rationale.data or "",
            theme_id=self.theme_id.data,
            debate_id=self.debate_id.data,
        )

    def fill_from(self, proposal: Proposal) -> None:
        self.title.data = proposal.title
        self.summary.data = proposal.summary
        self.body.data = proposal.body
        self.rationale.data = proposal.rationale
        self.theme_id.data = proposal.theme_id
        self.debate_id.data = proposal.debate_id


# --- Moderation and import -----------------------------------------------------------------


class AcceptForm(FlaskForm):
    """Keep a proposal for the synthesis (its CSRF token only)."""


class RejectForm(FlaskForm):
    """Refuse a proposal; the reason is shown on its public page."""

    reason = wtforms.TextAreaField(
        _l("Reason for the rejection"),
        validators=[
            wtforms.validators.DataRequired(_l("Say why the proposal is rejected.")),
            wtforms.validators.Length(max=REASON_MAX),
        ],
        description=_l("Shown publicly on the proposal's page."),
    )


class MergeForm(FlaskForm):
    """Fold a proposal into a similar one, given by its number."""

    target = wtforms.IntegerField(
        _l("Number of the proposal to merge into"),
        validators=[
            wtforms.validators.DataRequired(_l("Give the number of the proposal to merge into."))
        ],
        description=_l("A submitted or accepted proposal of the same consultation."),
    )
    note = wtforms.TextAreaField(
        _l("Note (optional)"),
        validators=[wtforms.validators.Length(max=REASON_MAX)],
        description=_l("Shown publicly on the merged proposal's page."),
    )


class ImportForm(FlaskForm):
    """A spreadsheet of proposals, saved as CSV."""

    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l("UTF-8 or Windows-1252, columns separated by semicolons or commas."),
    )

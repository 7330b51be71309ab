"""Forms of the synthesis workspace and the bill editor."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from consultation.bill.models import DIVISION_KIND_LABELS
from consultation.bill.models import HEADING_MAX as SYNTHESIS_HEADING_MAX
from consultation.bill.models import REASON_MAX as SYNTHESIS_REASON_MAX

# --- Synthesis workspace -------------------------------------------------------------------

# The workspace's checkboxes and per-row forms are drawn by its template: these classes read and
# check what they send.


def _selected_id(value: object) -> int | None:
    """A chosen id; "" is none. Anything but a number becomes 0, an id nothing has, so that the
    services refuse it with their message (which says what to choose) rather than WTForms'
    "could not coerce"."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else 0


def _trimmed(value: str | None) -> str | None:
    return value.strip() if value else value


class ProposalSelectionField(SelectMultipleField):
    """The numbers of the proposals ticked in the workspace (any number of checkboxes)."""

    def __init__(self, label: object = None, **kwargs: object) -> None:
        kwargs.setdefault("coerce", _selected_id)
        kwargs.setdefault("choices", [])
        kwargs.setdefault("validate_choice", False)  # the services say which one is wrong
        super().__init__(label, **kwargs)  # type: ignore[arg-type]


class CreateArticleForm(FlaskForm):
    """A new article from the ticked proposals, at the end of a division."""

    proposal_ids = ProposalSelectionField(_l("Selected proposals"))
    division_id = SelectField(
        _l("Division of the new article"),
        coerce=_selected_id,
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    heading = StringField(
        _l("Heading of the new article (optional)"),
        filters=[_trimmed],
        validators=[Optional(), Length(max=SYNTHESIS_HEADING_MAX)],
    )


class AttachProposalsForm(FlaskForm):
    """The ticked proposals as sources of an existing article."""

    proposal_ids = ProposalSelectionField(_l("Selected proposals"))
    article_id = SelectField(
        _l("Article"),
        coerce=_selected_id,
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Choose the article to attach the proposals to."))],
    )


class NotRetainedForm(FlaskForm):
    """Why an accepted proposal is not retained (shown on its public page)."""

    reason = TextAreaField(
        _l("Reason"),
        filters=[_trimmed],
        validators=[
            DataRequired(_l("Say why the proposal is not retained.")),
            Length(max=SYNTHESIS_REASON_MAX),
        ],
        description=_l("Shown publicly on the proposal's page."),
    )


# --- Bill editor ---------------------------------------------------------------------------


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _optional_int(value: object) -> int | None:
    """An id from a select or a hidden field; empty means none."""
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class BillForm(FlaskForm):
    """The bill's title and exposé des motifs, with the version they were read at."""

    title = StringField(
        _l("Title of the bill"), filters=[_strip], validators=[DataRequired(), Length(max=300)]
    )
    preamble = TextAreaField(
        _l("Exposé des motifs"),
        validators=[Length(max=100_000)],
        description=_l("Markdown is allowed."),
    )
    version_id = HiddenField(default="0")


class DivisionForm(FlaskForm):
    """A new division: its kind, heading and (optional) parent."""

    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in DIVISION_KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    heading = StringField(
        _l("Heading"), filters=[_strip], validators=[DataRequired(), Length(max=300)]
    )
    parent_id = SelectField(
        _l("Inside"),
        coerce=_optional_int,
        validators=[Optional()],
        choices=[],
        validate_choice=False,
    )


class RenameDivisionForm(FlaskForm):
    heading = StringField(
        _l("Heading"), filters=[_strip], validators=[DataRequired(), Length(max=300)]
    )


class MoveForm(FlaskForm):
    """Up or down among siblings, or (for an article) into another division."""

    direction = SelectField(
        _l("Direction"),
        choices=[SelectChoice("up", _l("Up")), SelectChoice("down", _l("Down"))],
        validators=[Optional()],
        validate_choice=False,  # absent when the article moves to another division
    )
    division_id = SelectField(
        _l("Move to"),
        coerce=_optional_int,
        validators=[Optional()],
        choices=[],
        validate_choice=False,
    )


class NewArticleForm(FlaskForm):
    """A new article at the end of a division."""

    division_id = SelectField(
        _l("In the division"),
        coerce=_optional_int,
        validators=[Optional()],
        choices=[],
        validate_choice=False,
    )
    heading = StringField(_l("Heading (optional)"), filters=[_strip], validators=[Length(max=300)])
    body = TextAreaField(
        _l("Text of the article"),
        validators=[DataRequired(), Length(max=50_000)],
        description=_l("Markdown is allowed."),
    )


class ArticleForm(FlaskForm):
    """An article's heading and text, with the version they were read at."""

    heading = StringField(_l("Heading (optional)"), filters=[_strip], validators=[Length(max=300)])
    body = TextAreaField(
        _l("Text of the article"),
        validators=[DataRequired(), Length(max=50_000)],
        description=_l("Markdown is allowed."),
    )
    version_id = HiddenField()


# --- Versions ------------------------------------------------------------------------------


class FreezeForm(FlaskForm):
    """Freeze the bill as it stands into the next version, with an optional note."""

    note = StringField(
        _l("Note (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=500)],
        description=_l("What this version is for, for example “Text submitted to the jury”."),
    )


class CompareForm(FlaskForm):
    """Two versions to compare (a GET form: nothing is changed, so no CSRF token)."""

    class Meta:
        csrf = False

    a = SelectField(_l("From version"), coerce=int, choices=[])
    b = SelectField(_l("To version"), coerce=int, choices=[])

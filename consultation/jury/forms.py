"""Forms of the jury's voting rounds: scheduling a round (staff) and a juror's vote on one item."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from consultation.accounts.forms import NewPasswordMixin
from consultation.jury.models import CHOICE_LABELS


def _optional_int(value: object) -> int | None:
    """A chosen number; empty means none, anything but a number becomes 0 (no such version)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else 0


class RoundForm(FlaskForm):
    """A new voting round on a frozen version, its dates in Paris time and its rules."""

    version = SelectField(
        _l("Frozen version put to the vote"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,  # the service says when the version is not the bill's
        validators=[DataRequired(_l("Choose the version of the bill to vote on."))],
    )
    opens_at = DateTimeLocalField(
        _l("Opens (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    closes_at = DateTimeLocalField(
        _l("Closes (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    quorum_percent = IntegerField(
        _l("Quorum (percent of the registered jurors)"),
        default=50,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("The share of the jurors who must vote on an item for its result to count."),
    )
    threshold_percent = IntegerField(
        _l("Adoption threshold (percent of the votes cast)"),
        default=50,
        validators=[InputRequired(), NumberRange(min=50, max=100)],
        description=_l("An item is adopted when “for” exceeds this share of for + against."),
    )


class VoteForm(FlaskForm):
    """A juror's choice on one item of the round (an article id, or 0 for the whole text)."""

    item = HiddenField()
    choice = RadioField(
        _l("Your vote"),
        choices=[SelectChoice(choice.value, label) for choice, label in CHOICE_LABELS.items()],
        validators=[DataRequired(_l("Choose for, against or abstention."))],
    )


class JurorInvitationForm(NewPasswordMixin, FlaskForm):
    """A drawn member creates their juror account from their invitation link."""

    display_name = StringField(
        _l("Your name as others will see it"), validators=[DataRequired(), Length(max=200)]
    )

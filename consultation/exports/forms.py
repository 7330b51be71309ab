"""Forms of the dispatch: a candidate (staff), and the choice of the candidates to send the
final text to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from consultation.exports.dispatch import EMAIL_MAX, NAME_MAX


class CandidateForm(FlaskForm):
    """A candidate's name, party or movement and e-mail address (checked by the service)."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the candidate's name.")), Length(max=NAME_MAX)],
    )
    party = StringField(_l("Party or movement"), validators=[Length(max=NAME_MAX)])
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Give the candidate's e-mail address.")),
            Length(max=EMAIL_MAX),
        ],
        description=_l("Used only to send the final text; never published."),
    )


class SendForm(FlaskForm):
    """Send the latest export to every candidate, or to the ones ticked."""

    candidate_ids = SelectMultipleField(
        _l("Candidates"), coerce=int, choices=[], validate_choice=False
    )
    everyone = BooleanField(_l("Every candidate"))

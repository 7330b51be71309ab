"""Forms to schedule, cancel and minute a debate, and to register for one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from consultation.debates.models import FORMAT_LABELS, Debate, DebateFormat
from consultation.debates.services import PARIS, DebateInput


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "") else None  # type: ignore[arg-type]


class DebateForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[Length(max=20000)], description=_l("Markdown is allowed.")
    )
    region_code = SelectField(_l("Region"), validators=[Optional()], choices=[])
    starts_at = DateTimeLocalField(
        _l("Start (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    ends_at = DateTimeLocalField(
        _l("End (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(value.value, label) for value, label in FORMAT_LABELS.items()],
        validators=[DataRequired()],
    )
    venue = TextAreaField(
        _l("Venue address"),
        filters=[_strip],
        validators=[Length(max=2000)],
        description=_l("Required for a debate in person or hybrid."),
    )
    online_url = StringField(
        _l("Link to join online"),
        filters=[_strip],
        validators=[Length(max=500)],
        description=_l("Required for a debate online or hybrid."),
    )
    capacity = IntegerField(
        _l("Capacity"),
        validators=[Optional()],
        description=_l("Number of places; leave empty for no limit."),
    )
    partner_id = SelectField(
        _l("Partner organisation"),
        coerce=_optional_int,
        validators=[Optional()],
        choices=[],
        description=_l("Optional: an organisation that organises the debate with you."),
    )

    def to_input(self) -> DebateInput:
        return DebateInput(
            title=self.title.data or "",
            description=self.description.data or "",
            starts_at=self.starts_at.data.replace(tzinfo=PARIS),
            ends_at=self.ends_at.data.replace(tzinfo=PARIS),
            format=DebateFormat(self.format.data),
            venue=self.venue.data or "",
            online_url=self.online_url.data or "",
            capacity=self.capacity.data,
            region_code=self.region_code.data or None,
            partner_id=self.partner_id.data,
        )

    def fill_from(self, debate: Debate) -> None:
        self.title.data = debate.title
        self.description.data = debate.description
        self.region_code.data = debate.region_code
        self.starts_at.data = debate.starts_at.astimezone(PARIS).replace(tzinfo=None)
        self.ends_at.data = debate.ends_at.astimezone(PARIS).replace(tzinfo=None)
        self.format.data = debate.format.value
        self.venue.data = debate.venue
        self.online_url.data = debate.online_url
        self.capacity.data = debate.capacity
        self.partner_id.data = debate.partner_id


class RegistrationForm(FlaskForm):
    name = StringField(
        _l("Your name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    email = StringField(
        _l("Your e-mail address"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=320)],
        description=_l("The confirmation and the cancellation link are sent there."),
    )
    organisation_name = StringField(
        _l("Your organisation (optional)"), filters=[_strip], validators=[Length(max=200)]
    )


class CancelDebateForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the cancellation"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Sent to everyone registered."),
    )


class MinutesForm(FlaskForm):
    minutes = TextAreaField(
        _l("Minutes"), validators=[DataRequired()], description=_l("Markdown is allowed.")
    )
    attendance = IntegerField(_l("Number of participants"), validators=[Optional()])
    organisations = SelectMultipleField(
        _l("Organisations present"), coerce=int, choices=[], validators=[Optional()]
    )

    def fill_from(self, debate: Debate) -> None:
        self.minutes.data = debate.minutes
        self.attendance.data = debate.attendance
        self.organisations.data = [organisation.id for organisation in debate.attendees]

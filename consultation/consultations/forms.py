"""The staff form for a consultation: texts, proposal deadline and planned dates per phase."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from consultation.consultations.models import PHASE_LABELS, SCHEDULED_PHASES, Consultation, Phase
from consultation.consultations.services import ConsultationInput, PeriodInput
from consultation.core.i18n import PARIS


class ConsultationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message=_l("Lower-case letters, digits and hyphens only."),
            ),
        ],
        description=_l("Used in the page addresses, for example utiles-ensemble-2."),
    )
    summary = TextAreaField(
        _l("Summary"), validators=[Length(max=5000)], description=_l("Markdown is allowed.")
    )
    proposal_deadline = DateTimeLocalField(
        _l("Deadline for proposals (Paris time)"),
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
    )

    def to_input(self) -> ConsultationInput:
        deadline = self.proposal_deadline.data
        return ConsultationInput(
            slug=self.slug.data,
            title=self.title.data,
            summary=self.summary.data or "",
            proposal_deadline=deadline.replace(tzinfo=PARIS) if deadline else None,
            periods=[
                PeriodInput(
                    phase,
                    getattr(self, f"{phase.value}_starts_on").data,
                    getattr(self, f"{phase.value}_ends_on").data,
                )
                for phase in SCHEDULED_PHASES
            ],
        )

    def fill_from(self, consultation: Consultation) -> None:
        self.title.data = consultation.title
        self.slug.data = consultation.slug
        self.summary.data = consultation.summary
        if consultation.proposal_deadline:
            local = consultation.proposal_deadline.astimezone(PARIS)
            self.proposal_deadline.data = local.replace(tzinfo=None, second=0, microsecond=0)
        for period in consultation.periods:
            if period.phase in SCHEDULED_PHASES:
                getattr(self, f"{period.phase.value}_starts_on").data = period.starts_on
                getattr(self, f"{period.phase.value}_ends_on").data = period.ends_on

    def period_fields(self):
        """(label, start field, end field) for each scheduled phase, for the template."""
        return [
            (
                PHASE_LABELS[phase],
                getattr(self, f"{phase.value}_starts_on"),
                getattr(self, f"{phase.value}_ends_on"),
            )
            for phase in SCHEDULED_PHASES
        ]


for _phase in SCHEDULED_PHASES:
    setattr(
        ConsultationForm,
        f"{_phase.value}_starts_on",
        DateField(_l("Starts on"), validators=[Optional()]),
    )
    setattr(
        ConsultationForm,
        f"{_phase.value}_ends_on",
        DateField(_l("Ends on"), validators=[Optional()]),
    )


class PhaseForm(FlaskForm):
    phase = SelectField(
        _l("Move to phase"),
        choices=[SelectChoice(phase.value, PHASE_LABELS[phase]) for phase in Phase],
    )


class ThemeForm(FlaskForm):
    name = StringField(_l("Name of the theme"), validators=[DataRequired(), Length(max=200)])


class MoveThemeForm(FlaskForm):
    direction = SelectField(
        _l("Direction"), choices=[SelectChoice("up", _l("Up")), SelectChoice("down", _l("Down"))]
    )

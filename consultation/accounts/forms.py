"""Forms for signing in, resetting and managing one's account, organisations and invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from consultation.accounts.models import OrganisationKind, Role
from consultation.accounts.services import MIN_PASSWORD_LENGTH

ROLE_LABELS = {
    Role.CONTRIBUTOR: _l("Contributor (member of an organisation)"),
    Role.REGIONAL_EDITOR: _l("Regional editor (regional Hlm association)"),
    Role.JUROR: _l("Juror"),
    Role.ADMIN: _l("USH staff (administrator)"),
}

ORGANISATION_KIND_LABELS = {
    OrganisationKind.ORGANISME: _l("Hlm organisation"),
    OrganisationKind.ASSOCIATION_REGIONALE: _l("Regional Hlm association"),
    OrganisationKind.FEDERATION: _l("Federation"),
    OrganisationKind.COMMISSION: _l("USH working commission"),
    OrganisationKind.CONSEIL_SOCIAL: _l("USH Conseil social"),
    OrganisationKind.USH: _l("Union sociale pour l'habitat"),
}


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class NewPasswordMixin:
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    confirm_password = PasswordField(
        _l("Confirm the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class PasswordResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=320)],
    )


class PasswordResetForm(NewPasswordMixin, FlaskForm):
    """Choose a new password from a reset link."""


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class EraseAccountForm(FlaskForm):
    """Erase one's own account: the password, typed again, confirms it."""

    password = PasswordField(
        _l("Your password, to confirm"),
        validators=[DataRequired(message=_l("Type your password to confirm.")), Length(max=200)],
    )


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    display_name = StringField(
        _l("Your name as others will see it"), validators=[DataRequired(), Length(max=200)]
    )


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()
        ],
    )
    region_code = SelectField(
        _l("Region"),
        validators=[Optional()],
        description=_l("Required for a regional association."),
    )


class OrganisationEditForm(OrganisationForm):
    """Correct an organisation (a name that could not be checked, a wrong region...)."""

    is_fictional = BooleanField(
        _l("Fictional (demonstration data)"),
        description=_l("Tagged “fictional” in lists: for names that are not public facts."),
    )


def _organisation_id(value: str | int | None) -> int | None:
    return int(value) if value else None


class RoleMixin:
    """A role and the organisation it acts for; choices of organisations are set by the view."""

    role = SelectField(
        _l("Role"), choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]
    )
    organisation_id = SelectField(
        _l("Organisation"),
        validators=[Optional()],
        coerce=_organisation_id,
        description=_l("Required for contributors and regional editors."),
    )


class InvitationForm(RoleMixin, FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=320)]
    )


class UserForm(RoleMixin, FlaskForm):
    """Correct an account: its name, role and organisation (the email is the person's own)."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for one-button actions."""

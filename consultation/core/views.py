"""Small helpers shared by the domains' views."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_wtf import FlaskForm

from consultation.core.errors import DomainError


def acting_user() -> Any:
    """The signed-in user (or the anonymous one) as a plain object, to hand to services."""
    return current_user._get_current_object()


def show_error(form: FlaskForm, error: DomainError) -> int:
    """Show a domain error beside its field, or above the form; return its status code."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error.message))
    else:
        form.form_errors.append(str(error.message))
    return error.status_code

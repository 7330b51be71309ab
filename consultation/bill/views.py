"""Bill pages: the public draft, its versions and their differences; the staff synthesis
workspace and the bill editor."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from consultation.core.errors import DomainError

bp = Blueprint("bill", __name__)


def _user():
    return current_user._get_current_object()


def _show_error(form, error: DomainError) -> int:
    """A domain error beside its field, or above the form; returns its status code."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error.message))
    else:
        form.form_errors.append(str(error.message))
    return error.status_code


# --- Public pages: the draft, its versions and their differences ---------------------------


# --- Synthesis workspace (staff) -----------------------------------------------------------


# --- Bill editor (staff) -------------------------------------------------------------------

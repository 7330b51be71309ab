"""Proposal pages: the public list, search and detail; drafting and submitting for
contributors and regional editors; moderation and import for staff."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from consultation.core.errors import DomainError

bp = Blueprint("proposals", __name__)

PER_PAGE = 20
MANAGE_PER_PAGE = 50


def _user():
    return current_user._get_current_object()


def _show_error(form, error: DomainError) -> int:
    """A domain error beside its field, or above the form; returns its status code."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error.message))
    else:
        form.form_errors.append(str(error.message))
    return error.status_code


# --- Public pages --------------------------------------------------------------------------


# --- Drafting and submitting ---------------------------------------------------------------


# --- Moderation and import (staff) ---------------------------------------------------------

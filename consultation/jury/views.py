"""Jury pages: the public jury page and the application form, the staff pages of the pool,
the quotas, the draws, the jurors and the voting rounds, and the jurors' ballot pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("jury", __name__)

"""Forms to draft a proposal, moderate it and import proposals."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l  # noqa: F401 (used by the forms below)
from flask_wtf import FlaskForm  # noqa: F401


# --- Drafting ------------------------------------------------------------------------------


# --- Moderation and import -----------------------------------------------------------------

"""Forms of the synthesis workspace and the bill editor."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l  # noqa: F401 (used by the forms below)
from flask_wtf import FlaskForm  # noqa: F401


# --- Synthesis workspace -------------------------------------------------------------------


# --- Bill editor ---------------------------------------------------------------------------


# --- Versions ------------------------------------------------------------------------------

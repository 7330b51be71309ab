"""Locale choice (French first, English on request) and French-style date formatting."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def select_locale() -> str:
    """The language chosen with the switch, else French (also outside requests: CLI, jobs)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang") or request.cookies.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def long_date(value: date | datetime | None) -> str:
    """ "lundi 15 novembre 2021" in French, "Monday 15 November 2021" in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "EEEE d MMMM y")
    return format_date(value, "EEEE d MMMM y")


def short_date(value: date | datetime | None) -> str:
    """ "15 nov. 2021"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMM y")
    return format_date(value, "d MMM y")


def date_time(value: datetime | None) -> str:
    """ "lundi 15 novembre 2021, 18 h 30" in Paris time (French style for hours)."""
    if value is None:
        return ""
    day = format_datetime(value, "EEEE d MMMM y")
    hour = format_datetime(value, "H")
    minute = format_datetime(value, "mm")
    if str(get_locale()) == "fr":
        return f"{day}, {hour}\u00a0h\u00a0{minute}"
    return f"{day}, {hour}:{minute}"

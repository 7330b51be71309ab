"""Locale choice (French first, English on request) and French-style date formatting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    to_user_timezone,
)

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
PARIS = ZoneInfo("Europe/Paris")  # every time is stored in UTC and shown in Paris time


def select_locale() -> str:
    """The language chosen with the switch, else French (also outside requests: CLI, jobs)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang") or request.cookies.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _is_french() -> bool:
    return str(get_locale()) == "fr"


def _format(value: date | datetime, pattern: str) -> str:
    """Format in the visitor's language, datetimes in Paris time; the first of the month is
    "1er" in French."""
    local_day = to_user_timezone(value).day if isinstance(value, datetime) else value.day
    if local_day == 1 and _is_french():
        pattern = pattern.replace("d ", "'1er' ", 1)
    if isinstance(value, datetime):
        return format_datetime(value, pattern)
    return format_date(value, pattern)


def long_date(value: date | datetime | None) -> str:
    """ "lundi 15 novembre 2021" in French, "Monday 15 November 2021" in English."""
    return _format(value, "EEEE d MMMM y") if value is not None else ""


def short_date(value: date | datetime | None) -> str:
    """ "15 nov. 2021", "1er févr. 2022"."""
    return _format(value, "d MMM y") if value is not None else ""


def date_time(value: datetime | None) -> str:
    """ "lundi 15 novembre 2021, 18 h 30" in Paris time (French style for hours)."""
    return f"{long_date(value)}, {time_of_day(value)}" if value is not None else ""


def time_of_day(value: datetime | None) -> str:
    """ "18 h 30" in French, "18:30" in English, in Paris time."""
    if value is None:
        return ""
    hours, minutes = format_datetime(value, "H"), format_datetime(value, "mm")
    if _is_french():
        return f"{hours}\u00a0h\u00a0{minutes}"
    return f"{hours}:{minutes}"


def percent(value: float | None, decimals: int = 2) -> str:
    """A share as a percentage in the visitor's language: "10,00 %", "10.00%"."""
    if value is None:
        return ""
    number = format_decimal(value * 100, "#,##0." + "0" * decimals if decimals else "#,##0")
    # French puts a no-break space before the sign.
    return f"{number}\u00a0%" if _is_french() else f"{number}%"


def file_size(size: int) -> str:
    """ "12 Ko", "1,4 Mo" in French; "12 kB", "1.4 MB" in English."""
    units = ("o", "Ko", "Mo", "Go") if _is_french() else ("B", "kB", "MB", "GB")
    value, unit = float(size), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    number = format_decimal(value, "#,##0" if unit == 0 or value >= 100 else "#,##0.#")
    return f"{number}\u00a0{units[unit]}"

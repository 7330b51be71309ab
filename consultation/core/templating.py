"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale
from markupsafe import Markup, escape

from consultation.core import i18n, permissions, typography
from consultation.core.markdown import render_markdown
from consultation.core.models import utcnow


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        long_date=i18n.long_date,
        short_date=i18n.short_date,
        date_time=i18n.date_time,
        hour=i18n.time_of_day,
        markdown=render_markdown,
        percent=i18n.percent,
        filesize=i18n.file_size,
        french=typography.french,
        ordinal=_ordinal,
    )
    app.jinja_env.globals.update(
        can=permissions.can,
        rules=permissions,
        language_names=i18n.LANGUAGE_NAMES,
        now=utcnow,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def page_context() -> dict[str, object]:
        return {"current_locale": str(get_locale()), "current_path": request.full_path.rstrip("?")}


def _ordinal(text: str) -> Markup:
    """ "Article 1er" with its "er" in superscript."""
    return Markup("").join(
        Markup("<sup>%s</sup>") % run if is_sup else escape(run)
        for run, is_sup in typography.split_ordinal(text)
    )

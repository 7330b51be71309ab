"""The final text as PDF: an HTML template laid out by WeasyPrint (A4, cover page, table of
contents with page numbers, running title, French hyphenation, embedded fonts)."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from markupsafe import Markup, escape

from consultation.core.typography import french, sort_key
from consultation.exports import blocks
from consultation.exports.final_text import Article, Division, FinalText, Source

TEMPLATE = "exports/pdf.html"
STYLESHEET = "css/final-text-pdf.css"
TOC_ARTICLES = 60


@dataclass(frozen=True)
class Origin:
    """Who a proposal came from, listed once in the provenance annex and cited by number:
    20,000 sources would otherwise repeat the same organisations on hundreds of pages."""

    number: int
    organisation: str
    kind: str
    region: str
    debate: str


def _origin_key(source: Source) -> tuple[str, str, str, str]:
    return (source.organisation, source.source_kind, source.region or "", source.debate or "")


def _origins(articles: list[Article]) -> dict[tuple[str, str, str, str], Origin]:
    """Every distinct origin of the cited proposals, numbered in alphabetical order."""
    keys = {_origin_key(source) for article in articles for source in article.sources}
    ordered = sorted(keys, key=lambda key: (sort_key(key[0]), key))
    return {
        key: Origin(
            number,
            french(key[0]),
            blocks.source_kind(key[1]),
            french(key[2]),
            french(key[3]),
        )
        for number, key in enumerate(ordered, start=1)
    }


def _cited(
    article: Article, origins: dict[tuple[str, str, str, str], Origin], with_titles: bool
) -> Markup:
    """An article's proposals on one line each would take 20,000 lines: they run on in one
    paragraph, each with its number, its title (unless the text is huge) and its origin's
    number."""
    if not with_titles:
        # Grouped by origin, each number written once: "[3] 101, 104 ; [7] 102" (the legend
        # says what the numbers are: glyphs are what WeasyPrint spends its time drawing).
        by_origin: dict[int, list[int]] = {}
        for source in article.sources:
            number = origins[_origin_key(source)].number
            by_origin.setdefault(number, []).append(source.proposal_id)
        # Numbers only, so plain strings: Markup.format would take a second on 20,000.
        return Markup(  # noqa: S704 (integers and fixed punctuation only)
            " ; ".join(
                f"[{origin}]\u00a0{', '.join(str(i) for i in sorted(ids))}"
                for origin, ids in sorted(by_origin.items())
            )
        )
    return Markup(" ; ").join(
        Markup("n°\u00a0{id}\u2002{title}\u00a0[{origin}]").format(
            id=source.proposal_id,
            title=french(source.title),
            origin=origins[_origin_key(source)].number,
        )
        for source in article.sources
    )


def _label(label: str) -> Markup:
    """A label with its superscript "er"."""
    return Markup("").join(
        Markup("<sup>{}</sup>").format(part) if sup else escape(part)
        for part, sup in blocks.label_runs(label)
    )


class _LocalFetcher:
    """Fetches only data: URLs and files of the application's static folder: a document is
    never built from the network."""

    def __init__(self, static_folder: str) -> None:
        from weasyprint.urls import URLFetcher

        self.root = Path(static_folder).resolve()
        self.fetcher = URLFetcher(allowed_protocols={"data", "file"}, fail_on_errors=False)
        self._fail_on_errors = False

    def __call__(self, url: str):
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not path.is_relative_to(self.root):
                raise ValueError(f"Refused outside the static folder: {url}")
        elif not url.startswith("data:"):
            raise ValueError(f"Refused (no network in documents): {url}")
        return self.fetcher(url)


MAX_TITLED_SOURCES = 3000
PROVENANCE_TEMPLATE = "exports/pdf_provenance.html"
WORKER = "consultation.exports.pdf_worker"


def _context(text: FinalText) -> dict[str, Any]:
    articles = text.all_articles()
    origins = _origins(articles)
    # Laying out 20,000 titles would take most of the time: past a few thousand, the PDF cites
    # the proposals by number (their titles are in every other format and on the web).
    with_titles = _cited_count(text) <= MAX_TITLED_SOURCES
    return {
        "text": text,
        "b": blocks,
        "french": french,
        "label": _label,
        "body": blocks.html,
        "date": blocks.french_date(text.dated),
        "articles": articles,
        "origins": list(origins.values()),
        "cited": lambda article: _cited(article, origins, with_titles),
        "with_titles": with_titles,
        "outline": _outline(text),
        # A long text's contents list its divisions; a short one, or one without divisions,
        # its articles too.
        "toc_articles": not text.divisions or len(articles) <= TOC_ARTICLES,
        "figures": blocks.figures_rows(text),
    }


def _cited_count(text: FinalText) -> int:
    return sum(len(article.sources) for article in text.all_articles())


def _render_template(name: str, context: dict[str, Any]) -> str:
    # An application context is enough, not a request: the page's context processors are
    # left out, as the document has no visitor.
    return current_app.jinja_env.get_template(name).render(context)


def render_html(text: FinalText) -> str:
    """The HTML of the text without its provenance annex."""
    return _render_template(TEMPLATE, _context(text))


def render_provenance_html(text: FinalText) -> str:
    """The HTML of the provenance annex, a document of its own."""
    return _render_template(PROVENANCE_TEMPLATE, _context(text))


@dataclass(frozen=True)
class Entry:
    """A division or an article in reading order, for the body and the table of contents."""

    anchor: str
    depth: int  # 0 for a loose article, 1 for a titre...
    level: int  # its HTML heading level
    division: Division | None = None
    article: Article | None = None


def _outline(text: FinalText) -> list[Entry]:
    entries: list[Entry] = []

    def articles(children: tuple[Article, ...], depth: int) -> None:
        for article in children:
            entries.append(Entry(f"a{article.number}", depth, min(depth + 2, 6), article=article))

    def divisions(children: tuple[Division, ...], depth: int) -> None:
        for division in children:
            entries.append(
                Entry(f"d{len(entries) + 1}", depth, min(depth + 1, 6), division=division)
            )
            articles(division.articles, depth)
            divisions(division.divisions, depth + 1)

    articles(text.articles, 0)
    divisions(text.divisions, 1)
    return entries


def write_pdf(html: str, static: str) -> bytes:
    """One HTML document laid out and written as PDF (a function of strings: pdf_worker runs it
    in another process)."""
    from weasyprint import CSS, HTML

    fetcher = _LocalFetcher(static)
    stylesheet = CSS(filename=str(Path(static) / STYLESHEET), url_fetcher=fetcher)
    document = HTML(string=html, base_url=Path(static).as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet])


def render(text: FinalText) -> bytes:
    """The final text as a PDF document: the text and its first annexes, then the provenance
    annex, paginated from I. WeasyPrint lays out one page after the other on one core: for a
    large text the provenance annex is laid out at the same time by another process."""
    static = current_app.static_folder or ""
    context = _context(text)  # the origins and the outline are computed once for both
    main_html = _render_template(TEMPLATE, context)
    provenance_html = _render_template(PROVENANCE_TEMPLATE, context)
    if _cited_count(text) <= MAX_TITLED_SOURCES:
        return _combine(write_pdf(main_html, static), write_pdf(provenance_html, static))
    with tempfile.TemporaryDirectory(prefix="pdf-") as folder:
        source = Path(folder) / "provenance.html"
        source.write_text(provenance_html, encoding="utf-8")
        # A new interpreter rather than a fork: it inherits none of this process's threads,
        # locks or connections, and needs nothing but the file and the static folder.
        command = [sys.executable, "-m", WORKER, str(source), static]
        # A fixed command, no shell: nothing of the text reaches the arguments.
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        try:
            main = write_pdf(main_html, static)
        except BaseException:
            child.kill()  # its half of the document is of no use now
            child.communicate()
            raise
        provenance, errors = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"The provenance annex failed: {errors.decode(errors='replace')[-500:]}")
    return _combine(main, provenance)


def _combine(main: bytes, provenance: bytes) -> bytes:
    """The two documents as one PDF, with the bookmarks of both and page labels that match the
    printed numbers (1, 2… then I, II…)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(main))
    first_annex_page = len(writer.pages)
    writer.append(PdfReader(io.BytesIO(provenance)), import_outline=True)
    writer.set_page_label(0, first_annex_page - 1, style="/D", start=1)
    writer.set_page_label(first_annex_page, len(writer.pages) - 1, style="/R", start=1)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()

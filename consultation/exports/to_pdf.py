"""The final text as PDF: an HTML template laid out by WeasyPrint (A4, cover page, table of
contents with page numbers, running title, French hyphenation, embedded fonts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
        # Grouped by origin, each number is written once: "[3] nos 101, 104 ; [7] no 102".
        by_origin: dict[int, list[int]] = {}
        for source in article.sources:
            number = origins[_origin_key(source)].number
            by_origin.setdefault(number, []).append(source.proposal_id)
        return Markup(" ; ").join(
            Markup("[{origin}]\u00a0{prefix}\u00a0{ids}").format(
                origin=origin,
                prefix="nos" if len(ids) > 1 else "n°",
                ids=", ".join(str(i) for i in sorted(ids)),
            )
            for origin, ids in sorted(by_origin.items())
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


def render_html(text: FinalText) -> str:
    """The HTML the PDF is laid out from (needs an application context, not a request: the
    page's context processors are left out, as the document has no visitor)."""
    articles = text.all_articles()
    origins = _origins(articles)
    # Laying out 20,000 titles would take most of the time: past a few thousand, the PDF cites
    # the proposals by number (their titles are in every other format and on the web).
    with_titles = sum(len(article.sources) for article in articles) <= MAX_TITLED_SOURCES
    return current_app.jinja_env.get_template(TEMPLATE).render(
        text=text,
        b=blocks,
        french=french,
        label=_label,
        body=blocks.html,
        date=blocks.french_date(text.dated),
        articles=articles,
        origins=list(origins.values()),
        cited=lambda article: _cited(article, origins, with_titles),
        with_titles=with_titles,
        outline=_outline(text),
        # A long text's contents list its divisions; a short one, or one without divisions,
        # its articles too.
        toc_articles=not text.divisions or len(articles) <= TOC_ARTICLES,
        results=[blocks.result_row(result) for result in text.results],
        figures=blocks.figures_rows(text),
    )


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


def render(text: FinalText) -> bytes:
    """The final text as a PDF document."""
    from weasyprint import CSS, HTML

    static = current_app.static_folder or ""
    fetcher = _LocalFetcher(static)
    stylesheet = CSS(filename=str(Path(static) / STYLESHEET), url_fetcher=fetcher)
    document = HTML(
        string=render_html(text), base_url=Path(static).as_uri() + "/", url_fetcher=fetcher
    )
    return document.write_pdf(stylesheets=[stylesheet])

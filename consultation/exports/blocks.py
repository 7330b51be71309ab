"""What the document formats (PDF, ODT, DOCX) share: their fixed French words, French dates,
and Markdown read into blocks (paragraphs, lists, runs of bold, italic and superscript text),
French typography applied to the text and never to URLs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime

import lxml.html
from markupsafe import Markup

from consultation.core.i18n import PARIS
from consultation.core.markdown import render_markdown
from consultation.core.typography import french, split_ordinal
from consultation.exports.final_text import FinalText, Result

# The documents are a parliamentary text: French whatever the interface language.
BILL = "Proposition de loi"
MOTIFS = "Exposé des motifs"
CONTENTS = "Sommaire"
ANNEX_RESULTS = "Annexe 1 – Résultats du jury citoyen"
# The bulky provenance comes last, after the figures.
ANNEX_FIGURES = "Annexe 2 – La consultation en chiffres"
ANNEX_PROVENANCE = "Annexe 3 – Provenance des articles"
AUTHOR = "Union sociale pour l'habitat"
SOURCE_KINDS = {
    "organisme": "Organisme Hlm",
    "commission": "Commission de l'USH",
    "conseil_social": "Conseil social de l'USH",
    "debat_regional": "Débat régional",
}
RESULT_COLUMNS = ("Article voté", "Objet", "Pour", "Contre", "Abstention", "Résultat", "Devient")
PROVENANCE_COLUMNS = ("Proposition", "Organisation", "Source", "Région", "Débat")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(value: date | datetime) -> str:
    """ "17 février 2022", "1er mars 2022", in Paris time for a datetime."""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS) if value.tzinfo else value
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


@functools.lru_cache(maxsize=8192)
def fr(text: str) -> str:
    """french(), remembered: organisations, regions and debates repeat over thousands of
    sources."""
    return french(text)


def source_kind(kind: str) -> str:
    """The French name of a source kind."""
    return SOURCE_KINDS.get(kind, kind)


def result_label(result: Result, with_final_label: bool = True) -> str:
    """ "adopté – devient l'article 2 (large soutien)", "non adopté", "quorum non atteint"."""
    if not result.quorum_reached:
        return "quorum non atteint"
    if not result.adopted:
        return "non adopté"
    label = "adopté"
    if with_final_label and result.final_label:
        label += f" – devient l'{result.final_label.lower()}"
    if result.large_support:
        label += " (large soutien)"
    return label


def result_row(result: Result) -> tuple[str, ...]:
    """One row of the results annex, its cells in the order of RESULT_COLUMNS."""
    return (
        result.voted_label,
        french(result.heading),
        str(result.pour),
        str(result.contre),
        str(result.abstention),
        # The new number in a column of its own: one line per article in the tables.
        result_label(result, with_final_label=False),
        result.final_label or "",
    )


def result_sentence(result: Result) -> str:
    """ "22 pour, 5 contre, 2 abstentions : adopté – devient l'article 1er (large soutien)"."""
    plural = "s" if result.abstention > 1 else ""
    return french(
        f"{result.pour} pour, {result.contre} contre, {result.abstention} abstention{plural} : "
        f"{result_label(result)}"
    )


def whole_text_summary(text: FinalText) -> str:
    """The jury's vote on the whole text, in one sentence."""
    whole = text.whole_text
    return french(
        f"Vote sur l'ensemble du texte : {whole.pour} pour, {whole.contre} contre, "
        f"{whole.abstention} abstention{'s' if whole.abstention > 1 else ''} "
        f"({whole.voted} votants sur {whole.registered} jurés) : {result_label(whole)}."
    )


def figures_rows(text: FinalText) -> dict[str, list[tuple[str, str]]]:
    """The figures annex as titled two-column tables."""
    figures = text.figures
    return {
        "Débats régionaux tenus par région": [
            (row.region, str(row.held)) for row in figures.debates_by_region
        ]
        + [("Total", str(figures.debates_held))],
        "Propositions par source": [
            (source_kind(kind), str(count)) for kind, count in figures.proposals_by_source.items()
        ]
        + [("Total", str(figures.proposals))],
        "Participants": [
            ("Organisations", str(figures.organisations)),
            ("Jurés citoyens", str(figures.jurors)),
        ],
    }


def subtitle(text: FinalText) -> str:
    """The line under the title on the cover."""
    return french(f"Issue de la consultation « {text.consultation_title} »")


_ROMAN_FIRST = re.compile(r"\b(I)(er)\b")


def label_runs(label: str) -> list[tuple[str, bool]]:
    """ "Article 1er" or "TITRE Ier" as runs, True for the superscript "er"."""
    runs: list[tuple[str, bool]] = []
    for part, sup in split_ordinal(label):
        if sup:
            runs.append((part, True))
            continue
        position = 0
        for match in _ROMAN_FIRST.finditer(part):
            runs.append((part[position : match.start(2)], False))
            runs.append((match.group(2), True))
            position = match.end()
        runs.append((part[position:], False))
    return [(run, sup) for run, sup in runs if run]


# --- Markdown as blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    superscript: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]
    style: str = "body"  # "body", "quote" or "heading"
    level: int = 0  # for a heading: 1 is the biggest


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    start: int
    items: tuple[tuple[Paragraph | ListBlock, ...], ...]


Block = Paragraph | ListBlock

_BLOCK_TAGS = {"p", "ul", "ol", "blockquote", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"}


def _text_runs(text: str, base: Run) -> list[Run]:
    """Runs of a text node, typography applied; "1er" gets its superscript."""
    if base.code:
        return [Run(text, base.bold, base.italic, base.superscript, True, base.href)]
    return [
        Run(part, base.bold, base.italic, base.superscript or sup, False, base.href)
        for part, sup in split_ordinal(french(text))
    ]


def _runs(element: lxml.html.HtmlElement, base: Run) -> list[Run]:
    """The inline content of an element as runs."""
    runs = _text_runs(element.text, base) if element.text else []
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        style = base
        if tag in ("strong", "b"):
            style = Run("", True, base.italic, base.superscript, base.code, base.href)
        elif tag in ("em", "i"):
            style = Run("", base.bold, True, base.superscript, base.code, base.href)
        elif tag == "sup":
            style = Run("", base.bold, base.italic, True, base.code, base.href)
        elif tag == "code":
            style = Run("", base.bold, base.italic, base.superscript, True, base.href)
        elif tag == "a":
            style = Run("", base.bold, base.italic, base.superscript, base.code, child.get("href"))
        if tag == "br":
            runs.append(Run("\n", base.bold, base.italic))
        elif tag not in _BLOCK_TAGS:
            runs.extend(_runs(child, style))
        if child.tail:
            runs.extend(_text_runs(child.tail, base))
    return runs


def _paragraph(element: lxml.html.HtmlElement, style: str = "body", level: int = 0) -> Paragraph:
    runs = _runs(element, Run(""))
    # Markdown keeps the source's line breaks inside a paragraph: they are spaces.
    cleaned = [
        Run(re.sub(r"\s*\n\s*", " ", r.text), r.bold, r.italic, r.superscript, r.code, r.href)
        if r.text != "\n"
        else r
        for r in runs
    ]
    return Paragraph(tuple(r for r in cleaned if r.text), style, level)


def _blocks(elements: list[lxml.html.HtmlElement], quote: bool = False) -> list[Block]:
    found: list[Block] = []
    for element in elements:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("ul", "ol"):
            items = []
            for item in element.iterfind("li"):
                nested = [child for child in item if child.tag in _BLOCK_TAGS]
                if nested:  # a "loose" list item: its paragraphs and sublists
                    inline = _paragraph(item)
                    items.append(tuple(([inline] if inline.runs else []) + _blocks(nested, quote)))
                else:
                    items.append((_paragraph(item, "quote" if quote else "body"),))
            found.append(ListBlock(tag == "ol", int(element.get("start") or 1), tuple(items)))
        elif tag == "blockquote":
            found.extend(_blocks(list(element), quote=True))
        elif tag in ("h2", "h3", "h4", "h5", "h6"):
            found.append(_paragraph(element, "heading", int(tag[1]) - 1))
        elif tag == "table":
            # Rare in a bill: each row becomes a paragraph, cells separated by tabs.
            for row in element.iter("tr"):
                cells = [" ".join(cell.text_content().split()) for cell in row]
                found.append(Paragraph((Run(french("\t".join(cells))),)))
        elif tag == "hr":
            continue
        elif tag:
            paragraph = _paragraph(element, "quote" if quote else "body")
            if paragraph.runs:
                found.append(paragraph)
    return found


def _fragments(source: str) -> list[lxml.html.HtmlElement]:
    html = str(render_markdown(source))
    if not html.strip():
        return []
    return [
        element for element in lxml.html.fragments_fromstring(html) if not isinstance(element, str)
    ]


@functools.lru_cache(maxsize=2048)
def parse(source: str) -> tuple[Block, ...]:
    """Markdown as blocks, French typography applied to its text (cached: bodies repeat)."""
    return tuple(_blocks(_fragments(source or "")))


def _typeset(element: lxml.html.HtmlElement) -> None:
    """French typography on the text nodes of an element, "1er" in superscript; URLs and
    code are left alone."""
    if element.tag in ("code", "pre"):
        return
    if element.text:
        element.text = french(element.text)
    for child in list(element):
        _typeset(child)
        if child.tail:
            child.tail = french(child.tail)


@functools.lru_cache(maxsize=2048)
def html(source: str) -> Markup:
    """Markdown as safe HTML with French typography, for the PDF."""
    parts = []
    for element in _fragments(source or ""):
        _typeset(element)
        parts.append(lxml.html.tostring(element, encoding="unicode"))
    # The text comes from the sanitised renderer and only its text nodes changed.
    return Markup(_superscripts("".join(parts)))  # noqa: S704


_ORDINAL_IN_TEXT = re.compile(r"(?<![\w/=&#.-])1(er|re)\b(?![^<>]*>)")


def _superscripts(markup: str) -> str:
    """ "1er" → "1<sup>er</sup>" outside tags and attributes."""
    return _ORDINAL_IN_TEXT.sub(r"1<sup>\1</sup>", markup)

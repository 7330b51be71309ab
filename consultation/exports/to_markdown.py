"""The final text as Markdown: the title, the exposé des motifs, the articles under their
divisions, then the three annexes as tables.

The document is French whatever the interface language, so its fixed words are written here in
French, not translated. The French words and figures the other text formats share (outcomes,
source kinds, dates, numbers) live here too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from consultation.core.typography import NBSP, french
from consultation.exports.blocks import ANNEX_FIGURES, ANNEX_PROVENANCE, ANNEX_RESULTS, french_date
from consultation.exports.blocks import source_kind as source_kind_label
from consultation.exports.final_text import Article, Division, FinalText, Result

WHOLE_TEXT_LABEL = "Ensemble du texte"
# The same words as the PDF, ODT and DOCX (`blocks`): one text in every format.
ANNEX_TITLES = (ANNEX_RESULTS, ANNEX_FIGURES, ANNEX_PROVENANCE)
RESULT_HEADERS = (
    "Article soumis au vote",
    "Objet",
    "Pour",
    "Contre",
    "Abstention",
    "Votants",
    "Résultat",
)
PROVENANCE_HEADERS = ("Article", "Proposition", "Organisation", "Source", "Région", "Débat")
NONE = "—"  # an empty cell, so that a reader sees it is empty on purpose


def french_number(value: int) -> str:
    """ "20 000": thousands separated by a no-break space, as French writes them."""
    return f"{value:,}".replace(",", NBSP)


def outcome(result: Result, *, whole_text: bool = False) -> str:
    """What the jury decided on an item, in French: "adopté (devient l'Article 2)", "non
    adopté", "non adopté (quorum non atteint)", with ", large soutien" when so."""
    if not result.quorum_reached:
        return "non adopté (quorum non atteint)"
    if not result.adopted:
        return "non adopté"
    text = "adopté"
    if result.final_label and not whole_text:
        text += f" (devient l'{result.final_label})"
    if result.large_support:
        text += ", large soutien"
    return text


def rounds_summary(text: FinalText) -> str:
    """One sentence on the vote: its dates, the jurors registered, the quorum and threshold."""
    return (
        f"Vote n°{NBSP}{text.round_number} du jury citoyen, du {french_date(text.round_opens_at)} "
        f"au {french_date(text.round_closes_at)}, sur la version {text.version_number} du "
        f"texte : {french_number(text.whole_text.registered)} jurés inscrits ; quorum de "
        f"{text.quorum_percent} % des jurés ; un article est adopté quand les voix « pour » "
        f"dépassent {text.threshold_percent} % des suffrages exprimés (pour et contre)."
    )


# --- Markdown ------------------------------------------------------------------------------------

# Characters that would start emphasis, code, links, HTML or a heading in running text.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
# ASCII white space only: the no-break spaces of French typography must stay.
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def escape(value: str) -> str:
    """Plain text made literal in Markdown (emphasis, links, HTML and pipes escaped)."""
    return _INLINE_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", value).strip())


def cell(value: object) -> str:
    """A table cell: on one line, pipes escaped, French typography; empty shows a dash."""
    if value is None or value == "":
        return NONE
    return _text_cell(value) if isinstance(value, str) else str(value)


@lru_cache(maxsize=16_384)
def _text_cell(value: str) -> str:
    # Cached: the provenance annex repeats organisations, kinds and regions thousands of times.
    return escape(french(value))


def table(headers: tuple[str, ...], rows: list[list[object]], numeric: set[int]) -> list[str]:
    """A Markdown table; the `numeric` columns are right-aligned."""
    lines = [
        "| " + " | ".join(cell(header) for header in headers) + " |",
        "|" + "|".join("---:" if i in numeric else "---" for i in range(len(headers))) + "|",
    ]
    lines.extend("| " + " | ".join(cell(value) for value in row) + " |" for row in rows)
    return lines


_HEADING = re.compile(r"^(#{1,6})(?=\s)")
_FENCE = re.compile(r"^\s*(```|~~~)")
# A code span (kept as is), or a run of text without backticks.
_CODE_SPAN = re.compile(r"(`+[^`]*?`+)|([^`]+)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _block(markdown: str, level: int) -> str:
    """User Markdown as a block of the document, in French typography, its own headings moved
    below `level` so that they never outrank the document's (outside fenced code)."""
    lines, fenced = [], False
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + level), line)
            line = _CODE_SPAN.sub(_escape_tags, line)
        lines.append(line)
    return french(_CONTROL.sub("", "\n".join(lines))).strip()


def _escape_tags(match: re.Match[str]) -> str:
    """Raw HTML outside code spans as the platform shows it, as text: `<b>` becomes `&lt;b>`,
    so that no Markdown reader runs a `<script>` someone typed."""
    code, text = match.group(1), match.group(2)
    return code if code else _TAG_START.sub("&lt;", text)


def _article(article: Article, level: int, out: list[str]) -> None:
    out += [f"{'#' * level} {article.label}", ""]
    if article.heading:
        out += [f"*{escape(french(article.heading))}*", ""]
    if article.body.strip():
        out += [_block(article.body, level), ""]


def _division(division: Division, level: int, out: list[str]) -> None:
    heading = (
        f"{division.label} – {french(division.heading)}" if division.heading else division.label
    )
    out += [f"{'#' * min(level, 6)} {escape(heading)}", ""]
    for article in division.articles:
        _article(article, min(level + 1, 6), out)
    for child in division.divisions:
        _division(child, level + 1, out)


def _depth(divisions: tuple[Division, ...]) -> int:
    return max((1 + _depth(d.divisions) for d in divisions), default=0)


def _results(text: FinalText) -> list[str]:
    rows: list[list[object]] = [
        [
            r.voted_label,
            r.heading,
            french_number(r.pour),
            french_number(r.contre),
            french_number(r.abstention),
            french_number(r.voted),
            outcome(r),
        ]
        for r in text.results
    ]
    whole = text.whole_text
    rows.append(
        [
            WHOLE_TEXT_LABEL,
            "",
            french_number(whole.pour),
            french_number(whole.contre),
            french_number(whole.abstention),
            french_number(whole.voted),
            outcome(whole, whole_text=True),
        ]
    )
    return [french(rounds_summary(text)), "", *table(RESULT_HEADERS, rows, {2, 3, 4, 5})]


def _provenance(text: FinalText) -> list[str]:
    rows: list[list[object]] = []
    for article in text.all_articles():
        if not article.sources:
            rows.append([article.label, "aucune proposition", "", "", "", ""])
        for source in article.sources:
            rows.append(
                [
                    article.label,
                    f"n°{NBSP}{source.proposal_id} : {source.title}",
                    source.organisation,
                    source_kind_label(source.source_kind),
                    source.region,
                    source.debate,
                ]
            )
    intro = (
        "Chaque article du texte final cite les propositions dont il est issu, avec "
        "l'organisation qui les a portées, leur source, leur région et leur débat."
    )
    return [french(intro), "", *table(PROVENANCE_HEADERS, rows, set())]


def _figures(text: FinalText) -> list[str]:
    figures = text.figures
    overview = table(
        ("Indicateur", "Nombre"),
        [
            ["Débats régionaux tenus", french_number(figures.debates_held)],
            ["Propositions publiées", french_number(figures.proposals)],
            ["Organisations participantes", french_number(figures.organisations)],
            ["Jurés citoyens", french_number(figures.jurors)],
        ],
        {1},
    )
    regions = table(
        ("Région", "Débats tenus"),
        [[row.region, french_number(row.held)] for row in figures.debates_by_region],
        {1},
    )
    sources = table(
        ("Source", "Propositions"),
        [
            [source_kind_label(kind), french_number(count)]
            for kind, count in figures.proposals_by_source.items()
        ],
        {1},
    )
    return [
        *overview,
        "",
        "#### Débats tenus par région",
        "",
        *regions,
        "",
        "#### Propositions par source",
        "",
        *sources,
    ]


def render(text: FinalText) -> bytes:
    """The final text as a Markdown document, UTF-8."""
    out = [f"# {escape(french(text.title))}", ""]
    out += [f"*{escape(french(text.consultation_title))} – {french_date(text.dated)}*", ""]
    out += ["## Exposé des motifs", ""]
    if text.preamble.strip():
        out += [_block(text.preamble, 2), ""]
    out += ["## Proposition de loi", ""]
    # Loose articles sit one level below the deepest division, so that they never outrank one.
    for article in text.articles:
        _article(article, min(3 + _depth(text.divisions), 6), out)
    for division in text.divisions:
        _division(division, 3, out)
    out += ["## Annexes", ""]
    for title, lines in zip(
        ANNEX_TITLES, (_results(text), _figures(text), _provenance(text)), strict=True
    ):
        out += [f"### {title}", "", *lines, ""]
    return ("\n".join(out).rstrip() + "\n").encode()

"""The final text in Akoma Ntoso 3.0 (OASIS LegalDocML): a `<bill name="propositionDeLoi">` with
its FRBR identification, the exposé des motifs as preamble, the divisions and articles as the body,
and the annexes as attached documents. Valid against the official `akomantoso30.xsd`, shipped in
`schemas/` and read from there only (no network).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import lxml.html
import markdown as markdown_lib
from lxml import etree

from consultation.core.i18n import PARIS
from consultation.core.markdown import EscapeHtml
from consultation.core.typography import NBSP, french
from consultation.exports.final_text import Article, Division, FinalText, Result
from consultation.exports.to_markdown import (
    ANNEX_TITLES,
    NONE,
    PROVENANCE_HEADERS,
    RESULT_HEADERS,
    WHOLE_TEXT_LABEL,
    french_date,
    french_number,
    outcome,
    rounds_summary,
    source_kind_label,
)

AKN_NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
SCHEMAS = Path(__file__).parent / "schemas"
XSD = SCHEMAS / "akomantoso30.xsd"
DOC_TYPE = "Proposition de loi"
MAX_PROBLEMS = 50  # validate_akn reports at most this many

_NS = "{" + AKN_NS + "}"
# Characters XML 1.0 cannot carry at all: dropped rather than failing the whole export.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# "1er", "1re", "Ier": the ordinal letters set in superscript, as French typography wants.
_ORDINAL = re.compile(r"\b([1I])(er|re)\b")
_DIVISION_TAGS = {
    "titre": ("title", "title"),
    "chapitre": ("chapter", "chp"),
    "section": ("section", "sec"),
}
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _el(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _NS + tag, attributes)


# --- Text --------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


_FRENCH_MARKS = frozenset(":;!?«»")


@lru_cache(maxsize=16_384)
def _runs(text: str, typeset: bool) -> tuple[tuple[str, bool], ...]:
    """The text cleaned (and typeset in French), cut into runs, True for a superscript one.
    Cached: the annexes repeat the same organisations, regions and labels thousands of times."""
    text = _clean(text)
    if typeset and not _FRENCH_MARKS.isdisjoint(text):
        text = french(text)
    runs: list[tuple[str, bool]] = []
    position = 0
    for match in _ORDINAL.finditer(text):
        runs.append((text[position : match.start(2)], False))
        runs.append((match.group(2), True))
        position = match.end()
    runs.append((text[position:], False))
    return tuple((run, sup) for run, sup in runs if run)


def _append_text(parent: etree._Element, text: str, *, typeset: bool = True) -> None:
    """Text at the end of `parent`, in French typography unless told otherwise, its ordinals
    ("1er") in `<sup>`."""
    if not text:
        return
    for run, sup in _runs(text, typeset):
        if sup:
            _el(parent, "sup").text = run
        else:
            _append_plain(parent, run)


def _append_plain(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _inline(parent: etree._Element, tag: str, text: str, **attributes: str) -> etree._Element:
    element = _el(parent, tag, **attributes)
    _append_text(element, text)
    return element


def _p(parent: etree._Element, text: str, **attributes: str) -> etree._Element:
    return _inline(parent, "p", text, **attributes)


# --- Markdown to Akoma Ntoso blocks ---------------------------------------------------------------

_INLINE_TAGS = {"strong": "b", "b": "b", "em": "i", "i": "i", "sup": "sup", "sub": "sub", "u": "u"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@cache
def _markdown() -> markdown_lib.Markdown:
    """One converter for every body: building one costs more than converting a short text."""
    return markdown_lib.Markdown(
        extensions=[EscapeHtml(), "tables", "sane_lists"], output_format="html"
    )


def _html(source: str) -> lxml.html.HtmlElement:
    converter = _markdown()
    converter.reset()
    html = converter.convert(_clean(source))
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def _href(value: str) -> str | None:
    """A link kept in the XML: web and mail addresses only, percent-encoded into a valid URI."""
    value = value.strip()
    if not value.lower().startswith(_LINK_SCHEMES):
        return None
    return quote(value, safe=":/?#[]@!$&'()*+,;=%~")


def _inlines(source: lxml.html.HtmlElement, target: etree._Element, *, code: bool = False) -> None:
    """The inline content of an HTML element, appended to an Akoma Ntoso element."""
    if source.text:
        _append_text(target, source.text, typeset=not code)
    for child in source:
        _inline_node(child, target, code=code)


def _inline_node(child: lxml.html.HtmlElement, target: etree._Element, *, code: bool) -> None:
    """One inline HTML element and the text after it."""
    tag = child.tag if isinstance(child.tag, str) else ""
    href = _href(child.get("href", "")) if tag == "a" else None
    if tag in _INLINE_TAGS:
        _inlines(child, _el(target, _INLINE_TAGS[tag]), code=code)
    elif href:
        _inlines(child, _el(target, "a", href=href), code=code)
    elif tag == "code":
        _inlines(child, _el(target, "span", **{"class": "code"}), code=True)
    elif tag == "abbr":
        element = _el(target, "abbr")
        if child.get("title"):
            element.set("title", _clean(child.get("title", "")))
        _inlines(child, element, code=code)
    elif tag == "br":
        _el(target, "eol")
    elif tag == "img":
        _append_text(target, child.get("alt", ""))
    elif tag:  # anything else keeps its text, not its markup
        _inlines(child, target, code=code)
    if child.tail:
        _append_text(target, child.tail, typeset=not code)


def _block(source: lxml.html.HtmlElement, parent: etree._Element) -> None:
    """One HTML block of converted Markdown as an Akoma Ntoso block under `parent`."""
    tag = source.tag if isinstance(source.tag, str) else ""
    if tag in ("ul", "ol"):
        items = [child for child in source if child.tag == "li"]
        if not items:
            return
        listing = _el(parent, tag)
        for item in items:
            _list_item(item, _el(listing, "li"))
    elif tag == "blockquote":
        container = _el(parent, "blockContainer", **{"class": "quote"})
        _blocks(source, container)
        if not len(container):
            _el(container, "p")
    elif tag == "table":
        _table(source, parent)
    elif tag in _HEADINGS:
        _inlines(source, _el(parent, "p", **{"class": "heading"}))
    elif tag == "pre":
        _inlines(source, _el(parent, "p", **{"class": "preformatted"}), code=True)
    elif tag == "hr":
        return
    else:  # p, and whatever else holds text
        _inlines(source, _el(parent, "p"))


def _list_item(source: lxml.html.HtmlElement, item: etree._Element) -> None:
    """A list item: its text inline, its nested lists and paragraphs as blocks."""
    if source.text:
        _append_text(item, source.text)
    for child in source:
        if child.tag in ("ul", "ol", "p"):
            _block(child, item)
            if child.tail and child.tail.strip():
                _append_text(item, child.tail)
        else:
            _inline_node(child, item, code=False)


def _table(source: lxml.html.HtmlElement, parent: etree._Element) -> None:
    rows = source.findall(".//tr")
    if not rows:
        return
    table = _el(parent, "table")
    for row in rows:
        tr = _el(table, "tr")
        for html_cell in row:
            if html_cell.tag in ("th", "td"):
                _inlines(html_cell, _el(_el(tr, html_cell.tag), "p"))
        if not len(tr):
            _el(tr, "td")


def _blocks(source: lxml.html.HtmlElement, parent: etree._Element) -> None:
    if source.text and source.text.strip():
        _p(parent, source.text.strip())
    for child in source:
        _block(child, parent)
        if child.tail and child.tail.strip():
            _p(parent, child.tail.strip())


def markdown_blocks(source: str) -> list[etree._Element]:
    """User Markdown as Akoma Ntoso blocks (p, ul, ol, table…), French typography applied."""
    holder = etree.Element(_NS + "blockContainer")
    _blocks(_html(source), holder)
    return list(holder)


# --- The document ------------------------------------------------------------------------------


class _Uris:
    """The FRBR identifiers of the bill, after the Akoma Ntoso naming convention."""

    def __init__(self, text: FinalText) -> None:
        day = text.dated.astimezone(PARIS).date()
        self.date = day.isoformat()
        self.work = f"/akn/fr/bill/{day.year}/{quote(text.consultation, safe='')}"
        self.expression = f"{self.work}/fra@{self.date}"

    def component(self, name: str) -> tuple[str, str, str]:
        """The work, expression and manifestation FRBRthis of a component ("main", "annexe_1")."""
        return (
            f"{self.work}/!{name}",
            f"{self.expression}/!{name}",
            f"{self.expression}/!{name}.xml",
        )


def _identification(meta: etree._Element, uris: _Uris, component: str, name: str) -> None:
    work_this, expression_this, manifestation_this = uris.component(component)
    identification = _el(meta, "identification", source="#ush")
    work = _el(identification, "FRBRWork")
    _el(work, "FRBRthis", value=work_this)
    _el(work, "FRBRuri", value=uris.work)
    _el(work, "FRBRdate", date=uris.date, name="adoption")
    _el(work, "FRBRauthor", href="#ush", **{"as": "#auteur"})
    _el(work, "FRBRcountry", value="fr")
    _el(work, "FRBRsubtype", value="propositionDeLoi")
    _el(work, "FRBRnumber", value=uris.work.rsplit("/", 1)[1])
    _el(work, "FRBRname", value=name)
    _el(work, "FRBRprescriptive", value="true")
    expression = _el(identification, "FRBRExpression")
    _el(expression, "FRBRthis", value=expression_this)
    _el(expression, "FRBRuri", value=uris.expression)
    _el(expression, "FRBRdate", date=uris.date, name="adoption")
    _el(expression, "FRBRauthor", href="#ush", **{"as": "#auteur"})
    _el(expression, "FRBRlanguage", language="fra")
    manifestation = _el(identification, "FRBRManifestation")
    _el(manifestation, "FRBRthis", value=manifestation_this)
    _el(manifestation, "FRBRuri", value=f"{uris.expression}.akn")
    _el(manifestation, "FRBRdate", date=uris.date, name="generation")
    _el(manifestation, "FRBRauthor", href="#ush")


def _meta(parent: etree._Element, text: FinalText, uris: _Uris) -> None:
    meta = _el(parent, "meta")
    _identification(meta, uris, "main", DOC_TYPE)
    references = _el(meta, "references", source="#ush")
    _el(
        references,
        "TLCOrganization",
        eId="ush",
        href="/akn/ontology/organizations/fr/ush",
        showAs="Union sociale pour l'habitat",
    )
    _el(
        references,
        "TLCOrganization",
        eId="jury",
        href=f"/akn/ontology/organizations/fr/{quote(text.consultation, safe='')}-jury",
        showAs=_clean(f"Jury citoyen de la consultation « {text.consultation_title} »"),
    )
    _el(references, "TLCRole", eId="auteur", href="/akn/ontology/roles/fr/auteur", showAs="Auteur")


def _preface(parent: etree._Element, text: FinalText, uris: _Uris) -> None:
    preface = _el(parent, "preface")
    _inline(_el(preface, "p", **{"class": "docType"}), "docType", DOC_TYPE)
    _inline(_el(_el(preface, "longTitle"), "p"), "docTitle", text.title)
    proponent = _el(preface, "p", **{"class": "docProponent"})
    _inline(
        proponent,
        "docProponent",
        f"issue de la consultation « {text.consultation_title} » de l'Union sociale pour l'habitat",
        refersTo="#ush",
    )
    stage = _el(preface, "p", **{"class": "docStage"})
    _append_text(stage, "Texte adopté par le jury citoyen le ")
    _inline(stage, "docDate", french_date(text.dated), date=uris.date, refersTo="#jury")


def _preamble(parent: etree._Element, text: FinalText) -> None:
    preamble = _el(parent, "preamble")
    container = _el(preamble, "container", name="exposeDesMotifs", eId="preamble__container_1")
    _p(container, "Exposé des motifs", **{"class": "title"})
    for block in markdown_blocks(text.preamble):
        container.append(block)


def _article(parent: etree._Element, article: Article) -> None:
    eid = f"art_{article.number}"
    element = _el(parent, "article", eId=eid)
    _inline(element, "num", article.label)
    if article.heading:
        _inline(element, "heading", article.heading)
    blocks = markdown_blocks(article.body) or [etree.Element(_NS + "p")]
    for position, block in enumerate(blocks, start=1):
        paragraph = _el(element, "paragraph", eId=f"{eid}__para_{position}")
        _el(paragraph, "content").append(block)


def _division(parent: etree._Element, division: Division, prefix: str) -> None:
    tag, short = _DIVISION_TAGS[division.kind]
    eid = f"{prefix}{short}_{division.number}"
    element = _el(parent, tag, eId=eid)
    _inline(element, "num", division.label)
    if division.heading:
        _inline(element, "heading", division.heading)
    for article in division.articles:
        _article(element, article)
    for child in division.divisions:
        _division(element, child, f"{eid}__")


def _cells(row: etree._Element, values: list[str], tag: str = "td") -> None:
    for value in values:
        _p(_el(row, tag), value or NONE)


def _annex_table(parent: etree._Element, eid: str, headers: tuple[str, ...]) -> etree._Element:
    table = _el(parent, "table", eId=eid)
    _cells(_el(table, "tr"), list(headers), "th")
    return table


def _result_row(table: etree._Element, label: str, result: Result, whole: bool = False) -> None:
    _cells(
        _el(table, "tr"),
        [
            label,
            result.heading,
            french_number(result.pour),
            french_number(result.contre),
            french_number(result.abstention),
            french_number(result.voted),
            outcome(result, whole_text=whole),
        ],
    )


def _results_annex(body: etree._Element, text: FinalText, eid: str) -> None:
    _p(body, rounds_summary(text))
    table = _annex_table(body, f"{eid}__table_1", RESULT_HEADERS)
    for result in text.results:
        _result_row(table, result.voted_label, result)
    _result_row(table, WHOLE_TEXT_LABEL, text.whole_text, whole=True)


def _provenance_annex(body: etree._Element, text: FinalText, eid: str) -> None:
    table = _annex_table(body, f"{eid}__table_1", PROVENANCE_HEADERS)
    rows: list[str] = []
    for article in text.all_articles():
        if not article.sources:
            rows.append(_row_xml([article.label, "aucune proposition", "", "", "", ""]))
        for source in article.sources:
            rows.append(
                _row_xml(
                    [
                        article.label,
                        f"n°{NBSP}{source.proposal_id} : {source.title}",
                        source.organisation,
                        source_kind_label(source.source_kind),
                        source.region or "",
                        source.debate or "",
                    ]
                )
            )
    # 20,000 rows parsed at once from their text take a fifth of the time of building them
    # one element at a time.
    table.extend(etree.fromstring(f'<table xmlns="{AKN_NS}">{"".join(rows)}</table>'))


@lru_cache(maxsize=16_384)
def _cell_xml(value: str) -> str:
    """A cell as `_cells` makes it, as XML text (cached: organisations and regions repeat)."""
    runs = "".join(
        f"<sup>{escape(run)}</sup>" if sup else escape(run)
        for run, sup in _runs(value or NONE, True)
    )
    return f"<td><p>{runs}</p></td>"


def _row_xml(values: list[str]) -> str:
    return "<tr>" + "".join(_cell_xml(value) for value in values) + "</tr>"


def _figures_annex(body: etree._Element, text: FinalText, eid: str) -> None:
    figures = text.figures
    overview = _annex_table(body, f"{eid}__table_1", ("Indicateur", "Nombre"))
    for label, value in (
        ("Débats régionaux tenus", figures.debates_held),
        ("Propositions publiées", figures.proposals),
        ("Organisations participantes", figures.organisations),
        ("Jurés citoyens", figures.jurors),
    ):
        _cells(_el(overview, "tr"), [label, french_number(value)])
    regions = _annex_table(body, f"{eid}__table_2", ("Région", "Débats tenus"))
    for row in figures.debates_by_region:
        _cells(_el(regions, "tr"), [row.region, french_number(row.held)])
    if not figures.debates_by_region:
        _cells(_el(regions, "tr"), ["", ""])
    sources = _annex_table(body, f"{eid}__table_3", ("Source", "Propositions"))
    for kind, count in figures.proposals_by_source.items():
        _cells(_el(sources, "tr"), [source_kind_label(kind), french_number(count)])
    if not figures.proposals_by_source:
        _cells(_el(sources, "tr"), ["", ""])


def _attachments(parent: etree._Element, text: FinalText, uris: _Uris) -> None:
    attachments = _el(parent, "attachments")
    for number, (title, build) in enumerate(
        zip(ANNEX_TITLES, (_results_annex, _figures_annex, _provenance_annex), strict=True),
        start=1,
    ):
        eid = f"att_{number}"
        attachment = _el(attachments, "attachment", eId=eid)
        doc = _el(attachment, "doc", name="annexe")
        meta = _el(doc, "meta")
        _identification(meta, uris, f"annexe_{number}", title)
        preface = _el(doc, "preface")
        _inline(_el(_el(preface, "longTitle"), "p"), "docTitle", title)
        build(_el(doc, "mainBody"), text, eid)


def build_akn(text: FinalText) -> etree._Element:
    """The final text as an Akoma Ntoso element tree."""
    uris = _Uris(text)
    root = etree.Element(_NS + "akomaNtoso", nsmap={None: AKN_NS})
    bill = _el(root, "bill", name="propositionDeLoi")
    _meta(bill, text, uris)
    _preface(bill, text, uris)
    _preamble(bill, text)
    body = _el(bill, "body")
    for article in text.articles:
        _article(body, article)
    for division in text.divisions:
        _division(body, division, "")
    conclusions = _el(bill, "conclusions")
    _p(
        conclusions,
        f"Texte issu de la consultation « {text.consultation_title} », adopté par le jury "
        f"citoyen le {french_date(text.dated)} (version {text.version_number} du texte soumis "
        f"au vote, empreinte SHA-256 {text.version_checksum}).",
    )
    _attachments(bill, text, uris)
    return root


def render(text: FinalText) -> bytes:
    """The final text as Akoma Ntoso 3.0 XML, UTF-8."""
    return etree.tostring(
        build_akn(text), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


# --- Validation --------------------------------------------------------------------------------


class _LocalOnly(etree.Resolver):
    """Resolves the schema's imports from `schemas/` and refuses anything else: no network."""

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = Path(str(system_url).split("?", 1)[0]).name
        local = SCHEMAS / name
        if local.is_file():
            return self.resolve_filename(str(local), context)
        raise etree.XMLSchemaParseError(f"refusing to fetch {system_url}: schemas are local only")


@cache
def schema() -> etree.XMLSchema:
    """The official Akoma Ntoso 3.0 schema, parsed once."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalOnly())
    return etree.XMLSchema(etree.parse(str(XSD), parser))


def validate_akn(xml: bytes) -> list[str]:
    """What makes `xml` invalid Akoma Ntoso 3.0 ("line 12: …"); empty when it is valid."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    checker = schema()
    if checker.validate(document):
        return []
    problems = [f"line {error.line}: {error.message}" for error in checker.error_log]
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"… and {len(problems) - MAX_PROBLEMS} more"]
    return problems

"""The final text as an OpenDocument text (ODT): odfdo's document and styles, real heading
styles with outline levels (the navigator shows the outline), tables for the annexes.

The content is built with lxml straight into the document's body: one odfdo object per cell
would take seconds for the 20,000 rows of a large provenance annex.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from lxml import etree
from odfdo import Document, Element

from consultation.core.typography import french
from consultation.exports import blocks
from consultation.exports.final_text import Article, Division, FinalText

NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
}

# Styles the template lacks; headings use its "Heading 1…6".
STYLES = (
    '<style:style style:name="Title" style:display-name="Title" style:family="paragraph"'
    ' style:parent-style-name="Heading" style:class="chapter">'
    '<style:paragraph-properties fo:text-align="center" fo:margin-top="6cm"'
    ' fo:margin-bottom="1cm"/><style:text-properties fo:font-size="22pt"'
    ' fo:font-weight="bold"/></style:style>',
    '<style:style style:name="Subtitle" style:display-name="Subtitle" style:family="paragraph"'
    ' style:parent-style-name="Heading" style:class="chapter">'
    '<style:paragraph-properties fo:text-align="center" fo:margin-bottom="0.5cm"/>'
    '<style:text-properties fo:font-size="13pt" fo:font-style="italic"/></style:style>',
    '<style:style style:name="Cover" style:family="paragraph"'
    ' style:parent-style-name="Text_20_body"><style:paragraph-properties'
    ' fo:text-align="center" fo:margin-top="0.5cm"/></style:style>',
    '<style:style style:name="Article_20_Heading" style:display-name="Article Heading"'
    ' style:family="paragraph" style:parent-style-name="Text_20_body">'
    '<style:paragraph-properties fo:text-align="center" fo:keep-with-next="always"/>'
    '<style:text-properties fo:font-style="italic"/></style:style>',
    '<style:style style:name="Quotations" style:family="paragraph"'
    ' style:parent-style-name="Text_20_body"><style:paragraph-properties'
    ' fo:margin-left="1cm"/><style:text-properties fo:font-style="italic"/></style:style>',
    '<style:style style:name="Table_20_Contents" style:display-name="Table Contents"'
    ' style:family="paragraph" style:parent-style-name="Standard">'
    '<style:text-properties fo:font-size="9pt"/></style:style>',
    '<style:style style:name="Table_20_Heading" style:display-name="Table Heading"'
    ' style:family="paragraph" style:parent-style-name="Table_20_Contents">'
    '<style:text-properties fo:font-weight="bold"/></style:style>',
    '<style:style style:name="Superscript" style:family="text">'
    '<style:text-properties style:text-position="super 58%"/></style:style>',
    '<style:style style:name="Strong_20_Emphasis" style:display-name="Strong Emphasis"'
    ' style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>',
    '<style:style style:name="Emphasis" style:family="text">'
    '<style:text-properties fo:font-style="italic"/></style:style>',
    '<style:style style:name="Source_20_Text" style:display-name="Source Text"'
    ' style:family="text"><style:text-properties style:font-name="DejaVu Sans Mono"/>'
    "</style:style>",
    '<text:list-style style:name="List_20_Bullet" style:display-name="List Bullet">'
    + "".join(
        f'<text:list-level-style-bullet text:level="{level}" text:bullet-char="•">'
        "<style:list-level-properties text:list-level-position-and-space-mode="
        f'"label-alignment"><style:list-level-label-alignment text:label-followed-by="listtab"'
        f' fo:text-indent="-0.5cm" fo:margin-left="{level * 0.75}cm"/>'
        "</style:list-level-properties></text:list-level-style-bullet>"
        for level in range(1, 4)
    )
    + "</text:list-style>",
    '<text:list-style style:name="Numbering_20_123" style:display-name="Numbering 123">'
    + "".join(
        f'<text:list-level-style-number text:level="{level}" style:num-format="1"'
        ' style:num-suffix="."><style:list-level-properties'
        ' text:list-level-position-and-space-mode="label-alignment">'
        '<style:list-level-label-alignment text:label-followed-by="listtab"'
        f' fo:text-indent="-0.6cm" fo:margin-left="{level * 0.8}cm"/>'
        "</style:list-level-properties></text:list-level-style-number>"
        for level in range(1, 4)
    )
    + "</text:list-style>",
)
AUTOMATIC = (
    '<style:style style:name="H1_Break" style:family="paragraph"'
    ' style:parent-style-name="Heading_20_1"><style:paragraph-properties'
    ' fo:break-before="page"/></style:style>',
    '<style:style style:name="Annex_Table" style:family="table"><style:table-properties'
    ' style:width="17cm" table:align="margins" fo:margin-bottom="0.3cm"/></style:style>',
)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


_DECLARE = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
T_P, T_H, T_SPAN = _q("text:p"), _q("text:h"), _q("text:span")
T_STYLE, T_LEVEL = _q("text:style-name"), _q("text:outline-level")


def _fragment(xml: str) -> Element:
    return Element.from_tag(xml)


class _Writer:
    """Appends ODF elements to the body with lxml."""

    def __init__(self, body: etree._Element) -> None:
        self.body = body

    def _runs(self, element: etree._Element, runs: list[tuple[str, str | None]]) -> None:
        """Text runs, each with its text style (None for plain text)."""
        for text, style in runs:
            if not text:
                continue
            if style is not None:
                etree.SubElement(element, T_SPAN, {T_STYLE: style}).text = text
            elif len(element):
                last = element[-1]
                last.tail = (last.tail or "") + text
            else:
                element.text = (element.text or "") + text

    def paragraph(
        self,
        runs: list[tuple[str, str | None]],
        style: str = "Text_20_body",
        parent: etree._Element | None = None,
    ) -> etree._Element:
        element = etree.SubElement(self.body if parent is None else parent, T_P, {T_STYLE: style})
        self._runs(element, runs)
        return element

    def heading(
        self, level: int, runs: list[tuple[str, str | None]], style: str | None = None
    ) -> etree._Element:
        level = min(level, 6)
        element = etree.SubElement(
            self.body,
            T_H,
            {T_STYLE: style or f"Heading_20_{level}", T_LEVEL: str(level)},
        )
        self._runs(element, runs)
        return element

    def table(
        self,
        name: str,
        header: tuple[str, ...],
        rows: list[tuple[str, ...]],
        numeric: frozenset[int] = frozenset(),
    ) -> None:
        """A table with a repeated heading row; columns in `numeric` hold numbers. Written as
        one XML string parsed at once: 20,000 rows element by element take seconds."""
        parts = [
            f'<table:table {_DECLARE} table:name="{escape(name)}" '
            'table:style-name="Annex_Table">'
            f'<table:table-column table:number-columns-repeated="{len(header)}"/>'
            "<table:table-header-rows><table:table-row>",
            *(
                '<table:table-cell office:value-type="string">'
                f'<text:p text:style-name="Table_20_Heading">{escape(cell)}</text:p>'
                "</table:table-cell>"
                for cell in header
            ),
            "</table:table-row></table:table-header-rows>",
        ]
        string_cell = (
            '<table:table-cell office:value-type="string">'
            '<text:p text:style-name="Table_20_Contents">'
        )
        for row in rows:
            parts.append("<table:table-row>")
            for index, value in enumerate(row):
                if index in numeric:
                    parts.append(
                        f'<table:table-cell office:value-type="float" office:value="{value}">'
                        f'<text:p text:style-name="Table_20_Contents">{value}</text:p>'
                        "</table:table-cell>"
                    )
                else:
                    parts.append(f"{string_cell}{escape(value)}</text:p></table:table-cell>")
            parts.append("</table:table-row>")
        parts.append("</table:table>")
        self.body.append(etree.fromstring("".join(parts)))


def _label(label: str) -> list[tuple[str, str | None]]:
    return [(part, "Superscript" if sup else None) for part, sup in blocks.label_runs(label)]


def _run_style(run: blocks.Run) -> str | None:
    if run.superscript:
        return "Superscript"
    if run.code:
        return "Source_20_Text"
    if run.bold:
        return "Strong_20_Emphasis"
    if run.italic:
        return "Emphasis"
    return None


def _write_runs(writer: _Writer, element: etree._Element, runs: tuple[blocks.Run, ...]) -> None:
    for run in runs:
        if run.text == "\n":
            etree.SubElement(element, _q("text:line-break"))
        elif run.bold and run.italic and not run.superscript:
            # Bold and italic together: nested spans, no combined style needed.
            outer = etree.SubElement(element, T_SPAN, {T_STYLE: "Strong_20_Emphasis"})
            inner = etree.SubElement(outer, T_SPAN, {T_STYLE: "Emphasis"})
            inner.text = run.text
        else:
            writer._runs(element, [(run.text, _run_style(run))])


def _markdown(writer: _Writer, source: str, parent: etree._Element | None = None) -> None:
    for block in blocks.parse(source):
        _block(writer, block, parent)


def _block(
    writer: _Writer, block: blocks.Block, parent: etree._Element | None, in_list: bool = False
) -> None:
    target = writer.body if parent is None else parent
    if isinstance(block, blocks.ListBlock):
        element = etree.SubElement(
            target,
            _q("text:list"),
            {T_STYLE: "Numbering_20_123" if block.ordered else "List_20_Bullet"},
        )
        for position, item in enumerate(block.items):
            attributes = {}
            if position == 0 and block.ordered and block.start != 1:
                attributes[_q("text:start-value")] = str(block.start)
            list_item = etree.SubElement(element, _q("text:list-item"), attributes)
            for child in item:
                _block(writer, child, list_item, in_list=True)
        return
    if block.style == "heading":
        style = "Article_20_Heading"
    elif block.style == "quote":
        style = "Quotations"
    else:
        style = "List_20_Contents" if in_list else "Text_20_body"
    element = etree.SubElement(target, T_P, {T_STYLE: style})
    _write_runs(writer, element, block.runs)


def _article(writer: _Writer, article: Article, level: int) -> None:
    writer.heading(level, _label(article.label))
    if article.heading:
        writer.paragraph([(french(article.heading), None)], "Article_20_Heading")
    _markdown(writer, article.body)


def _division(writer: _Writer, division: Division, level: int) -> None:
    runs = _label(division.label)
    if division.heading:
        runs.append((f" – {french(division.heading)}", None))
    writer.heading(level, runs)
    for article in division.articles:
        _article(writer, article, level + 1)
    for child in division.divisions:
        _division(writer, child, level + 1)


def _setup(document: Document, text: FinalText) -> None:
    """Styles, language and metadata."""
    for xml in STYLES:
        document.insert_style(_fragment(xml))
    for xml in AUTOMATIC:
        document.insert_style(_fragment(xml), automatic=True)
    styles = document.get_part("styles.xml").root._xml_element  # type: ignore[union-attr]
    # The labels are the numbering ("TITRE Ier", "Article 1er"): no outline numbers.
    for level in styles.iter(_q("text:outline-level-style")):
        level.set(_q("style:num-format"), "")
        for attribute in ("style:num-suffix", "style:num-prefix"):
            level.attrib.pop(_q(attribute), None)
        level.attrib.pop(
            "{urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0}num-list-format",
            None,
        )
    for properties in styles.iter(_q("style:text-properties")):
        parent = properties.getparent()
        if parent is not None and parent.tag == _q("style:default-style"):
            properties.set(_q("fo:language"), "fr")
            properties.set(_q("fo:country"), "FR")
    meta = document.meta
    meta.set_title(text.title)
    meta.set_language("fr-FR")
    meta.set_initial_creator(blocks.AUTHOR)
    meta.set_creator(blocks.AUTHOR)
    meta.set_subject(f"{blocks.BILL} – {text.consultation_title}")


def render(text: FinalText) -> bytes:
    """The final text as an ODT document."""
    document = Document("text")
    _setup(document, text)
    body = document.body._xml_element
    for child in list(body):  # the template's empty paragraph
        body.remove(child)
    writer = _Writer(body)

    writer.paragraph([(blocks.BILL, None)], "Subtitle")
    writer.paragraph([(french(text.title), None)], "Title")
    writer.paragraph([(blocks.subtitle(text), None)], "Subtitle")
    writer.paragraph([(blocks.french_date(text.dated), None)], "Cover")
    writer.paragraph([(blocks.AUTHOR, None)], "Cover")

    writer.heading(1, [(blocks.MOTIFS, None)], "H1_Break")
    _markdown(writer, text.preamble)

    writer.heading(1, [(blocks.BILL, None)], "H1_Break")
    for article in text.articles:
        _article(writer, article, 2)
    for division in text.divisions:
        _division(writer, division, 2)

    writer.heading(1, [(blocks.ANNEX_RESULTS, None)], "H1_Break")
    writer.table(
        "Résultats",
        blocks.RESULT_COLUMNS,
        [blocks.result_row(result) for result in text.results],
        numeric=frozenset({2, 3, 4}),
    )
    writer.paragraph([(blocks.whole_text_summary(text), "Strong_20_Emphasis")])

    writer.heading(1, [(blocks.ANNEX_FIGURES, None)], "H1_Break")
    for number, (caption, figure_rows) in enumerate(blocks.figures_rows(text).items(), start=1):
        writer.heading(2, [(caption, None)])
        writer.table(f"Chiffres{number}", (caption, "Nombre"), figure_rows, numeric=frozenset({1}))

    writer.heading(1, [(blocks.ANNEX_PROVENANCE, None)], "H1_Break")
    rows = []
    for article in text.all_articles():
        for source in article.sources:
            rows.append(
                (
                    article.label,
                    french(f"n° {source.proposal_id} – {source.title}"),
                    blocks.fr(source.organisation),
                    blocks.source_kind(source.source_kind),
                    blocks.fr(source.region or ""),
                    blocks.fr(source.debate or ""),
                )
            )
    writer.table("Provenance", ("Article", *blocks.PROVENANCE_COLUMNS), rows)

    # Every table declares its columns already: odfdo's check of each row before saving
    # takes seconds on a large provenance table.
    document.normalize_tables = lambda: None  # type: ignore[method-assign]
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()

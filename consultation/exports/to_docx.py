"""The final text as a Word document (DOCX): python-docx with the built-in "Title" and
"Heading 1/2/3" styles (Word's navigation pane shows the outline), tables for the annexes.

The annex tables are written as XML strings put into the saved document in place of marker
paragraphs: python-docx builds rows one by one, and even a parsed table takes seconds to move
into the document (lxml reconciles the namespaces of each of its 600,000 nodes), for the 20,000
rows of a large provenance annex.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.text.paragraph import Paragraph

from consultation.core.typography import french
from consultation.exports import blocks
from consultation.exports.final_text import Article, Division, FinalText

LANGUAGE = "fr-FR"
MARKER = "\u2063table-"  # an invisible separator: never in a text


def _paragraph(document: DocumentObject, style_id: str | None = None) -> Paragraph:
    """A new paragraph in a style given by id: python-docx looks a style name up among all
    the styles on every call."""
    paragraph = document.add_paragraph()
    if style_id:
        paragraph._p.style = style_id
    return paragraph


def _label(paragraph: Paragraph, label: str) -> None:
    for part, sup in blocks.label_runs(label):
        paragraph.add_run(part).font.superscript = sup or None


def _runs(paragraph: Paragraph, runs: tuple[blocks.Run, ...]) -> None:
    for run in runs:
        if run.text == "\n":
            paragraph.add_run().add_break()
            continue
        added = paragraph.add_run(run.text)
        if run.bold:
            added.bold = True
        if run.italic:
            added.italic = True
        if run.superscript:
            added.font.superscript = True
        if run.code:
            added.font.name = "DejaVu Sans Mono"


def _block(document: DocumentObject, block: blocks.Block, depth: int = 0) -> None:
    if isinstance(block, blocks.ListBlock):
        base = "ListNumber" if block.ordered else "ListBullet"
        style = base if depth == 0 else f"{base}{min(depth + 1, 3)}"
        for item in block.items:
            for position, child in enumerate(item):
                if isinstance(child, blocks.ListBlock):
                    _block(document, child, depth + 1)
                elif position == 0:
                    _runs(_paragraph(document, style), child.runs)
                else:  # a further paragraph of the same item, aligned with its text
                    paragraph = _paragraph(document, "ListContinue")
                    _runs(paragraph, child.runs)
        return
    if block.style == "heading":
        paragraph = document.add_paragraph()
        _runs(paragraph, block.runs)
        for run in paragraph.runs:
            run.bold = True
    elif block.style == "quote":
        _runs(_paragraph(document, "Quote"), block.runs)
    else:
        _runs(document.add_paragraph(), block.runs)


def _markdown(document: DocumentObject, source: str) -> None:
    for block in blocks.parse(source):
        _block(document, block)


def _heading(document: DocumentObject, label: str, level: int, page_break: bool = False):
    heading = _paragraph(document, f"Heading{min(level, 9)}")
    _label(heading, label)
    if page_break:
        heading.paragraph_format.page_break_before = True
    return heading


def _article(document: DocumentObject, article: Article, level: int) -> None:
    _heading(document, article.label, level)
    if article.heading:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(french(article.heading)).italic = True
    _markdown(document, article.body)


def _division(document: DocumentObject, division: Division, level: int) -> None:
    heading = _heading(document, division.label, level)
    if division.heading:
        heading.add_run(f" – {french(division.heading)}")
    for article in division.articles:
        _article(document, article, level + 1)
    for child in division.divisions:
        _division(document, child, level + 1)


def _cell(text: str, bold: bool = False, right: bool = False) -> str:
    properties = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
    run_properties = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return (
        f"<w:tc><w:p>{properties}<w:r>{run_properties}"
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
    )


def _table(
    document: DocumentObject,
    tables: dict[str, str],
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    widths: tuple[int, ...],
    numeric: frozenset[int] = frozenset(),
) -> None:
    """A table in the "Table Grid" style, its heading row repeated on each page; `widths` in
    fiftieths of a percent of the text width."""
    grid = "".join(f'<w:gridCol w:w="{width * 9638 // 5000}"/>' for width in widths)
    parts = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>'
        '<w:tblW w:w="5000" w:type="pct"/><w:tblLook w:val="04A0" w:firstRow="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
        "<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>",
        *(_cell(cell, bold=True) for cell in header),
        "</w:tr>",
    ]
    for row in rows:
        parts.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        parts.extend(_cell(value, right=index in numeric) for index, value in enumerate(row))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    marker = f"{MARKER}{len(tables)}"
    document.element.body.sectPr.addprevious(
        parse_xml(f"<w:p {nsdecls('w')}><w:r><w:t>{marker}</w:t></w:r></w:p>")
    )
    tables[f"<w:p><w:r><w:t>{marker}</w:t></w:r></w:p>"] = "".join(parts)


def _put_tables(saved: bytes, tables: dict[str, str]) -> bytes:
    """The saved document with each marker paragraph replaced by its table."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(saved)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                for marker, table in tables.items():
                    if marker not in xml:
                        raise RuntimeError(f"table marker lost: {marker}")
                    xml = xml.replace(marker, table, 1)
                data = xml.encode("utf-8")
            target.writestr(item, data)
    return output.getvalue()


def _setup(document: DocumentObject, text: FinalText) -> None:
    """Metadata and the document's language (spelling and hyphenation in French)."""
    properties = document.core_properties
    properties.title = text.title
    properties.subject = f"{blocks.BILL} – {text.consultation_title}"
    properties.author = blocks.AUTHOR
    properties.last_modified_by = blocks.AUTHOR
    properties.language = LANGUAGE
    properties.created = text.dated
    properties.modified = text.dated
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if run_defaults is not None:
        run_properties = run_defaults.find(qn("w:rPr"))
        if run_properties is not None:
            for old in run_properties.findall(qn("w:lang")):
                run_properties.remove(old)
            run_properties.append(
                parse_xml(f'<w:lang {nsdecls("w")} w:val="{LANGUAGE}" w:eastAsia="{LANGUAGE}"/>')
            )


def render(text: FinalText) -> bytes:
    """The final text as a DOCX document."""
    document = Document()
    _setup(document, text)
    tables: dict[str, str] = {}

    kind = _paragraph(document, "Subtitle")
    kind.add_run(blocks.BILL)
    kind.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = _paragraph(document, "Title")
    title.add_run(french(text.title))
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in (blocks.subtitle(text), blocks.french_date(text.dated), blocks.AUTHOR):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(document, blocks.MOTIFS, 1, page_break=True)
    _markdown(document, text.preamble)

    _heading(document, blocks.BILL, 1, page_break=True)
    for article in text.articles:
        _article(document, article, 2)
    for division in text.divisions:
        _division(document, division, 2)

    _heading(document, blocks.ANNEX_RESULTS, 1, page_break=True)
    _table(
        document,
        tables,
        blocks.RESULT_COLUMNS,
        [blocks.result_row(result) for result in text.results],
        (600, 1650, 350, 350, 500, 900, 650),
        numeric=frozenset({2, 3, 4}),
    )
    document.add_paragraph().add_run(blocks.whole_text_summary(text)).bold = True

    _heading(document, blocks.ANNEX_FIGURES, 1, page_break=True)
    for caption, figure_rows in blocks.figures_rows(text).items():
        _heading(document, caption, 2)
        _table(
            document, tables, (caption, "Nombre"), figure_rows, (3500, 1500), numeric=frozenset({1})
        )

    _heading(document, blocks.ANNEX_PROVENANCE, 1, page_break=True)
    rows = [
        (
            article.label,
            french(f"n° {source.proposal_id} – {source.title}"),
            blocks.fr(source.organisation),
            blocks.source_kind(source.source_kind),
            blocks.fr(source.region or ""),
            blocks.fr(source.debate or ""),
        )
        for article in text.all_articles()
        for source in article.sources
    ]
    _table(
        document,
        tables,
        ("Article", *blocks.PROVENANCE_COLUMNS),
        rows,
        (600, 1400, 1100, 700, 600, 600),
    )

    output = io.BytesIO()
    document.save(output)
    return _put_tables(output.getvalue(), tables)

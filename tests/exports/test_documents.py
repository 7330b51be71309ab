"""The document formats read back: the PDF's text and fonts (pypdf), the ODT reopened with odfdo,
the DOCX with python-docx; French words and typography whatever the interface language."""

from __future__ import annotations

import io
import re
import zipfile

import docx
import pypdf
import pytest
from odfdo import Document as OdfDocument

from consultation.exports import blocks, to_docx, to_odt, to_pdf
from consultation.exports.formats import get_format
from tests.exports.helpers import sample_final_text

NBSP, NNBSP = "\u00a0", "\u202f"
BODY = "est complété par un alinéa ainsi rédigé"
ANNEXES = (blocks.ANNEX_RESULTS, blocks.ANNEX_PROVENANCE, blocks.ANNEX_FIGURES)


def _flat(text: str) -> str:
    """Extracted text with its line breaks and hyphenations undone, spaces kept as typed."""
    text = re.sub(r"[\u2010-]\n", "", text)
    return re.sub(r"[ \n]+", " ", text)


@pytest.fixture(scope="module")
def pdf_text() -> tuple[bytes, pypdf.PdfReader, str]:
    """One PDF of a small text, read back once for the tests that look at it."""
    from consultation import create_app

    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "tests", "DATABASE_URL": "sqlite://"})
    with app.app_context():
        data = to_pdf.render(sample_final_text(3, 2, 1, 2))
    reader = pypdf.PdfReader(io.BytesIO(data))
    return data, reader, _flat("\n".join(page.extract_text() for page in reader.pages))


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_has_the_structure_in_french(pdf_text) -> None:
    data, reader, text = pdf_text
    assert data.startswith(b"%PDF-")
    assert len(reader.pages) > 1
    for words in (
        "Proposition de loi pour une politique du logement ambitieuse",
        "17 février 2022",
        blocks.CONTENTS,
        blocks.MOTIFS,
        "Mesdames, Messieurs,",
        "TITRE I",
        "Titre de la partie 1",
        "Article 1",
        "Article 3",
        BODY,
        *ANNEXES,
        "non adopté",
        "large soutien",
        "Habitat Pays de la Loire 1 (fictif)",
        "Commission de l'USH",
        "Jurés citoyens",
        "page 2 / ",
    ):
        assert words in text, words
    assert reader.metadata.title.startswith("Proposition de loi pour une politique")


def test_pdf_keeps_french_spacing_and_the_ordinal(pdf_text) -> None:
    text = pdf_text[2]
    assert f"«{NBSP}droit au logement{NBSP}»" in text
    assert f"organismes{NBSP}:" in text
    assert f"slogan{NNBSP};" in text
    # "Article 1er": the "er" is a run of its own, set smaller (a superscript).
    assert re.search(r"Article 1\s?er", text)


def test_pdf_table_of_contents_gives_page_numbers(pdf_text) -> None:
    _, reader, _ = pdf_text
    contents = reader.pages[1].extract_text()
    assert blocks.CONTENTS in contents
    # The figures end the text's pages; the provenance annex follows, paginated from I.
    labels = reader.page_labels
    text_pages = labels.index("I")
    assert labels[:text_pages] == [str(n) for n in range(1, text_pages + 1)]
    assert labels[text_pages:] == ["I", "II", "III", "IV", "V"][: len(labels) - text_pages]
    assert re.search(rf"{re.escape(blocks.ANNEX_FIGURES)}\s*\.+\s*{text_pages}\b", contents)
    assert re.search(rf"{re.escape(blocks.ANNEX_PROVENANCE)}\s*\.+\s*I\b", contents)
    provenance = reader.pages[text_pages].extract_text()
    assert blocks.ANNEX_PROVENANCE in provenance and "annexe 3 – page I / I" in provenance
    assert [item.title for item in reader.outline if not isinstance(item, list)][-1] == (
        blocks.ANNEX_PROVENANCE
    )


def test_pdf_embeds_its_fonts(pdf_text) -> None:
    _, reader, _ = pdf_text
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        descriptors = [font.get("/FontDescriptor")] + [
            child.get_object().get("/FontDescriptor") for child in font.get("/DescendantFonts", [])
        ]
        files = [
            key
            for descriptor in descriptors
            if descriptor is not None
            for key in ("/FontFile", "/FontFile2", "/FontFile3")
            if key in descriptor.get_object()
        ]
        assert files, f"{name} is not embedded"


def test_pdf_fetches_nothing_from_the_network(app) -> None:
    fetcher = to_pdf._LocalFetcher(app.static_folder)
    for url in ("https://example.org/font.woff", "http://127.0.0.1/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="Refused"):
            fetcher(url)
    response = fetcher("data:text/plain,ok")
    assert response.read() == b"ok"
    response.close()


def test_pdf_of_a_single_article_without_divisions(app) -> None:
    data = get_format("pdf").render(sample_final_text(1, 1, 0, 0))
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = _flat("\n".join(page.extract_text() for page in reader.pages))
    assert "Article unique" in text
    assert "TITRE" not in text
    assert BODY in text


# --- ODT -----------------------------------------------------------------------------------------


def _odt(text) -> OdfDocument:  # type: ignore[no-untyped-def]
    return OdfDocument(io.BytesIO(to_odt.render(text)))


def test_odt_has_real_headings_with_outline_levels() -> None:
    document = _odt(sample_final_text(3, 2, 1, 2))
    headings = [(int(h.level), h.text_recursive) for h in document.body.headers]
    assert (1, blocks.MOTIFS) in headings
    assert (1, blocks.BILL) in headings
    assert (2, "TITRE Ier – Titre de la partie 1") in headings
    assert (3, "Article 1er") in headings
    assert (3, "Article 3") in headings
    for annex in ANNEXES:
        assert (1, annex) in headings
    styles = {h.style for h in document.body.headers}
    assert {"Heading_20_2", "Heading_20_3"} <= styles
    # The outline has no numbers of its own: the labels number the text.
    outline = document.get_part("styles.xml").get_elements("//text:outline-level-style")
    assert outline and all(not level.get_attribute("style:num-format") for level in outline)


def test_odt_superscript_lists_tables_and_metadata() -> None:
    document = _odt(sample_final_text(3, 2, 1, 2))
    article = next(h for h in document.body.headers if h.text_recursive == "Article 1er")
    (span,) = article.get_elements("text:span")
    assert span.text == "er" and span.style == "Superscript"
    superscript = document.get_style("text", "Superscript")
    assert "super" in superscript.get_properties(area="text")["style:text-position"]
    assert document.body.get_lists()
    title = document.body.get_paragraphs(style="Title")[0]
    assert title.text.startswith("Proposition de loi pour une politique")
    tables = {table.name: table for table in document.body.get_tables()}
    assert {"Résultats", "Provenance"} <= set(tables)
    results = tables["Résultats"]
    assert results.get_row(0).get_values()[:3] == ["Article voté", "Objet", "Pour"]
    assert results.height == 1 + 4  # every article of the voted version
    assert results.get_cell("C2").value == 22
    assert any("non adopté" in str(value) for value in results.get_column_values(5))
    assert tables["Provenance"].height == 1 + 3 * 2
    body_text = document.body.text_recursive
    assert f"organismes{NBSP}:" in body_text and BODY in body_text
    assert document.meta.title.startswith("Proposition de loi")
    assert document.meta.language == "fr-FR"
    assert document.meta.initial_creator == blocks.AUTHOR


def test_odt_of_a_single_article_without_divisions() -> None:
    document = _odt(sample_final_text(1, 1, 0, 0))
    headings = [(int(h.level), h.text_recursive) for h in document.body.headers]
    assert (2, "Article unique") in headings
    assert not any("TITRE" in text for _, text in headings)


# --- DOCX ----------------------------------------------------------------------------------------


def _docx(text):  # type: ignore[no-untyped-def]
    return docx.Document(io.BytesIO(to_docx.render(text)))


def test_docx_has_heading_styles_the_title_and_the_superscript() -> None:
    document = _docx(sample_final_text(3, 2, 1, 2))
    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert (
        "Title",
        "Proposition de loi pour une politique du logement ambitieuse, juste et écologique",
    ) in styled
    assert ("Heading 1", blocks.MOTIFS) in styled
    assert ("Heading 2", "TITRE Ier – Titre de la partie 1") in styled
    assert ("Heading 3", "Article 1er") in styled
    for annex in ANNEXES:
        assert ("Heading 1", annex) in styled
    assert any(style == "List Bullet" for style, _ in styled)
    article = next(p for p in document.paragraphs if p.text == "Article 1er")
    assert [(r.text, bool(r.font.superscript)) for r in article.runs] == [
        ("Article 1", False),
        ("er", True),
    ]
    body = next(p for p in document.paragraphs if BODY in p.text)
    assert f"modifié{NBSP}:" in body.text
    bold = next(p for p in document.paragraphs if "peuvent" in p.text)
    assert any(run.bold and run.text == "peuvent" for run in bold.runs)


def test_docx_tables_and_properties() -> None:
    document = _docx(sample_final_text(3, 2, 1, 2))
    results, *figures, provenance = document.tables
    assert [cell.text for cell in results.rows[0].cells][:3] == ["Article voté", "Objet", "Pour"]
    assert len(results.rows) == 1 + 4
    assert results.style.name == "Table Grid"
    assert "non adopté" in [row.cells[5].text for row in results.rows]
    assert len(provenance.rows) == 1 + 3 * 2
    assert provenance.rows[1].cells[3].text in blocks.SOURCE_KINDS.values()
    assert len(figures) == 3
    properties = document.core_properties
    assert properties.title.startswith("Proposition de loi")
    assert properties.language == "fr-FR"
    assert properties.author == blocks.AUTHOR
    xml = zipfile.ZipFile(io.BytesIO(to_docx.render(sample_final_text(1, 1, 0, 0)))).read(
        "word/document.xml"
    )
    assert to_docx.MARKER.encode() not in xml


def test_docx_of_a_single_article_without_divisions() -> None:
    document = _docx(sample_final_text(1, 1, 0, 0))
    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Heading 2", "Article unique") in styled
    assert not any("TITRE" in text for _, text in styled)


# --- The shared pieces ---------------------------------------------------------------------------


def test_markdown_blocks_keep_urls_and_code_untouched() -> None:
    parsed = blocks.parse(
        "Voir [le site](https://example.org/a?b=1:2) : *ici* ; `x ? y`\n\n1. un\n2. deux ; fin"
    )
    paragraph, numbered = parsed
    link = next(run for run in paragraph.runs if run.href)
    assert link.href == "https://example.org/a?b=1:2"
    assert any(run.text.startswith(f"{NBSP}:") for run in paragraph.runs)
    assert any(run.italic and run.text == "ici" for run in paragraph.runs)
    assert any(run.code and run.text == "x ? y" for run in paragraph.runs)
    assert numbered.ordered and len(numbered.items) == 2
    html = str(blocks.html("Le 1er mars : [lien](https://example.org/?q=a:b)"))
    assert "1<sup>er</sup>" in html and f"mars{NBSP}:" in html
    assert 'href="https://example.org/?q=a:b"' in html


def test_french_dates_and_results() -> None:
    from datetime import UTC, datetime

    assert blocks.french_date(datetime(2022, 2, 17, 17, tzinfo=UTC)) == "17 février 2022"
    assert blocks.french_date(datetime(2022, 2, 28, 23, 30, tzinfo=UTC)) == "1er mars 2022"
    text = sample_final_text(3, 1, 1, 0)
    labels = [blocks.result_label(result) for result in text.results]
    assert "non adopté" in labels
    assert "adopté – devient l'article 1er" in labels[0]
    assert blocks.label_runs("TITRE Ier") == [("TITRE I", False), ("er", True)]


def test_a_large_text_lays_out_its_provenance_annex_in_another_process(app, monkeypatch):
    monkeypatch.setattr(to_pdf, "MAX_TITLED_SOURCES", 2)
    with app.app_context():
        data = to_pdf.render(sample_final_text(3, 2, 0, 1))
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.page_labels[-1] == "I"
    provenance = reader.pages[-1].extract_text()
    assert blocks.ANNEX_PROVENANCE in provenance and "Leurs titres figurent" in provenance
    assert blocks.ANNEX_FIGURES in reader.pages[-2].extract_text()


def test_a_failed_provenance_process_fails_the_pdf_with_its_reason(app, monkeypatch):
    monkeypatch.setattr(to_pdf, "MAX_TITLED_SOURCES", 2)
    monkeypatch.setattr(to_pdf, "WORKER", "consultation.exports.no_such_module")
    with app.app_context(), pytest.raises(RuntimeError, match="No module named"):
        to_pdf.render(sample_final_text(3, 2, 0, 1))


def test_a_huge_provenance_annex_cites_proposals_by_number(app):
    """Past a few thousand sources the PDF drops the titles, which the other formats keep."""
    from consultation.exports import to_pdf

    with app.app_context():
        html = to_pdf.render_provenance_html(sample_final_text(60, 60, 0, 2))
    assert "Proposition 1.0" not in html and "Leurs titres figurent" in html
    assert "[1]\u00a0100" in html  # an origin, then its proposals' numbers
    with app.app_context():
        html = to_pdf.render_provenance_html(sample_final_text(3, 2, 0, 1))
    assert "Proposition 1.0" in html

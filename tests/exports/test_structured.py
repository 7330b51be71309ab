"""The structured exports of the final text: Akoma Ntoso validated against the official XSD,
Markdown with its headings, tables and French typography, JSON against its schema."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from lxml import etree

from consultation.core.typography import NBSP, NNBSP
from consultation.exports import to_akn, to_json, to_markdown
from consultation.exports.final_text import Division, FinalText, Source, to_data
from tests.exports.helpers import sample_final_text

AKN = {"akn": to_akn.AKN_NS}

TRICKY_BODY = """Le titre II est ainsi rédigé :

1. un alinéa avec un [lien](https://www.legifrance.gouv.fr/ "Légifrance") et `du code` ;
2. une liste imbriquée :
    - premier point ;
    - second point, [lien douteux](javascript:alert(1)).

> « Une citation »
> sur deux lignes !

### Un intertitre

| Colonne | Autre |
|---|---|
| a | b |

<script>alert("non")</script> et un caractère de contrôle \x07 ici.

Le 1er janvier, ![une image](https://example.org/i.png) puis une ligne\x20\x20
coupée.

---
"""


def _nested() -> FinalText:
    """A text of a titre holding a chapitre holding a section, and loose articles before."""
    text = sample_final_text(4, 1, 0, 0)
    first, second, third, fourth = text.articles
    third = dataclasses.replace(third, body=TRICKY_BODY, heading="")
    section = Division("section", 1, "Section 1", "Une section", (third,), ())
    chapter = Division("chapitre", 1, "CHAPITRE Ier", "Un chapitre", (second,), (section,))
    titre = Division("titre", 1, "TITRE Ier", "Un titre", (), (chapter,))
    titre_2 = Division("titre", 2, "TITRE II", "", (fourth,), ())
    return dataclasses.replace(text, articles=(first,), divisions=(titre, titre_2))


SAMPLES = {
    "with divisions": lambda: sample_final_text(),
    "without divisions": lambda: sample_final_text(5, 2, 2, 0),
    "article unique": lambda: sample_final_text(1, 1, 2, 0),
    "nested divisions and tricky Markdown": _nested,
    "300 articles": lambda: sample_final_text(300, 3, 5, 10),
    "no sources, empty texts": lambda: dataclasses.replace(
        sample_final_text(2, 0, 0, 0), preamble="", title="Sans « rien » : vide"
    ),
}


def _tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


# --- Akoma Ntoso -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_valid_akoma_ntoso(name):
    text = SAMPLES[name]()
    xml = to_akn.render(text)
    assert to_akn.validate_akn(xml) == []
    root = _tree(xml)
    assert root.tag == f"{{{to_akn.AKN_NS}}}akomaNtoso"
    assert root.find("akn:bill", AKN).get("name") == "propositionDeLoi"
    articles = root.findall(".//akn:body//akn:article", AKN)
    assert len(articles) == text.article_count
    assert [a.get("eId") for a in articles] == [f"art_{n}" for n in range(1, len(articles) + 1)]


def test_the_frbr_identification_uses_akn_uris():
    root = _tree(to_akn.render(sample_final_text()))
    identification = root.find("akn:bill/akn:meta/akn:identification", AKN)
    value = {
        level: {
            child.tag.split("}")[1]: child.get("value") or child.get("date") or child.get("href")
            for child in identification.find(f"akn:{level}", AKN)
        }
        for level in ("FRBRWork", "FRBRExpression", "FRBRManifestation")
    }
    work = "/akn/fr/bill/2022/utiles-ensemble-2"
    assert value["FRBRWork"]["FRBRthis"] == f"{work}/!main"
    assert value["FRBRWork"]["FRBRuri"] == work
    assert value["FRBRWork"]["FRBRcountry"] == "fr"
    assert value["FRBRWork"]["FRBRdate"] == "2022-02-17"
    assert value["FRBRWork"]["FRBRauthor"] == "#ush"
    assert value["FRBRExpression"]["FRBRthis"] == f"{work}/fra@2022-02-17/!main"
    assert value["FRBRExpression"]["FRBRuri"] == f"{work}/fra@2022-02-17"
    assert identification.find("akn:FRBRExpression/akn:FRBRlanguage", AKN).get("language") == "fra"
    assert value["FRBRManifestation"]["FRBRthis"].startswith(f"{work}/fra@2022-02-17/!main")
    # The organisation the authors point to is declared.
    organisation = root.find(".//akn:references/akn:TLCOrganization[@eId='ush']", AKN)
    assert organisation.get("showAs") == "Union sociale pour l'habitat"
    # Each annex has its own component URI.
    annexes = root.findall(".//akn:attachments/akn:attachment", AKN)
    assert len(annexes) == 3
    assert annexes[1].find(".//akn:FRBRWork/akn:FRBRthis", AKN).get("value") == f"{work}/!annexe_2"


def test_the_akn_structure_has_preface_preamble_divisions_and_annexes():
    xml = to_akn.render(_nested())
    root = _tree(xml)
    bill = root.find("akn:bill", AKN)
    assert bill.find("akn:preface//akn:docType", AKN).text == "Proposition de loi"
    assert "politique du logement" in bill.find("akn:preface//akn:docTitle", AKN).text
    assert "Mesdames, Messieurs," in etree.tostring(bill.find("akn:preamble", AKN), encoding=str)
    titre = bill.find("akn:body/akn:title", AKN)
    assert titre.get("eId") == "title_1"
    assert etree.tostring(titre.find("akn:num", AKN), encoding=str, with_tail=False).endswith(
        "TITRE I<sup>er</sup></num>"
    )
    chapter = titre.find("akn:chapter", AKN)
    assert chapter.get("eId") == "title_1__chp_1"
    section = chapter.find("akn:section", AKN)
    assert section.get("eId") == "title_1__chp_1__sec_1"
    assert section.find("akn:heading", AKN).text == "Une section"
    first = bill.find("akn:body/akn:article", AKN)
    assert (
        etree.tostring(first.find("akn:num", AKN), encoding=str, with_tail=False)
        == f'<num xmlns="{to_akn.AKN_NS}">Article 1<sup>er</sup></num>'
    )
    assert first.find("akn:paragraph/akn:content/akn:p", AKN) is not None
    # The tricky body: its link kept, the javascript one and the raw HTML made harmless.
    tricky = section.find("akn:article", AKN)
    body = etree.tostring(tricky, encoding=str)
    assert 'href="https://www.legifrance.gouv.fr/"' in body
    assert "javascript" not in body.split("lien douteux")[0].rsplit("<", 1)[-1]
    assert "<script" not in body and "&lt;script&gt;" in body
    assert "\x07" not in body
    assert tricky.find(".//akn:ol/akn:li/akn:ul/akn:li", AKN) is not None
    assert tricky.find(".//akn:blockContainer", AKN) is not None
    assert tricky.find(".//akn:table/akn:tr/akn:th/akn:p", AKN) is not None
    assert f"rédigé{NBSP}:" in body
    assert "<conclusions>" in xml.decode()


def test_the_akn_annexes_list_results_figures_and_provenance():
    text = sample_final_text(3, 2, 1, 2)
    root = _tree(to_akn.render(text))
    results, figures, provenance = (
        att.find(".//akn:mainBody", AKN) for att in root.findall(".//akn:attachment", AKN)
    )
    rows = ["".join(row.itertext()) for row in results.findall(".//akn:tr", AKN)]
    assert len(rows) == 1 + len(text.results) + 1  # headers, every voted article, the whole text
    assert any("non adopté" in row for row in rows)
    assert any("adopté (devient l'Article 2)" in row for row in rows)
    assert "Ensemble du texte" in rows[-1]
    sources = provenance.findall(".//akn:tr", AKN)
    assert len(sources) == 1 + 3 * 2
    assert "Pays de la Loire" in "".join(figures.itertext())


def test_a_broken_akn_document_is_refused_with_readable_problems():
    root = _tree(to_akn.render(sample_final_text()))
    bill = root.find("akn:bill", AKN)
    article = bill.find(".//akn:article", AKN)
    article.insert(0, copy.deepcopy(article.find("akn:paragraph", AKN)))  # content before num
    bill.remove(bill.find("akn:meta", AKN))
    problems = to_akn.validate_akn(etree.tostring(root))
    assert problems
    assert any("meta" in problem for problem in problems)
    assert all(problem.startswith("line ") for problem in problems)
    assert to_akn.validate_akn(b"<akomaNtoso><bill>")[0].startswith("not well-formed XML")
    foreign = b'<akomaNtoso xmlns="urn:other"><bill/></akomaNtoso>'
    assert to_akn.validate_akn(foreign)


def test_the_schema_is_local_and_parsed_once():
    assert to_akn.schema() is to_akn.schema()
    assert (to_akn.SCHEMAS / "akomantoso30.xsd").is_file()
    assert (to_akn.SCHEMAS / "xml.xsd").is_file()
    imports = etree.parse(str(to_akn.XSD)).findall("{http://www.w3.org/2001/XMLSchema}import")
    assert [i.get("schemaLocation") for i in imports] == ["./xml.xsd"]


# --- Markdown ----------------------------------------------------------------------------------


def test_the_markdown_has_the_bill_headings_and_french_typography():
    text = sample_final_text(3, 2, 1, 2)
    md = to_markdown.render(text).decode()
    lines = md.splitlines()
    assert lines[0].startswith("# Proposition de loi pour une politique du logement")
    for heading in ("## Exposé des motifs", "## Proposition de loi", "## Annexes"):
        assert heading in lines
    assert lines.index("## Exposé des motifs") < lines.index("## Proposition de loi")
    assert "### TITRE Ier – Titre de la partie 1" in lines
    assert "#### Article 1er" in lines and "#### Article 3" in lines
    assert "Mesdames, Messieurs," in md
    # French typography: no-break spaces before the high punctuation and inside guillemets.
    assert f"organismes{NBSP}: voici" in md
    assert f"slogan{NNBSP};" in md and f"politique{NNBSP}!" in md
    assert f"«{NBSP}logement d'abord{NBSP}»" in md
    assert " :" not in md.replace(f"{NBSP}:", "")  # every colon after a space got its no-break


def test_the_markdown_annexes_are_tables():
    text = sample_final_text(3, 2, 1, 2)
    md = to_markdown.render(text).decode()
    lines = md.splitlines()
    for title in to_markdown.ANNEX_TITLES:
        assert f"### {title}" in lines
    assert (
        "| Article soumis au vote | Objet | Pour | Contre | Abstention | Votants | Résultat |" in md
    )
    assert "adopté (devient l'Article 2)" in md
    assert "| non adopté |" in md
    assert "large soutien" in md
    assert "| Ensemble du texte |" in md
    provenance = [line for line in lines if line.startswith("| Article 1er | n°")]
    assert len(provenance) == 2
    assert "| Débats régionaux tenus | 29 |" in md
    assert "| Pays de la Loire | 3 |" in md
    assert "| Conseil social de l'USH | 24 |" in md
    assert "| Jurés citoyens | 30 |" in md


def test_the_markdown_escapes_table_cells_and_shows_quorum_failures():
    text = sample_final_text(2, 1, 1, 0)
    article = text.articles[0]
    source = Source(7, "Titre | avec *pipe*\net retour", "Org | A", "commission", None, None)
    article = dataclasses.replace(article, sources=(source,))
    failed = dataclasses.replace(text.results[1], quorum_reached=False, adopted=False)
    text = dataclasses.replace(
        text, articles=(article, *text.articles[1:]), results=(text.results[0], failed)
    )
    md = to_markdown.render(text).decode()
    row = next(line for line in md.splitlines() if "Titre \\|" in line)
    assert row.count(" | ") == 5  # six cells: the escaped pipes do not split it
    assert "Org \\| A" in row and "\\*pipe\\*" in row and "et retour" in row
    assert "quorum non atteint" in md


def test_a_single_article_is_the_article_unique_in_markdown():
    md = to_markdown.render(sample_final_text(1, 1, 1, 0)).decode()
    assert "### Article unique" in md.splitlines()
    assert "(devient l'Article unique)" in md


# --- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_conforms_to_the_json_schema(name):
    text = SAMPLES[name]()
    raw = to_json.render(text)
    data = json.loads(raw)
    assert to_json.validate_json(data) == []
    assert data == json.loads(json.dumps(to_data(text)))
    assert raw.decode().startswith('{\n  "article_count"')  # sorted keys, indented


def test_the_json_schema_requires_every_field_of_the_model():
    schema = json.loads(to_json.SCHEMA.read_text(encoding="utf-8"))
    data = to_data(_nested())
    assert set(schema["required"]) == set(data) == set(schema["properties"])
    definitions = schema["$defs"]
    for name, example in (
        ("article", data["articles"][0]),
        ("result", data["whole_text"]),
        ("source", data["articles"][0]["sources"][0]),
        ("division", data["divisions"][0]),
        ("figures", data["figures"]),
    ):
        assert set(definitions[name]["required"]) == set(example), name


def test_a_broken_json_document_is_refused_with_readable_problems():
    data = json.loads(to_json.render(_nested()))
    del data["title"]
    data["divisions"][0]["kind"] = "livre"
    data["articles"][0]["sources"][0]["source_kind"] = "lobby"
    data["articles"][0]["number"] = "1"
    data["figures"]["extra"] = 1
    problems = to_json.validate_json(data)
    assert any(p.startswith("(root): 'title' is a required property") for p in problems)
    assert any(p.startswith("divisions/0/kind:") and "livre" in p for p in problems)
    assert any(p.startswith("articles/0/sources/0/source_kind:") for p in problems)
    assert any(p.startswith("articles/0/number:") for p in problems)
    assert any(p.startswith("figures:") and "extra" in p for p in problems)


def test_the_markdown_keeps_user_headings_below_the_documents_and_raw_html_as_text():
    md = to_markdown.render(_nested()).decode()
    lines = md.splitlines()
    assert "##### Section 1 – Une section" in lines and "###### Article 3" in lines
    assert "###### Un intertitre" in lines  # "### Un intertitre" in the body, moved down
    assert "<script>" not in md and '&lt;script>alert("non")' in md
    assert "\x07" not in md
    assert "`du code`" in md and "[lien](https://www.legifrance.gouv.fr/" in md
    assert "### Article 1er" not in lines  # the loose article sits below the titres' level

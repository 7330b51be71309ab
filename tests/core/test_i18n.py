"""French first: every interface string has a French translation; English is one click away."""

from __future__ import annotations

from pathlib import Path

from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "consultation/translations/fr/LC_MESSAGES/messages.po"
METHODS = [
    ("consultation/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _source_messages() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**": {"extensions": "jinja2.ext.do"}},
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_string_has_a_french_translation():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    translated = {
        message.id[0] if message.pluralizable else message.id
        for message in catalogue
        if message.id and (all(message.string) if message.pluralizable else message.string)
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, f"add these to the French catalogue (make extract-messages): {missing}"
    for message in catalogue:
        if message.id and message.string:
            python_format(catalogue, message)  # raises when placeholders differ


def test_the_interface_is_french_by_default_and_english_on_request(client):
    french = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "Se connecter" in french
    client.get("/langue/en")
    english = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Sign in" in english


def test_french_dates(app):
    from datetime import UTC, date, datetime

    from consultation.core.i18n import date_time, long_date, short_date

    with app.test_request_context("/"):
        assert long_date(date(2021, 11, 15)) == "lundi 15 novembre 2021"
        assert short_date(date(2022, 2, 1)) == "1er févr. 2022"
        # 23:30 UTC on 31 January is already 1 February in Paris
        assert long_date(datetime(2022, 1, 31, 23, 30, tzinfo=UTC)) == "mardi 1er février 2022"
        assert date_time(datetime(2021, 11, 15, 17, 30, tzinfo=UTC)) == (
            "lundi 15 novembre 2021, 18\u00a0h\u00a030"
        )

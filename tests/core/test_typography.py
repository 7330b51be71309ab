"""French typography: no-break spaces where French wants them, nothing added elsewhere."""

from __future__ import annotations

from consultation.core.typography import NBSP, NNBSP, french, split_ordinal


def test_high_punctuation_and_guillemets_get_no_break_spaces():
    assert french("Article 1er : objet ; portée ! Pourquoi ?") == (
        f"Article 1er{NBSP}: objet{NNBSP}; portée{NNBSP}! Pourquoi{NNBSP}?"
    )
    assert french("le « logement d'abord »") == f"le «{NBSP}logement d'abord{NBSP}»"
    assert french("«logement»") == f"«{NBSP}logement{NBSP}»"


def test_addresses_and_text_without_spaces_are_left_alone():
    text = "https://example.org/page?x=1 et 10:30"
    assert french(text) == text


def test_ordinals_split_for_superscripts():
    assert split_ordinal("Article 1er") == [("Article 1", False), ("er", True)]
    assert split_ordinal("Article 12") == [("Article 12", False)]
    assert split_ordinal("TITRE Ier") == [("TITRE Ier", False)]

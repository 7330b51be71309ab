"""Word-level differences."""

from __future__ import annotations

from consultation.core.diff import diff_html, has_changes, word_diff


def test_a_changed_word_is_deleted_then_inserted():
    parts = word_diff("Le loyer est plafonné.", "Le loyer reste plafonné.")
    assert [(p.operation, p.text) for p in parts] == [
        ("equal", "Le loyer "),
        ("delete", "est"),
        ("insert", "reste"),
        ("equal", " plafonné."),
    ]
    assert has_changes(parts)
    assert not has_changes(word_diff("Même texte.", "Même texte."))


def test_the_html_escapes_the_texts():
    html = str(diff_html("<b>a</b>", "<b>b</b>"))
    assert "<b>" not in html
    assert "<del>a</del><ins>b</ins>" in html

"""The final text: the adopted articles renumbered, the rejected ones only in the results, and
refusals before a round has closed or when nothing was adopted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consultation.consultations.models import Phase
from consultation.core.errors import NotFound
from consultation.core.models import utcnow
from consultation.exports.final_text import NotExportable, build_final_text, to_data
from consultation.exports.formats import FORMATS, get_format
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Choice
from tests import factories
from tests.jury.factories import frozen_version, make_juror


def _voted(db, choices: list[Choice], close: bool = True):  # type: ignore[no-untyped-def]
    """A consultation whose jury (one juror) voted `choices` on the articles, in order."""
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, len(choices))
    juror = make_juror(consultation).user
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    items = [item for item, _ in ballots.round_items(voting_round) if item != WHOLE_TEXT]
    for item, choice in zip(items, choices, strict=True):
        ballots.cast_ballot(voting_round, juror, item, choice, now)
    ballots.cast_ballot(voting_round, juror, WHOLE_TEXT, Choice.POUR, now)
    if close:
        ballots.close_round(voting_round, None, now)
    db.session.flush()
    return consultation


def test_the_adopted_articles_are_renumbered(db):
    consultation = _voted(db, [Choice.POUR, Choice.CONTRE, Choice.POUR])
    text = build_final_text(consultation)
    assert [a.label for a in text.all_articles()] == ["Article 1er", "Article 2"]
    assert [a.voted_label for a in text.all_articles()] == ["Article 1er", "Article 3"]
    assert [(r.voted_label, r.final_label) for r in text.results] == [
        ("Article 1er", "Article 1er"),
        ("Article 2", None),
        ("Article 3", "Article 2"),
    ]
    assert text.whole_text.adopted and text.figures.jurors == 1
    data = to_data(text)
    assert data["article_count"] == 2 and data["format"].startswith("utiles-ensemble/")


def test_a_single_adopted_article_is_the_article_unique(db):
    consultation = _voted(db, [Choice.CONTRE, Choice.POUR])
    (article,) = build_final_text(consultation).all_articles()
    assert article.label == "Article unique" and article.num == "unique"


def test_no_final_text_before_the_round_closes_or_without_adopted_articles(db):
    with pytest.raises(NotExportable, match="has not closed"):
        build_final_text(_voted(db, [Choice.POUR], close=False))
    with pytest.raises(NotExportable, match="adopted no article"):
        build_final_text(_voted(db, [Choice.CONTRE, Choice.ABSTENTION]))


def test_the_formats_and_their_file_names():
    assert [FORMATS[name].filename for name in FORMATS] == [
        "proposition-de-loi.pdf",
        "proposition-de-loi.odt",
        "proposition-de-loi.docx",
        "proposition-de-loi.md",
        "proposition-de-loi.akn.xml",
        "proposition-de-loi.json",
    ]
    with pytest.raises(NotFound, match="Unknown format"):
        get_format("rtf")

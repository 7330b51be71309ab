"""The demo's bill: about 20 articles in titres and chapitres, written from the historical
consultation's accepted proposals at 100% coverage, with two frozen versions; loading again adds
nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from consultation.bill import versions
from consultation.bill.models import Article, Bill, BillVersion, Division
from consultation.bill.services import coverage, find_bill
from consultation.consultations.models import Consultation, Phase
from consultation.demo.bill import article_count
from consultation.demo.services import load_demo


def _historical(db) -> Consultation:
    return db.session.scalar(select(Consultation).where(Consultation.slug == "utiles-ensemble-2"))


def test_the_historical_consultation_has_a_complete_bill_with_two_versions(db, client):
    load_demo(complete=False)
    db.session.commit()
    consultation = _historical(db)
    assert consultation.phase is Phase.REMISE  # the demo did not move the phase
    bill = find_bill(consultation)
    assert bill is not None and bill.preamble.startswith("Mesdames, Messieurs,")
    assert "[[debats_tenus]]" in bill.preamble
    assert coverage(consultation).is_complete and coverage(consultation).accepted > 0
    kinds = db.session.scalars(select(Division.kind).where(Division.bill_id == bill.id)).all()
    assert kinds.count("titre") >= 2 and kinds.count("chapitre") >= 4
    assert db.session.scalar(select(func.count(Article.id))) == article_count(1) + 1 == 21

    first, second = sorted(bill.versions, key=lambda version: version.number)
    assert (first.number, second.number) == (1, 2)
    assert first.content["article_count"] == 20 and second.content["article_count"] == 21
    assert first.content["coverage"]["percent"] == 100
    assert "[[" not in first.content["preamble"]
    assert versions.checksum(second.content) == second.checksum
    diff = versions.diff_versions(first, second)
    assert (diff.added, diff.removed, diff.changed) == (1, 0, 1)
    assert diff.moved >= 1
    assert len([change for change in diff.articles if change.is_relocated]) == 1
    every_article = [a for a, _ in versions.walk_snapshot(second.content)]
    assert all(article["sources"] for article in every_article)

    for path in (
        "/consultations/utiles-ensemble-2/texte",
        "/consultations/utiles-ensemble-2/texte/versions",
        "/consultations/utiles-ensemble-2/texte/versions/1",
        "/consultations/utiles-ensemble-2/texte/versions/1/diff/2",
        "/api/v1/consultations/utiles-ensemble-2/bill",
    ):
        assert client.get(path).status_code == 200, path


def test_loading_again_adds_nothing(db):
    load_demo(complete=False)
    db.session.commit()
    counts = (
        db.session.scalar(select(func.count(Bill.id))),
        db.session.scalar(select(func.count(Article.id))),
        db.session.scalar(select(func.count(BillVersion.id))),
    )
    load_demo(complete=False)
    db.session.commit()
    assert counts == (
        db.session.scalar(select(func.count(Bill.id))),
        db.session.scalar(select(func.count(Article.id))),
        db.session.scalar(select(func.count(BillVersion.id))),
    )
    assert counts == (1, 21, 2)


def test_the_scaled_demo_has_30_articles_per_unit_of_scale():
    assert article_count(1) == 20
    assert article_count(10) == 300

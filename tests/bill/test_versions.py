"""Frozen versions: the freezing rules, numbering, the immutable snapshot, and the differences
between two versions."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from sqlalchemy import select

from consultation.bill import versions
from consultation.bill.models import (
    Article,
    ArticleSource,
    Bill,
    BillVersion,
    DispositionKind,
    Division,
    ProposalDisposition,
)
from consultation.consultations.models import Consultation, Phase
from consultation.consultations.services import advance_phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError, InvalidTransition
from consultation.core.models import utcnow
from consultation.proposals.models import Proposal
from tests.bill.helpers import (
    accepted_proposals,
    add_article,
    add_division,
    make_bill,
    synthesis_consultation,
)


def cite(article: Article, proposal: Proposal, db) -> None:
    """Make the proposal a source of the article, integrated (its disposition)."""
    db.session.add(ArticleSource(article_id=article.id, proposal_id=proposal.id))
    if (
        db.session.scalar(
            select(ProposalDisposition).where(ProposalDisposition.proposal_id == proposal.id)
        )
        is None
    ):
        db.session.add(
            ProposalDisposition(proposal_id=proposal.id, kind=DispositionKind.INTEGRATED)
        )
    db.session.flush()


def complete_bill(
    db, consultation: Consultation | None = None, articles: int = 3, proposals: int = 2
) -> tuple[Bill, list[Article], list[Proposal]]:
    """A bill in a titre with two chapters, every accepted proposal a source: 100% coverage."""
    consultation = consultation or synthesis_consultation()
    accepted = accepted_proposals(consultation, proposals)
    bill = make_bill(consultation, preamble="Mesdames, Messieurs, [[propositions]] propositions.")
    titre = add_division(bill, "titre", heading="Produire")
    chapters = [
        add_division(bill, "chapitre", titre, heading="Construire"),
        add_division(bill, "chapitre", titre, heading="Rénover"),
    ]
    made = [
        add_article(bill, chapters[index % 2], heading=f"Objet {index}", body=f"Texte {index}.")
        for index in range(articles)
    ]
    for index, article in enumerate(made):
        cite(article, accepted[index % len(accepted)], db)
    return bill, made, accepted


def test_freezing_is_refused_on_an_empty_bill(db):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    with pytest.raises(Conflict, match="no article") as refused:
        versions.freeze_bill_version(bill, "", None, utcnow())
    assert refused.value.status_code == 409


def test_freezing_is_refused_below_full_coverage_saying_how_many_lack_a_disposition(db):
    bill, _articles, _accepted = complete_bill(db)
    accepted_proposals(bill.consultation, 2)
    with pytest.raises(Conflict, match="2 accepted proposals have no disposition") as refused:
        versions.freeze_bill_version(bill, "", None, utcnow())
    assert refused.value.status_code == 409
    assert "50%" in str(refused.value.message)


def test_freezing_is_refused_outside_the_synthesis(db):
    bill, _articles, _accepted = complete_bill(db)
    bill.consultation.phase = Phase.JURY
    with pytest.raises(InvalidTransition, match="synthesis"):
        versions.freeze_bill_version(bill, "", None, utcnow())


def test_versions_are_numbered_and_audited(db):
    bill, _articles, _accepted = complete_bill(db)
    first = versions.freeze_bill_version(bill, "  Pour relecture ", None, utcnow())
    second = versions.freeze_bill_version(bill, "", None, utcnow())
    assert (first.number, second.number) == (1, 2)
    assert first.note == "Pour relecture"
    assert [v.number for v in versions.list_versions(bill)] == [2, 1]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "bill.version_frozen")
    ).all()
    assert len(actions) == 2


def test_the_snapshot_keeps_the_text_as_it_stood(db):
    bill, articles, accepted = complete_bill(db)
    version = versions.freeze_bill_version(bill, "", None, utcnow())
    content = version.content
    assert content["title"] == bill.title
    assert content["preamble"] == "Mesdames, Messieurs, 2 propositions."
    assert content["preamble_source"].endswith("[[propositions]] propositions.")
    assert content["coverage"] == {"accepted": 2, "decided": 2, "percent": 100}
    titre = content["divisions"][0]
    assert (titre["kind"], titre["label"], titre["heading"]) == ("titre", "TITRE Ier", "Produire")
    assert [c["label"] for c in titre["divisions"]] == ["CHAPITRE Ier", "CHAPITRE II"]
    first = titre["divisions"][0]["articles"][0]
    assert first["label"] == "Article 1er" and first["body"] == "Texte 0."
    source = first["sources"][0]
    assert source["proposal_id"] == accepted[0].id
    assert source["title"] == accepted[0].title
    assert source["organisation"] == accepted[0].organisation.name
    assert source["source_kind"] == accepted[0].source_kind.value
    assert [a["label"] for a, _ in versions.walk_snapshot(content)] == [
        "Article 1er",
        "Article 2",
        "Article 3",
    ]

    articles[0].body = "Texte réécrit après le gel."
    bill.title = "Nouveau titre"
    db.session.flush()
    db.session.expire_all()
    stored = db.session.get(BillVersion, version.id)
    walked = [a for a, _ in versions.walk_snapshot(stored.content)]
    assert walked[0]["body"] == "Texte 0."
    assert stored.content["title"] != "Nouveau titre"


def test_the_checksum_is_the_sha256_of_the_canonical_json(db):
    bill, _articles, _accepted = complete_bill(db)
    version = versions.freeze_bill_version(bill, "", None, utcnow())
    db.session.expire_all()
    stored = db.session.get(BillVersion, version.id)
    assert len(stored.checksum) == 64
    assert versions.checksum(stored.content) == stored.checksum
    canonical = json.dumps(
        stored.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == stored.checksum
    # Nothing changed: the next version holds the same content, hence the same checksum.
    again = versions.freeze_bill_version(stored.bill, "", None, utcnow())
    assert again.checksum == stored.checksum


def test_a_frozen_version_cannot_be_changed(db):
    bill, _articles, _accepted = complete_bill(db)
    version = versions.freeze_bill_version(bill, "", None, utcnow())
    db.session.flush()
    version.note = "changé"
    with pytest.raises(InvalidTransition, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()


def test_the_jury_phase_needs_a_frozen_version(db):
    bill, _articles, _accepted = complete_bill(db)
    consultation = bill.consultation
    with pytest.raises(InvalidTransition, match="Freeze a version"):
        advance_phase(consultation, Phase.JURY, None)
    versions.freeze_bill_version(bill, "", None, utcnow())
    advance_phase(consultation, Phase.JURY, None)
    assert consultation.phase is Phase.JURY


def test_freezing_then_editing_is_refused_once_in_the_jury_phase(db):
    bill, _articles, _accepted = complete_bill(db)
    versions.freeze_bill_version(bill, "", None, utcnow())
    advance_phase(bill.consultation, Phase.JURY, None)
    with pytest.raises(DomainError) as refused:
        versions.freeze_bill_version(bill, "", None, utcnow())
    assert refused.value.status_code == 409


# --- Differences ---------------------------------------------------------------------------


def test_the_diff_sorts_articles_into_added_removed_moved_changed_and_unchanged(db):
    bill, articles, accepted = complete_bill(db, articles=5)
    first = versions.freeze_bill_version(bill, "", None, utcnow())
    chapters = sorted({a.division_id for a in articles})
    # Chapter I holds articles 0, 2, 4 (numbers 1-3); chapter II holds 1, 3 (numbers 4-5).
    articles[2].body = "Texte 2 modifié largement."  # changed
    articles[4].division_id = chapters[1]  # moved into chapter II, at its end
    articles[4].position = 10
    db.session.delete(articles[3])  # removed
    db.session.flush()
    added = add_article(bill, db.session.get(Division, chapters[1]), body="Un article nouveau.")
    added.position = 5  # chapter II: article 1 (position 0), the new one, then article 4
    cite(added, accepted[0], db)
    db.session.expire_all()
    second = versions.create_version(db.session.get(Bill, bill.id), "", None, utcnow())

    diff = versions.diff_versions(first, second)
    kinds = {change.article_id: change for change in diff.articles}
    assert kinds[added.id].kind == "added"
    assert kinds[articles[3].id].kind == "removed"
    changed = kinds[articles[2].id]
    assert changed.is_changed and not changed.is_moved
    assert "<del>2</del>" not in changed.body_html
    assert "<ins>" in changed.body_html and "modifié" in changed.body_html
    moved = kinds[articles[4].id]
    assert moved.is_moved and moved.is_relocated and not moved.is_changed
    renumbered = kinds[articles[1].id]  # "Article 4" became 3: nothing of its own changed
    assert renumbered.is_moved and renumbered.is_renumbered_only
    assert not changed.is_renumbered_only and not moved.is_renumbered_only
    assert moved.before["label"] == "Article 3" and moved.after["label"] == "Article 5"
    assert moved.before_division.endswith("CHAPITRE Ier")
    assert moved.after_division.endswith("CHAPITRE II")
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)
    assert diff.unchanged + diff.moved + 0 >= 2
    assert diff.preamble_html is None


def test_the_diff_shows_division_and_preamble_changes(db):
    bill, _articles, _accepted = complete_bill(db)
    first = versions.freeze_bill_version(bill, "", None, utcnow())
    bill.divisions[1].heading = "Construire mieux"
    bill.preamble = "Mesdames, Messieurs, voici le texte."
    db.session.flush()
    second = versions.freeze_bill_version(bill, "", None, utcnow())
    diff = versions.diff_versions(first, second)
    assert [change.kind for change in diff.divisions] == ["renamed"]
    assert "<ins> mieux</ins>" in diff.divisions[0].heading_html
    assert diff.preamble_html is not None and "<del>" in diff.preamble_html
    assert diff.unchanged == 3 and not diff.articles


def test_freezing_and_diffing_300_articles_is_fast(db):
    consultation = synthesis_consultation()
    bill, articles, _accepted = complete_bill(db, consultation, articles=300, proposals=30)
    started = time.perf_counter()
    first = versions.freeze_bill_version(bill, "", None, utcnow())
    freezing = time.perf_counter() - started
    for article in articles[::10]:
        article.body += " Alinéa ajouté pour la seconde version."
    db.session.flush()
    second = versions.freeze_bill_version(bill, "", None, utcnow())
    started = time.perf_counter()
    diff = versions.diff_versions(first, second)
    diffing = time.perf_counter() - started
    assert first.content["article_count"] == 300
    assert diff.changed == 30 and diff.unchanged == 270
    assert freezing < 2.0
    assert diffing < 0.5


# --- Command line --------------------------------------------------------------------------


def test_the_freeze_command_applies_the_rules_and_prints_the_outcome(app, db):
    bill, _articles, _accepted = complete_bill(db)
    extra = accepted_proposals(bill.consultation, 1)
    db.session.commit()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["bill", "freeze", "c"])
    assert refused.exit_code != 0 and "1 accepted proposal has no disposition" in refused.output
    db.session.add(
        ProposalDisposition(
            proposal_id=extra[0].id, kind=DispositionKind.NOT_RETAINED, reason="Hors champ"
        )
    )
    db.session.commit()
    frozen = runner.invoke(args=["bill", "freeze", "c", "--note", "Pour le jury"])
    assert frozen.exit_code == 0, frozen.output
    assert "Froze version 1 of the bill of c (3 articles" in frozen.output
    assert db.session.scalar(select(BillVersion.note)) == "Pour le jury"
    assert runner.invoke(args=["bill", "freeze", "nowhere"]).exit_code != 0


def test_the_bench_command_times_freezing_and_the_diff_and_saves_nothing(app, db):
    bill, articles, _accepted = complete_bill(db)
    versions.freeze_bill_version(bill, "", None, utcnow())
    articles[0].body = "Texte changé."
    db.session.flush()
    versions.freeze_bill_version(bill, "", None, utcnow())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["bill", "bench", "c"])
    assert result.exit_code == 0, result.output
    assert "freeze:" in result.output and "for 3 articles" in result.output
    assert "diff: v1 → v2" in result.output and "1 changed" in result.output
    db.session.expire_all()
    assert db.session.query(BillVersion).count() == 2

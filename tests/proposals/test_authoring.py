"""Drafting and submitting through the pages: contributors write on behalf of their
organisation, regional editors record the proposals of their held debates; bad input gets a
clear message and the right status, and the refused form keeps what was typed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.core.models import utcnow
from consultation.debates.models import DebateStatus
from consultation.proposals.models import (
    BODY_MAX,
    TITLE_MAX,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    SourceKind,
)
from tests import factories
from tests.debates.helpers import make_debate
from tests.proposals.helpers import make_proposal, theme

SLUG = "ue2"
BASE = f"/gestion/consultations/{SLUG}/propositions"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug=SLUG)


@pytest.fixture
def produire(consultation):
    return theme(consultation, "produire", "Produire plus")


def _form(theme_id: object = "", **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Encadrer les loyers des logements neufs",
        "summary": "Un loyer *plafonné* pour dix ans.",
        "body": "Le loyer des logements **neufs** est plafonné.",
        "rationale": "Les ménages modestes n'y accèdent pas.",
        "theme_id": theme_id,
        "debate_id": "",
        "action": "draft",
    }
    data.update(changes)
    return data


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(db, model=Proposal) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _only_proposal(db) -> Proposal:
    db.session.expire_all()
    return db.session.scalars(select(Proposal)).one()


# --- Drafting, editing, submitting ---------------------------------------------------------


def test_a_contributor_drafts_edits_then_submits_a_proposal(contributor_client, db, produire):
    db.session.commit()
    page = _text(contributor_client.get(f"{BASE}/nouvelle"))
    assert "New proposal" in page and "Similar proposals" in page
    assert f'<option value="{produire.id}">Produire plus</option>' in page
    assert "js/proposal-form.js" in page

    response = contributor_client.post(f"{BASE}/nouvelle", data=_form(produire.id))
    assert response.status_code == 302, _text(response)
    proposal = _only_proposal(db)
    assert response.headers["Location"].endswith(f"{BASE}/{proposal.id}/modifier")
    assert proposal.status is ProposalStatus.DRAFT
    assert proposal.organisation_id == contributor_client.user.organisation_id
    assert proposal.author_id == contributor_client.user.id
    assert proposal.source_kind is SourceKind.ORGANISME
    assert proposal.region_code == "52"
    page = _text(contributor_client.get(response.headers["Location"]))
    assert "Draft saved. Submit it when it is ready." in page
    assert "Encadrer les loyers des logements neufs" in page

    edited = _form(produire.id, title="Plafonner les loyers des logements neufs")
    response = contributor_client.post(f"{BASE}/{proposal.id}/modifier", data=edited)
    assert response.status_code == 302
    proposal = _only_proposal(db)
    assert proposal.title == "Plafonner les loyers des logements neufs"
    assert (proposal.status, proposal.revision_count) == (ProposalStatus.DRAFT, 0)

    response = contributor_client.post(f"{BASE}/{proposal.id}/deposer", data={})
    assert response.status_code == 302
    proposal = _only_proposal(db)
    assert proposal.status is ProposalStatus.SUBMITTED
    assert proposal.submitted_at is not None and proposal.revision_count == 1
    page = _text(contributor_client.get(response.headers["Location"]))
    assert "Proposal submitted: it is now public." in page
    assert f"/consultations/{SLUG}/propositions/{proposal.id}" in page  # the public page


def test_submit_creates_and_submits_in_one_go(contributor_client, db, produire):
    db.session.commit()
    response = contributor_client.post(f"{BASE}/nouvelle", data=_form(produire.id, action="submit"))
    assert response.status_code == 302
    proposal = _only_proposal(db)
    assert proposal.status is ProposalStatus.SUBMITTED
    assert [revision.number for revision in proposal.revisions] == [1]


def test_each_edit_of_a_submitted_proposal_is_kept_as_a_revision(
    contributor_client, db, consultation, produire
):
    proposal = make_proposal(consultation, author=contributor_client.user)
    db.session.commit()
    page = _text(contributor_client.get(f"{BASE}/{proposal.id}/modifier"))
    assert "each saved change is kept as a new revision" in page
    assert "Save the changes" in page and 'value="submit"' not in page
    for number, title in ((2, "Première reprise"), (3, "Seconde reprise")):
        response = contributor_client.post(
            f"{BASE}/{proposal.id}/modifier", data=_form(produire.id, title=title)
        )
        assert response.status_code == 302
        page = _text(contributor_client.get(response.headers["Location"]))
        assert f"Changes saved (revision {number})." in page
    db.session.expire_all()
    revisions = db.session.scalars(
        select(ProposalRevision)
        .where(ProposalRevision.proposal_id == proposal.id)
        .order_by(ProposalRevision.number)
    ).all()
    assert [(r.number, r.title) for r in revisions][1:] == [
        (2, "Première reprise"),
        (3, "Seconde reprise"),
    ]
    assert db.session.get(Proposal, proposal.id).status is ProposalStatus.SUBMITTED


def test_preview_without_javascript_renders_the_markdown_and_saves_nothing(
    contributor_client, db, produire
):
    db.session.commit()
    data = _form(produire.id, action="preview", body="Du **gras** et <script>alert(1)</script>")
    response = contributor_client.post(f"{BASE}/nouvelle", data=data)
    assert response.status_code == 200
    page = _text(response)
    assert "<p>Du <strong>gras</strong> et &lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert "<script>alert(1)</script>" not in page
    assert "<em>plafonné</em>" in page  # the summary's preview
    assert _count(db) == 0


def test_the_debate_form_links_a_held_debate_to_the_proposal_form(editor_client, db, consultation):
    held = make_debate(consultation, status=DebateStatus.HELD)
    published = make_debate(consultation)
    db.session.commit()
    link = f"{BASE}/nouvelle?debat={held.id}"
    page = _text(editor_client.get(f"/gestion/consultations/{SLUG}/debats/{held.id}"))
    assert "Record a proposal from this debate" in page and link in page
    page = _text(editor_client.get(f"/gestion/consultations/{SLUG}/debats/{published.id}"))
    assert "Record a proposal from this debate" not in page


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "   "}, "This field is required."),
        ({"title": "x" * (TITLE_MAX + 1)}, f"Field cannot be longer than {TITLE_MAX} characters."),
        ({"body": "x" * (BODY_MAX + 1)}, f"Field cannot be longer than {BODY_MAX} characters."),
        ({"theme_id": "999999"}, "Choose one of the consultation&#39;s themes."),
        ({"theme_id": "abc"}, "Choose one of the consultation&#39;s themes."),
        ({"debate_id": "999999"}, "Choose one of the consultation&#39;s debates."),
        ({"action": "publish"}, "Use one of the form&#39;s buttons to send it."),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_kept(
    contributor_client, db, produire, changes, message
):
    db.session.commit()
    data = _form(**{"theme_id": produire.id, **changes})
    response = contributor_client.post(f"{BASE}/nouvelle", data=data)
    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert 'aria-invalid="true"' in page or "form-errors" in page
    assert "Un loyer *plafonné* pour dix ans." in page  # what was typed is kept
    assert _count(db) == 0


def test_a_theme_or_debate_of_another_consultation_is_refused(
    contributor_client, db, consultation, produire
):
    other = factories.make_consultation()
    foreign_theme = theme(other, "ailleurs")
    foreign_debate = make_debate(other, status=DebateStatus.HELD)
    db.session.commit()
    response = contributor_client.post(f"{BASE}/nouvelle", data=_form(foreign_theme.id))
    assert response.status_code == 400
    assert "Choose one of the consultation&#39;s themes." in _text(response)
    response = contributor_client.post(
        f"{BASE}/nouvelle", data=_form(produire.id, debate_id=foreign_debate.id)
    )
    assert response.status_code == 400
    assert "Choose one of the consultation&#39;s debates." in _text(response)
    assert _count(db) == 0


def test_an_incomplete_draft_is_not_submitted(contributor_client, db, consultation, produire):
    db.session.commit()
    response = contributor_client.post(
        f"{BASE}/nouvelle", data=_form(produire.id, summary="", action="submit")
    )
    assert response.status_code == 400
    assert "Write a short summary before submitting." in _text(response)
    assert _count(db) == 0  # nothing half-done: the draft is not kept either

    draft = make_proposal(
        consultation, author=contributor_client.user, status="draft", summary="", theme_id=None
    )
    db.session.commit()
    response = contributor_client.post(f"{BASE}/{draft.id}/deposer", data={})
    assert response.status_code == 400
    page = _text(response)
    assert "Write a short summary before submitting." in page
    assert f'action="{BASE}/{draft.id}/modifier"' in page  # the edit form, filled
    assert "Construire davantage de logements sociaux" in page
    db.session.expire_all()
    assert db.session.get(Proposal, draft.id).status is ProposalStatus.DRAFT


def test_a_proposal_is_not_submitted_twice(contributor_client, db, consultation):
    proposal = make_proposal(consultation, author=contributor_client.user)
    db.session.commit()
    response = contributor_client.post(f"{BASE}/{proposal.id}/deposer", data={})
    assert response.status_code == 409
    assert "This proposal has already been submitted." in _text(response)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("deadline", "The deadline for proposals has passed."),
        ("phase", "Proposals are received during the concertation phase only."),
    ],
)
def test_nothing_is_saved_after_the_deadline_or_outside_the_concertation(
    contributor_client, db, consultation, produire, setup, message
):
    draft = make_proposal(consultation, author=contributor_client.user, status="draft")
    submitted = make_proposal(consultation, author=contributor_client.user)
    if setup == "deadline":
        consultation.proposal_deadline = utcnow() - timedelta(hours=1)
    else:
        consultation.phase = "synthese"
    db.session.commit()
    typed = _form(produire.id, title="Un titre tapé tard", action="submit")
    for url in (
        f"{BASE}/nouvelle",
        f"{BASE}/{draft.id}/modifier",
        f"{BASE}/{submitted.id}/modifier",
    ):
        response = contributor_client.post(url, data=typed)
        assert response.status_code == 409, url
        page = _text(response)
        assert message in page, url
        assert "Un titre tapé tard" in page and "Un loyer *plafonné* pour dix ans." in page
    response = contributor_client.post(f"{BASE}/{draft.id}/deposer", data={})
    assert response.status_code == 409
    assert message in _text(response)
    assert message in _text(contributor_client.get(f"{BASE}/nouvelle"))  # said upfront
    db.session.expire_all()
    assert db.session.get(Proposal, draft.id).status is ProposalStatus.DRAFT
    assert db.session.get(Proposal, submitted.id).revision_count == 1
    assert _count(db) == 2


def test_another_organisations_proposal_is_not_found(contributor_client, db, consultation):
    draft = make_proposal(consultation, status="draft")
    submitted = make_proposal(consultation)
    db.session.commit()
    for proposal in (draft, submitted):
        edit = f"{BASE}/{proposal.id}/modifier"
        assert contributor_client.get(edit).status_code == 404
        assert contributor_client.post(edit, data=_form()).status_code == 404
        assert contributor_client.post(f"{BASE}/{proposal.id}/deposer").status_code == 404
    assert contributor_client.get(f"{BASE}/999999/modifier").status_code == 404
    # Nor through another consultation's address.
    mine = make_proposal(consultation, author=contributor_client.user, status="draft")
    factories.make_consultation(slug="autre")
    db.session.commit()
    assert (
        contributor_client.get(
            f"/gestion/consultations/autre/propositions/{mine.id}/modifier"
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(Proposal, draft.id).status is ProposalStatus.DRAFT


def test_a_moderated_proposal_is_shown_read_only(contributor_client, db, consultation):
    proposal = make_proposal(consultation, author=contributor_client.user, status="rejected")
    db.session.commit()
    response = contributor_client.get(f"{BASE}/{proposal.id}/modifier")
    assert response.status_code == 200
    page = _text(response)
    assert "it can no longer be changed" in page and "Hors sujet." in page
    assert 'name="action"' not in page and "proposal-form.js" not in page
    response = contributor_client.post(f"{BASE}/{proposal.id}/modifier", data=_form(title="Non"))
    assert response.status_code == 409
    assert "A moderated proposal can no longer be changed." in _text(response)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).title != "Non"


# --- Regional editors ----------------------------------------------------------------------


def test_an_editor_records_a_proposal_from_a_held_debate_of_their_region(
    editor_client, db, consultation, produire
):
    held = make_debate(consultation, status=DebateStatus.HELD, title="Débat d'Angers")
    make_debate(consultation, region_code="11", status=DebateStatus.HELD, title="Débat de Paris")
    make_debate(consultation, title="Débat à venir")
    db.session.commit()
    page = _text(editor_client.get(f"{BASE}/nouvelle?debat={held.id}"))
    assert re.search(rf'<option selected value="{held.id}">Débat d&#39;Angers', page)
    assert "Débat de Paris" not in page and "Débat à venir" not in page
    assert "(required)" in page

    response = editor_client.post(f"{BASE}/nouvelle", data=_form(produire.id, debate_id=held.id))
    assert response.status_code == 302, _text(response)
    proposal = _only_proposal(db)
    assert proposal.source_kind is SourceKind.DEBAT_REGIONAL
    assert (proposal.debate_id, proposal.region_code) == (held.id, "52")
    assert proposal.organisation_id == editor_client.user.organisation_id


@pytest.mark.parametrize(
    ("debate", "message"),
    [
        ("other_region", "Choose a debate of your region."),
        ("not_held", "Mark the debate as held before recording its proposals."),
        ("none", "Choose the debate the proposal came out of."),
        ("cancelled", "Choose one of the consultation&#39;s debates."),
    ],
)
def test_an_editor_is_refused_other_debates(
    editor_client, db, consultation, produire, debate, message
):
    debates = {
        "other_region": make_debate(consultation, region_code="11", status=DebateStatus.HELD).id,
        "not_held": make_debate(consultation).id,
        "cancelled": make_debate(consultation, status=DebateStatus.CANCELLED).id,
        "none": "",
    }
    db.session.commit()
    response = editor_client.post(
        f"{BASE}/nouvelle", data=_form(produire.id, debate_id=debates[debate])
    )
    assert response.status_code == 400
    assert message in _text(response)
    assert _count(db) == 0


def test_a_contributor_may_link_a_public_debate(contributor_client, db, consultation, produire):
    debate = make_debate(consultation, region_code="11")
    make_debate(consultation, status=DebateStatus.DRAFT, title="Débat en préparation")
    db.session.commit()
    page = _text(contributor_client.get(f"{BASE}/nouvelle"))
    assert debate.title in page and "Débat en préparation" not in page
    response = contributor_client.post(
        f"{BASE}/nouvelle", data=_form(produire.id, debate_id=debate.id)
    )
    assert response.status_code == 302
    proposal = _only_proposal(db)
    assert (proposal.source_kind, proposal.region_code) == (SourceKind.DEBAT_REGIONAL, "11")


# --- The organisation's list ---------------------------------------------------------------


def test_the_list_shows_the_organisations_proposals_drafts_included(
    contributor_client, db, consultation
):
    mine_draft = make_proposal(
        consultation, author=contributor_client.user, status="draft", title="Mon brouillon"
    )
    colleague = factories.make_user(
        "contributor", organisation=contributor_client.user.organisation
    )
    submitted = make_proposal(consultation, author=colleague, title="Déposée par une collègue")
    accepted = make_proposal(
        consultation, author=colleague, status="accepted", title="Retenue par l'USH"
    )
    make_proposal(consultation, title="Celle d'un autre organisme")
    db.session.commit()
    page = _text(contributor_client.get(BASE))
    assert "Mon brouillon" in page and "Déposée par une collègue" in page
    assert "Celle d&#39;un autre organisme" not in page
    assert f"{BASE}/{mine_draft.id}/modifier" in page
    assert f"{BASE}/{mine_draft.id}/deposer" in page  # a draft may be submitted from here
    assert f"{BASE}/{submitted.id}/modifier" in page  # editable until the deadline
    assert f"{BASE}/{accepted.id}/modifier" not in page  # moderated
    assert f"/consultations/{SLUG}/propositions/{submitted.id}" in page
    assert f'/consultations/{SLUG}/propositions/{mine_draft.id}"' not in page
    assert "Draft" in page and "Submitted" in page and "Accepted" in page
    assert "Hlm organisation" in page and "New proposal" in page


def test_an_editor_lists_the_held_debates_of_their_region(editor_client, db, consultation):
    held = make_debate(consultation, status=DebateStatus.HELD, title="Débat tenu")
    make_debate(consultation, region_code="11", status=DebateStatus.HELD, title="Débat voisin")
    db.session.commit()
    page = _text(editor_client.get(BASE))
    assert "Débat tenu" in page and f"{BASE}/nouvelle?debat={held.id}" in page
    assert "Débat voisin" not in page


def test_the_list_runs_a_constant_number_of_queries(
    app, editor_client, db, consultation, count_queries
):
    app.config["PAGE_CACHE_ENABLED"] = False
    user = editor_client.user
    debate = make_debate(consultation, status=DebateStatus.HELD)
    make_proposal(consultation, author=user, debate_id=debate.id)
    db.session.commit()
    with count_queries() as few:
        assert editor_client.get(BASE).status_code == 200
    for number in range(8):
        debate = make_debate(consultation, status=DebateStatus.HELD)
        status = "draft" if number % 2 else "submitted"
        make_proposal(
            consultation,
            author=user,
            status=status,
            debate_id=debate.id,
            theme_id=theme(consultation).id,
        )
    db.session.commit()
    with count_queries() as many:
        assert editor_client.get(BASE).status_code == 200
    assert len(many) == len(few)


def test_an_editor_without_a_held_debate_is_told_what_to_do_first(editor_client, db, consultation):
    make_debate(consultation)  # published, not yet held
    db.session.commit()
    page = _text(editor_client.get(f"{BASE}/nouvelle"))
    assert "No debate of your region has been held yet" in page
    assert "No debate of your region has been held yet" in _text(editor_client.get(BASE))

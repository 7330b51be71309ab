"""Public proposal pages: the list with its search, filters, sorting and pagination; the detail
page of each state; the revisions; the links from debates and the consultation's home."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consultation.accounts.models import OrganisationKind
from consultation.core.models import utcnow
from consultation.debates.models import DebateStatus
from consultation.extensions import db as _db
from consultation.proposals import services
from tests import factories
from tests.debates.helpers import make_debate
from tests.proposals.helpers import make_proposal, proposal_input, theme

LIST = "/consultations/ue2/propositions"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _text(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def _titles(page: str) -> list[str]:
    """The titles of the listed proposals, in order."""
    return re.findall(r'<h3><a href="/consultations/ue2/propositions/\d+">([^<]*)</a></h3>', page)


def _debate_proposal(consultation, debate, **fields):
    editor = factories.make_user("regional_editor", region_code=debate.region_code)
    return make_proposal(consultation, author=editor, debate_id=debate.id, **fields)


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_public_proposals_with_their_details(client, db, consultation):
    organisation = factories.make_organisation(name="Habitat 44", region_code="52")
    make_proposal(
        consultation,
        organisation=organisation,
        title="Loger les jeunes actifs",
        summary="Des résidences pour les apprentis.",
        theme_id=theme(consultation, "jeunes", "Jeunesse").id,
    )
    make_proposal(consultation, title="Brouillon secret", status="draft")
    db.session.commit()
    page = _text(client.get(LIST))
    assert _titles(page) == ["Loger les jeunes actifs"]
    assert "Des résidences pour les apprentis." in page
    assert "Habitat 44" in page and "Hlm organisation" in page
    assert "Pays de la Loire" in page and "Jeunesse" in page
    assert "Submitted" in page and "0 co-signatures" in page
    assert "1 proposal<" in page
    assert "Brouillon secret" not in page
    for label in ("Search the proposals", "Theme", "Region", "Source", "Status", "Sort by"):
        assert label in page
    assert f'href="{LIST}.csv"' in page and f'href="{LIST}.json"' in page


def test_drafts_are_never_listed_even_to_their_organisation(db, consultation, sign_in):
    author = factories.make_user("contributor")
    make_proposal(consultation, author=author, title="Brouillon secret", status="draft")
    db.session.commit()
    for client in (sign_in(author), sign_in("admin")):
        page = _text(client.get(LIST))
        assert "Brouillon secret" not in page
        assert "0 proposals" in page
    assert "Brouillon secret" not in _text(sign_in("admin").get(f"{LIST}?q=brouillon"))


def test_filters_by_theme_region_source_and_status_alone_and_combined(client, db, consultation):
    housing = theme(consultation, "habitat", "Habitat")
    energy = theme(consultation, "energie", "Énergie")
    in_pdl = factories.make_organisation(region_code="52")
    in_idf = factories.make_organisation(region_code="11")
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION, region_code=None)
    social = factories.make_organisation(kind=OrganisationKind.CONSEIL_SOCIAL, region_code=None)
    debate = make_debate(consultation, "84", status=DebateStatus.HELD)
    make_proposal(consultation, organisation=in_pdl, title="Nantes habitat", theme_id=housing.id)
    make_proposal(consultation, organisation=in_idf, title="Paris énergie", theme_id=energy.id)
    make_proposal(
        consultation, organisation=in_idf, title="Paris habitat", theme_id=housing.id
    ).accept(utcnow())
    make_proposal(consultation, organisation=commission, title="Commission", theme_id=energy.id)
    make_proposal(consultation, organisation=social, title="Conseil social", theme_id=energy.id)
    _debate_proposal(consultation, debate, title="Débat Lyon", theme_id=housing.id)
    db.session.commit()

    def titles(query: str) -> set[str]:
        return set(_titles(_text(client.get(f"{LIST}?{query}"))))

    assert titles("theme=habitat") == {"Nantes habitat", "Paris habitat", "Débat Lyon"}
    assert titles("region=11") == {"Paris énergie", "Paris habitat"}
    assert titles("region=84") == {"Débat Lyon"}
    assert titles("source=commission") == {"Commission"}
    assert titles("source=conseil_social") == {"Conseil social"}
    assert titles("source=debat_regional") == {"Débat Lyon"}
    assert titles("source=organisme") == {"Nantes habitat", "Paris énergie", "Paris habitat"}
    assert titles("status=accepted") == {"Paris habitat"}
    assert titles("status=rejected") == set()
    assert titles("theme=habitat&region=11") == {"Paris habitat"}
    assert titles("theme=habitat&source=organisme&status=submitted") == {"Nantes habitat"}
    assert titles("q=habitat&region=11") == {"Paris habitat"}
    assert titles("theme=energie&source=debat_regional") == set()
    # Empty values mean "all", as the selects send them.
    assert len(titles("theme=&region=&source=&status=&sort=&q=")) == 6


def test_the_filter_form_keeps_the_chosen_values(client, db, consultation):
    theme(consultation, "habitat", "Habitat")
    db.session.commit()
    page = _text(client.get(f"{LIST}?theme=habitat&region=52&source=commission&sort=recent"))
    assert '<option value="habitat" selected>' in page
    assert '<option value="52" selected>' in page
    assert '<option value="commission" selected>' in page
    assert '<option value="recent" selected>' in page
    assert f"{LIST}.csv?theme=habitat&amp;region=52&amp;source=commission&amp;sort=recent" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("theme=inconnu", "There is no theme “inconnu”."),
        ("region=99", "There is no region with the code “99”."),
        ("source=ministere", "“ministere” is not a source of proposals."),
        ("status=draft", "“draft” is not a proposal status."),
        ("status=perdu", "“perdu” is not a proposal status."),
        ("sort=alphabet", "“alphabet” is not a sort order."),
    ],
)
def test_unknown_filters_are_a_readable_400(client, db, consultation, query, message):
    db.session.commit()
    for path in (LIST, f"{LIST}.csv", f"{LIST}.json"):
        response = client.get(f"{path}?{query}", headers={"Accept": "text/html"})
        assert message in _text(response, 400), path


def test_a_theme_of_another_consultation_is_unknown(client, db, consultation):
    theme(factories.make_consultation(), "ailleurs")
    db.session.commit()
    assert "There is no theme “ailleurs”." in _text(client.get(f"{LIST}?theme=ailleurs"), 400)


# --- Search --------------------------------------------------------------------------------


def test_search_is_stemmed_and_accent_insensitive(client, db, consultation):
    make_proposal(consultation, title="Un logement pour chacun", body="Texte.", summary="Résumé.")
    make_proposal(
        consultation, title="La transition écologique", body="Isoler.", summary="Rénover."
    )
    make_proposal(consultation, title="Une oeuvre commune", body="Ensemble.", summary="Unir.")
    make_proposal(consultation, title="Autre chose", body="Rien.", summary="Rien.")
    db.session.commit()

    def titles(query: str) -> list[str]:
        return _titles(_text(client.get(LIST, query_string={"q": query})))

    assert titles("logements") == ["Un logement pour chacun"]
    assert titles("LOGEMENT") == ["Un logement pour chacun"]
    assert titles("ecologique") == ["La transition écologique"]
    assert titles("écologiques") == ["La transition écologique"]
    assert titles("Œuvre") == ["Une oeuvre commune"]
    assert titles("œuvres communes") == ["Une oeuvre commune"]
    assert titles("logement écologique") == []  # every word must match


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""logement',
        "logement*",
        "*",
        "NEAR(logement social, 2)",
        "NEAR(",
        "logement AND OR NOT social",
        "AND",
        "-logement",
        "^logement",
        "title:logement",
        ":",
        'logement" OR 1=1 --',
        "'; DROP TABLE proposal; --",
        "(((",
        "logement & | ! <-> :*",
        "le la les de",  # only stop words
        "\u0000\ufeff\u200b",
        "é" * 500,
    ],
)
def test_fts_operators_and_quotes_never_break_the_search(client, db, consultation, query):
    make_proposal(consultation, title="Un logement social", body="Des logements.")
    db.session.commit()
    page = _text(client.get(LIST, query_string={"q": query}))
    assert "proposal" in page
    for path in (f"{LIST}.csv", f"{LIST}.json", "/api/v1/consultations/ue2/proposals"):
        assert client.get(path, query_string={"q": query}).status_code == 200, path


def test_relevance_and_recent_orders(client, db, consultation):
    now = utcnow()
    best = make_proposal(
        consultation,
        title="Logement logement des jeunes",
        summary="Le logement des jeunes.",
        body="Logement.",
    )
    weak = make_proposal(
        consultation, title="Mobilité", summary="Transports.", body="Se loger près du logement."
    )
    best.submitted_at = now - timedelta(days=3)
    weak.submitted_at = now - timedelta(days=1)
    db.session.commit()
    assert _titles(_text(client.get(f"{LIST}?q=logement"))) == [best.title, weak.title]
    recent = _titles(_text(client.get(f"{LIST}?q=logement&sort=recent")))
    assert recent == [weak.title, best.title]
    # Without a search, the most recent come first.
    assert _titles(_text(client.get(LIST))) == [weak.title, best.title]


def test_pagination_keeps_the_search_and_filters(client, db, consultation):
    start = utcnow() - timedelta(days=30)
    for number in range(23):
        proposal = make_proposal(
            consultation, title=f"Logement {number:02d}", summary="Un logement.", body="Texte."
        )
        proposal.submitted_at = start + timedelta(hours=number)
    make_proposal(consultation, title="Mobilité", summary="Autre.", body="Autre.")
    db.session.commit()
    first = _text(client.get(f"{LIST}?q=logement&sort=recent&region=52"))
    assert "23 proposals" in first
    assert _titles(first)[:2] == ["Logement 22", "Logement 21"] and len(_titles(first)) == 20
    assert "Page 1 of 2" in first
    assert f"{LIST}?page=2&amp;q=logement&amp;region=52&amp;sort=recent" in first
    second = _text(client.get(f"{LIST}?page=2&q=logement&region=52&sort=recent"))
    assert _titles(second) == ["Logement 02", "Logement 01", "Logement 00"]
    assert client.get(f"{LIST}?page=3&q=logement").status_code == 404
    assert client.get(f"{LIST}?page=zero").status_code == 404


def test_the_list_counts_co_signatures(client, db, consultation):
    proposal = make_proposal(consultation, title="Soutenue")
    for _ in range(3):
        services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())
    db.session.commit()
    assert "3 co-signatures" in _text(client.get(LIST))


def test_an_unknown_consultation_is_not_found(client, db):
    for path in ("", ".csv", ".json", "/1", "/1/versions"):
        assert client.get(f"/consultations/nope/propositions{path}").status_code == 404


# --- The detail page -----------------------------------------------------------------------


def test_the_detail_page_shows_everything_about_a_submitted_proposal(client, db, consultation):
    organisation = factories.make_organisation(name="Habitat 44", region_code="52")
    proposal = make_proposal(
        consultation,
        organisation=organisation,
        title="Loger les jeunes",
        summary="Un *résumé*.",
        body="Le **corps** du texte.",
        rationale="Parce que `2 millions`.",
        theme_id=theme(consultation, "jeunes", "Jeunesse").id,
    )
    db.session.commit()
    page = _text(client.get(f"{LIST}/{proposal.id}"))
    assert "<h1>Loger les jeunes</h1>" in page
    assert "Hlm organisation" in page and "Habitat 44" in page
    assert "Pays de la Loire" in page and "Jeunesse" in page and "Submitted" in page
    assert "<em>résumé</em>" in page and "<strong>corps</strong>" in page
    assert "<code>2 millions</code>" in page
    assert "No organisation has co-signed this proposal yet." in page
    assert f"{LIST}/{proposal.id}/versions" in page
    assert "Co-sign on behalf" not in page and "Edit this proposal" not in page
    assert "Moderate this proposal" not in page
    assert proposal.author.display_name not in page and proposal.author.email not in page


def test_a_debate_proposal_links_to_its_debate(client, db, consultation):
    debate = make_debate(consultation, "84", status=DebateStatus.HELD, title="Débat de Lyon")
    proposal = _debate_proposal(consultation, debate, title="Issue du débat")
    db.session.commit()
    page = _text(client.get(f"{LIST}/{proposal.id}"))
    assert "Regional debate" in page and "Auvergne-Rhône-Alpes" in page
    assert f'href="/consultations/ue2/debats/{debate.id}">Débat de Lyon</a>' in page


def test_accepted_and_rejected_proposals_show_their_state_and_reason(client, db, consultation):
    accepted = make_proposal(consultation, status="accepted", title="Retenue")
    rejected = make_proposal(consultation, status="rejected", title="Écartée")
    db.session.commit()
    assert "Accepted" in _text(client.get(f"{LIST}/{accepted.id}"))
    page = _text(client.get(f"{LIST}/{rejected.id}"))
    assert "Rejected" in page and "This proposal was not retained." in page
    assert "Hors sujet." in page


def test_a_merged_proposal_points_to_its_target_which_lists_it(client, db, consultation):
    target = make_proposal(consultation, title="La cible")
    merged = make_proposal(consultation, status="merged", merged_into=target, title="Fusionnée")
    services.cosign_proposal(target, factories.make_user("contributor"), utcnow())
    db.session.commit()
    page = _text(client.get(f"{LIST}/{merged.id}"))
    assert "Merged" in page and "This proposal was merged into" in page
    assert f'href="{LIST}/{target.id}">proposal no. {target.id}: La cible</a>' in page
    assert "Le **corps**" not in page  # its text is still there, rendered
    page = _text(client.get(f"{LIST}/{target.id}"))
    assert "Proposals merged into this one" in page
    assert f'href="{LIST}/{merged.id}">No. {merged.id}: Fusionnée</a>' in page
    # Both stay listed: nothing disappears with a merge.
    assert set(_titles(_text(client.get(LIST)))) == {"La cible", "Fusionnée"}


def test_a_draft_is_seen_only_by_its_organisation_and_staff(db, consultation, client, sign_in):
    author = factories.make_user("contributor")
    colleague = factories.make_user("contributor", organisation=author.organisation)
    draft = make_proposal(consultation, author=author, status="draft", title="Brouillon")
    db.session.commit()
    url = f"{LIST}/{draft.id}"
    assert client.get(url).status_code == 404
    assert sign_in("contributor").get(url).status_code == 404
    assert sign_in("regional_editor").get(url).status_code == 404
    assert sign_in("juror").get(url).status_code == 404
    page = _text(sign_in(colleague).get(url))
    assert "Brouillon" in page and "Draft: only your organisation" in page
    assert "Edit this proposal" in page
    assert _text(sign_in("admin").get(url))
    assert client.get(f"{url}/versions").status_code == 404


def test_a_proposal_of_another_consultation_is_not_found(client, db, consultation):
    other = make_proposal(factories.make_consultation())
    db.session.commit()
    assert client.get(f"{LIST}/{other.id}").status_code == 404
    assert client.get(f"{LIST}/{other.id}/versions").status_code == 404
    assert client.get(f"{LIST}/999999").status_code == 404


def test_authors_get_an_edit_link_and_staff_a_moderation_link(db, consultation, sign_in):
    author = factories.make_user("contributor")
    proposal = make_proposal(consultation, author=author)
    db.session.commit()
    url = f"{LIST}/{proposal.id}"
    page = _text(sign_in(author).get(url))
    assert "Edit this proposal" in page and "Co-sign on behalf" not in page
    page = _text(sign_in("admin").get(url))
    assert "Edit this proposal" not in page
    assert "Moderate this proposal" in page
    assert f"/{proposal.id}" in page


def test_the_detail_page_counts_co_signatures_by_source_kind(client, db, consultation):
    proposal = make_proposal(consultation)
    signers = [
        factories.make_organisation(name="Office A"),
        factories.make_organisation(name="Office B"),
        factories.make_organisation(kind=OrganisationKind.COMMISSION, name="Commission X"),
        factories.make_organisation(kind=OrganisationKind.CONSEIL_SOCIAL, name="Le Conseil"),
    ]
    for organisation in signers:
        user = factories.make_user("contributor", organisation=organisation)
        services.cosign_proposal(proposal, user, utcnow())
    db.session.commit()
    page = _text(client.get(f"{LIST}/{proposal.id}"))
    assert "Co-signatures (4)" in page
    assert 'Hlm organisation: <span class="cosignature-count">2</span>' in page
    assert 'USH working commission: <span class="cosignature-count">1</span>' in page
    assert 'USH Conseil social: <span class="cosignature-count">1</span>' in page
    assert "Regional debate:" not in page
    for organisation in signers:
        assert organisation.name in page


# --- Revisions -----------------------------------------------------------------------------


def test_the_revisions_show_each_text_and_what_changed(client, db, consultation):
    author = factories.make_user("contributor", display_name="Jeanne Secrète")
    proposal = make_proposal(consultation, author=author, title="Première version")
    services.update_proposal(
        proposal,
        proposal_input(consultation, title="Seconde version", body="Un **nouveau** corps."),
        author,
        utcnow(),
    )
    db.session.commit()
    assert proposal.revision_count == 2
    page = _text(client.get(f"{LIST}/{proposal.id}/versions"))
    assert "Version 1" in page and "Version 2" in page
    assert "Première version" in page and "Seconde version" in page
    assert "<strong>nouveau</strong>" in page
    second = page.split('id="version-2"')[1].split('id="version-1"')[0]
    assert "Changed:" in second
    assert '<span class="tag tag-changed">Title</span>' in second
    assert '<span class="tag tag-changed">The proposal</span>' in second
    assert '<span class="tag tag-changed">Summary</span>' not in second
    assert "The text as submitted." in page.split('id="version-1"')[1]
    assert "Jeanne Secrète" not in page and author.email not in page
    assert proposal.organisation.name in page


# --- Query counts --------------------------------------------------------------------------


def _grow(consultation, number: int) -> None:
    """More proposals of every kind, co-signed, some merged into others."""
    debate = make_debate(consultation, "11", status=DebateStatus.HELD)
    previous = None
    for index in range(number):
        organisation = factories.make_organisation(
            kind=(OrganisationKind.ORGANISME, OrganisationKind.COMMISSION)[index % 2],
            region_code=("52", "11", "84")[index % 3],
        )
        if index % 4 == 3:
            proposal = _debate_proposal(consultation, debate, title=f"Logement {index}")
        else:
            proposal = make_proposal(
                consultation, organisation=organisation, title=f"Logement {index}"
            )
        for _ in range(2):
            services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())
        if previous is not None and index % 5 == 0:
            previous.merge_into(proposal, "", utcnow())
        previous = proposal


@pytest.mark.parametrize(
    "query", ["", "?q=logements&theme=produire&region=52&source=organisme&sort=recent"]
)
def test_the_list_makes_a_constant_number_of_queries(
    app, client, db, consultation, count_queries, query
):
    app.config["PAGE_CACHE_ENABLED"] = False  # count the queries of a rendering
    _grow(consultation, 2)
    db.session.commit()
    with count_queries() as few:
        _text(client.get(f"{LIST}{query}"))
    _grow(consultation, 30)
    db.session.commit()
    with count_queries() as many:
        page = _text(client.get(f"{LIST}{query}"))
    assert len(_titles(page)) >= 3
    assert len(many) == len(few)


def _count_each(urls, client, count_queries) -> list[int]:
    """The number of queries of each page."""
    numbers = []
    for url in urls:
        # Requests share the test's session: start each from expired objects, as in production.
        _db.session.expire_all()
        with count_queries() as counted:
            _text(client.get(url))
        numbers.append(len(counted))
    return numbers


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_detail_page_makes_a_constant_number_of_queries(
    app, db, consultation, count_queries, client, sign_in, signed_in
):
    app.config["PAGE_CACHE_ENABLED"] = False
    debate = make_debate(consultation, "52", status=DebateStatus.HELD)
    target = _debate_proposal(consultation, debate)
    merged = make_proposal(consultation, status="merged", merged_into=target)
    services.cosign_proposal(target, factories.make_user("contributor"), utcnow())
    visitor = sign_in("contributor") if signed_in else client
    db.session.commit()
    urls = (f"{LIST}/{target.id}", f"{LIST}/{merged.id}", f"{LIST}/{target.id}/versions")
    few = _count_each(urls, visitor, count_queries)
    for kind in (OrganisationKind.ORGANISME, OrganisationKind.COMMISSION) * 10:
        organisation = factories.make_organisation(kind=kind)
        user = factories.make_user("contributor", organisation=organisation)
        services.cosign_proposal(target, user, utcnow())
        make_proposal(consultation, status="merged", merged_into=target)
    db.session.commit()
    many = _count_each(urls, visitor, count_queries)
    assert many == few


# --- Debates and the consultation's home ---------------------------------------------------


def test_a_held_debate_lists_the_proposals_that_came_out_of_it(client, db, consultation):
    debate = make_debate(consultation, "52", status=DebateStatus.HELD)
    first = _debate_proposal(consultation, debate, title="Première issue")
    _debate_proposal(consultation, debate, title="Brouillon du débat", status="draft")
    make_proposal(consultation, title="Sans débat")
    db.session.commit()
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "Proposals that came out of this debate" in page
    assert f'href="{LIST}/{first.id}">Première issue</a>' in page
    assert "Brouillon du débat" not in page and "Sans débat" not in page


def test_a_held_debate_without_proposals_says_so(client, db, consultation):
    debate = make_debate(consultation, "52", status=DebateStatus.HELD)
    upcoming = make_debate(consultation, "52")
    db.session.commit()
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "No proposal has been recorded for this debate yet." in page
    page = _text(client.get(f"/consultations/ue2/debats/{upcoming.id}"))
    assert "Proposals that came out of this debate" not in page


def test_the_debate_page_query_count_does_not_grow_with_its_proposals(
    app, client, db, consultation, count_queries
):
    app.config["PAGE_CACHE_ENABLED"] = False
    debate = make_debate(consultation, "52", status=DebateStatus.HELD)
    _debate_proposal(consultation, debate)
    db.session.commit()
    url = f"/consultations/ue2/debats/{debate.id}"
    [few] = _count_each([url], client, count_queries)
    for _ in range(8):
        _debate_proposal(consultation, debate, theme_id=theme(consultation).id)
    db.session.commit()
    assert _text(client.get(url)).count(f'href="{LIST}/') == 9
    assert _count_each([url], client, count_queries) == [few]


def test_the_home_links_to_the_proposals_and_counts_them(client, db, consultation):
    make_proposal(consultation)
    make_proposal(consultation, status="accepted")
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION)
    make_proposal(consultation, organisation=commission)
    make_proposal(consultation, status="draft")
    db.session.commit()
    page = _text(client.get("/consultations/ue2/"))
    assert f'href="{LIST}"' in page

    def figure(label: str, value: int) -> str:
        return (
            f'<span class="figure-value">{value}</span> <span class="figure-label">{label}</span>'
        )

    assert figure("public proposals", 3) in page
    assert figure("proposals from Hlm organisations", 2) in page
    assert figure("proposals from USH working commissions", 1) in page
    assert figure("proposals from regional debates", 0) in page


def test_the_cached_list_and_page_are_never_stale(client, db, consultation):
    proposal = make_proposal(consultation, title="Première")
    db.session.commit()
    assert "0 co-signatures" in _text(client.get(LIST))
    assert "Co-signatures (0)" in _text(client.get(f"{LIST}/{proposal.id}"))
    services.cosign_proposal(proposal, factories.make_user("contributor"), utcnow())
    make_proposal(consultation, title="Seconde")
    _db.session.commit()
    page = _text(client.get(LIST))
    assert "Seconde" in page and "1 co-signature<" in page
    assert "Co-signatures (1)" in _text(client.get(f"{LIST}/{proposal.id}"))

"""The form's helpers: the Markdown preview (rendered and sanitised as pages render it,
CSRF-protected, length-limited) and the list of similar proposals (ranked by the index)."""

from __future__ import annotations

import re

import pytest

from consultation.proposals.models import BODY_MAX
from tests import factories
from tests.proposals.helpers import make_proposal

SLUG = "ue2"
BASE = f"/gestion/consultations/{SLUG}/propositions"


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug=SLUG)


def _preview(client, text: str, **kwargs):
    return client.post(f"{BASE}/apercu", data={"text": text}, **kwargs)


def test_the_preview_renders_markdown_as_pages_do(contributor_client, db, consultation):
    db.session.commit()
    response = _preview(contributor_client, "Un **logement** pour *tous* :\n\n- digne\n- abordable")
    assert response.status_code == 200
    assert response.is_json
    html = response.get_json()["html"]
    assert "<strong>logement</strong>" in html and "<em>tous</em>" in html
    assert "<li>digne</li>" in html
    assert _preview(contributor_client, "").get_json() == {"html": ""}


def test_the_preview_strips_scripts_and_javascript_links(contributor_client, db, consultation):
    db.session.commit()
    source = (
        "<script>alert('x')</script>\n\n"
        "[cliquez](javascript:alert(1)) et [là](https://example.org)\n\n"
        '<a href="javascript:alert(2)">brut</a> <img src=x onerror=alert(3)>'
    )
    html = _preview(contributor_client, source).get_json()["html"]
    assert "<script" not in html and "<img" not in html
    assert not re.search(r"<a [^>]*javascript", html)  # the link is kept, its target dropped
    assert '<a rel="nofollow noopener noreferrer">cliquez</a>' in html
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, never run
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">là</a>' in html


def test_an_overlong_preview_is_refused(contributor_client, db, consultation):
    db.session.commit()
    response = _preview(contributor_client, "x" * (BODY_MAX + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == (
        f"At most {BODY_MAX} characters can be previewed."
    )
    assert _preview(contributor_client, "x" * BODY_MAX).status_code == 200


def test_the_preview_answers_404_for_an_unknown_consultation(contributor_client, db):
    response = contributor_client.post(
        "/gestion/consultations/nope/propositions/apercu", data={"text": "x"}
    )
    assert response.status_code == 404


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_the_preview_needs_the_csrf_token_in_its_header(
        self, contributor_client, db, consultation
    ):
        db.session.commit()
        page = contributor_client.get(f"{BASE}/nouvelle").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        refused = _preview(contributor_client, "**x**", headers={"Accept": "application/json"})
        assert refused.status_code == 400
        assert "expired" in refused.get_json()["error"]["message"]
        accepted = _preview(contributor_client, "**x**", headers={"X-CSRFToken": token})
        assert accepted.status_code == 200
        assert accepted.get_json() == {"html": "<p><strong>x</strong></p>"}


# --- Similar proposals ---------------------------------------------------------------------


def test_the_similar_list_ranks_a_near_duplicate_first(contributor_client, db, consultation):
    make_proposal(consultation, title="Réduire la TVA sur la rénovation énergétique")
    duplicate = make_proposal(
        consultation,
        title="Encadrer les loyers des logements neufs",
        summary="Plafonner les loyers des logements neufs en zone tendue.",
    )
    make_proposal(consultation, title="Des logements pour les jeunes", summary="Des loyers bas.")
    make_proposal(
        consultation, status="draft", title="Encadrer les loyers des logements neufs (brouillon)"
    )
    db.session.commit()
    response = contributor_client.get(
        f"{BASE}/similaires", query_string={"texte": "encadrement des loyers du logement neuf"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    links = re.findall(rf'href="/consultations/{SLUG}/propositions/(\d+)"', page)
    assert links[0] == str(duplicate.id)
    assert "(brouillon)" not in page  # drafts are nobody else's business
    assert "<html" not in page  # a fragment, for the script to put in place

    excluded = contributor_client.get(
        f"{BASE}/similaires",
        query_string={"texte": "encadrement des loyers", "exclude": duplicate.id},
    ).get_data(as_text=True)
    assert f'/propositions/{duplicate.id}"' not in excluded


def test_the_similar_list_is_empty_without_searchable_words(contributor_client, db, consultation):
    make_proposal(consultation)
    db.session.commit()
    for text in ("", "le la les", "«  »", "x" * 5000):
        response = contributor_client.get(f"{BASE}/similaires", query_string={"texte": text})
        assert response.status_code == 200
        assert "No similar proposal so far." in response.get_data(as_text=True)
    response = contributor_client.get(f"{BASE}/similaires?texte=logement&exclude=abc")
    assert response.status_code == 200


def test_the_form_page_lists_similar_proposals_without_javascript(
    contributor_client, db, consultation
):
    duplicate = make_proposal(consultation, title="Encadrer les loyers des logements neufs")
    db.session.commit()
    response = contributor_client.post(
        f"{BASE}/nouvelle",
        data={"title": "Encadrer les loyers", "summary": "", "action": "preview"},
    )
    page = response.get_data(as_text=True)
    assert "Similar proposals: co-sign one instead of duplicating it?" in page
    assert f'/consultations/{SLUG}/propositions/{duplicate.id}"' in page
    # Its own page does not list the proposal being edited as similar to itself.
    own = contributor_client.get(f"{BASE}/{duplicate.id}/modifier")
    assert own.status_code == 404  # another organisation's, not editable here
    mine = make_proposal(
        consultation, author=contributor_client.user, title="Encadrer les loyers des logements"
    )
    db.session.commit()
    page = contributor_client.get(f"{BASE}/{mine.id}/modifier").get_data(as_text=True)
    similar = page.split('id="similar-list"')[1].split("</ul>")[0]
    assert f'/consultations/{SLUG}/propositions/{duplicate.id}"' in similar
    assert f'/consultations/{SLUG}/propositions/{mine.id}"' not in similar


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["RATELIMIT_ENABLED"] = True
        return app_config

    def test_the_preview_is_rate_limited(self, contributor_client, db, consultation):
        db.session.commit()
        headers = {"Accept": "application/json"}
        statuses = {
            _preview(contributor_client, "x", headers=headers).status_code for _ in range(120)
        }
        assert statuses == {200}
        refused = _preview(contributor_client, "x", headers=headers)
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers

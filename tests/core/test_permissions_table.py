"""The (role × route) table: every route of the application has an expected outcome per role.

A new route without a line here fails `test_every_route_is_in_the_table`, so nobody can add an
endpoint without deciding who may reach it.
"""

from __future__ import annotations

import pytest
from flask import Flask

from consultation.core.permissions import access, has_role
from tests import factories

ROLES = ("anonymous", "contributor", "regional_editor", "juror", "admin")
OK = "ok"  # allowed: the view runs (any answer but 401, 403 or a server error)
LOGIN = "login"  # anonymous: GET redirects to the sign-in page, other methods answer 401
DENIED = 403

PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}
ADMIN_ONLY = {**dict.fromkeys(ROLES, DENIED), "anonymous": LOGIN, "admin": OK}
MEMBERS = {**SIGNED_IN, "juror": DENIED}
STAFF_OR_EDITOR = {**ADMIN_ONLY, "regional_editor": OK}
# Proposals are written by the members of organisations: staff moderate, they do not write.
WRITERS = {**MEMBERS, "admin": DENIED}
# Jurors only, and only those of the consultation (`is_juror` per consultation).
JURORS = {**dict.fromkeys(ROLES, DENIED), "anonymous": LOGIN}

SLUG = "tableau"
DEBATES = f"/gestion/consultations/{SLUG}/debats"
SYNTHESE = f"/gestion/consultations/{SLUG}/synthese"
TEXTE = f"/gestion/consultations/{SLUG}/texte"  # the bill editor
JURY = f"/gestion/consultations/{SLUG}/jury/scrutins"
CANDIDATES = f"/gestion/consultations/{SLUG}/candidats"
TABLE: dict[tuple[str, str], tuple[str, dict[str, object]]] = {
    ("static", "GET"): ("/static/css/app.css", PUBLIC),
    ("api-docs.openapi_json", "GET"): ("/api/v1/openapi.json", PUBLIC),
    ("api.Consultations", "GET"): ("/api/v1/consultations", PUBLIC),
    ("api.ConsultationDetail", "GET"): (f"/api/v1/consultations/{SLUG}", PUBLIC),
    ("api.ConsultationDebates", "GET"): (f"/api/v1/consultations/{SLUG}/debates", PUBLIC),
    ("pages.index", "GET"): ("/", PUBLIC),
    ("pages.healthz", "GET"): ("/healthz", PUBLIC),
    ("pages.set_language", "GET"): ("/langue/en?next=/", PUBLIC),
    ("pages.accessibility", "GET"): ("/accessibilite", PUBLIC),
    ("pages.privacy", "GET"): ("/confidentialite", PUBLIC),
    ("pages.dashboard", "GET"): ("/gestion/", MEMBERS),
    ("pages.audit_log", "GET"): ("/gestion/journal", ADMIN_ONLY),
    ("accounts.sign_in", "GET"): ("/connexion", PUBLIC),
    ("accounts.sign_in", "POST"): ("/connexion", PUBLIC),
    ("accounts.sign_out", "POST"): ("/deconnexion", SIGNED_IN),
    ("accounts.forgot_password", "GET"): ("/mot-de-passe-oublie", PUBLIC),
    ("accounts.forgot_password", "POST"): ("/mot-de-passe-oublie", PUBLIC),
    ("accounts.reset_password", "GET"): ("/mot-de-passe/unknown-token", PUBLIC),
    ("accounts.reset_password", "POST"): ("/mot-de-passe/unknown-token", PUBLIC),
    ("accounts.account", "GET"): ("/compte", SIGNED_IN),
    ("accounts.change_password", "POST"): ("/compte/mot-de-passe", SIGNED_IN),
    ("accounts.revoke_session", "POST"): ("/compte/sessions/999999/fermer", SIGNED_IN),
    ("accounts.export_data", "GET"): ("/compte/donnees.json", SIGNED_IN),
    # Without the password typed again, the form is refused (400) and nothing is erased.
    ("accounts.erase_account", "POST"): ("/compte/effacer", SIGNED_IN),
    ("accounts.accept_invitation", "GET"): ("/invitation/unknown-token", PUBLIC),
    ("accounts.accept_invitation", "POST"): ("/invitation/unknown-token", PUBLIC),
    ("accounts.organisations", "GET"): ("/gestion/organisations", ADMIN_ONLY),
    ("accounts.organisations", "POST"): ("/gestion/organisations", ADMIN_ONLY),
    ("accounts.edit_organisation", "GET"): ("/gestion/organisations/999999", ADMIN_ONLY),
    ("accounts.edit_organisation", "POST"): ("/gestion/organisations/999999", ADMIN_ONLY),
    ("accounts.users", "GET"): ("/gestion/utilisateurs", ADMIN_ONLY),
    ("accounts.edit_user", "GET"): ("/gestion/utilisateurs/999999", ADMIN_ONLY),
    ("accounts.edit_user", "POST"): ("/gestion/utilisateurs/999999", ADMIN_ONLY),
    ("accounts.set_user_active", "POST"): ("/gestion/utilisateurs/999999/activation", ADMIN_ONLY),
    ("accounts.invitations", "GET"): ("/gestion/invitations", ADMIN_ONLY),
    ("accounts.invitations", "POST"): ("/gestion/invitations", ADMIN_ONLY),
    ("consultations.index", "GET"): ("/consultations/", PUBLIC),
    ("consultations.home", "GET"): (f"/consultations/{SLUG}/", PUBLIC),
    ("consultations.manage", "GET"): ("/gestion/consultations", ADMIN_ONLY),
    ("consultations.create", "GET"): ("/gestion/consultations/nouvelle", ADMIN_ONLY),
    ("consultations.create", "POST"): ("/gestion/consultations/nouvelle", ADMIN_ONLY),
    ("consultations.edit", "GET"): (f"/gestion/consultations/{SLUG}", ADMIN_ONLY),
    ("consultations.edit", "POST"): (f"/gestion/consultations/{SLUG}", ADMIN_ONLY),
    ("consultations.change_phase", "POST"): (f"/gestion/consultations/{SLUG}/phase", ADMIN_ONLY),
    ("consultations.themes", "GET"): (f"/gestion/consultations/{SLUG}/themes", ADMIN_ONLY),
    ("consultations.themes", "POST"): (f"/gestion/consultations/{SLUG}/themes", ADMIN_ONLY),
    ("consultations.rename_theme", "POST"): (
        f"/gestion/consultations/{SLUG}/themes/999999",
        ADMIN_ONLY,
    ),
    ("consultations.move_theme", "POST"): (
        f"/gestion/consultations/{SLUG}/themes/999999/deplacer",
        ADMIN_ONLY,
    ),
    ("consultations.delete_theme", "POST"): (
        f"/gestion/consultations/{SLUG}/themes/999999/supprimer",
        ADMIN_ONLY,
    ),
    ("debates.index", "GET"): (f"/consultations/{SLUG}/debats", PUBLIC),
    ("debates.region_map", "GET"): (f"/consultations/{SLUG}/debats/carte", PUBLIC),
    ("debates.calendar_month", "GET"): (f"/consultations/{SLUG}/debats/calendrier", PUBLIC),
    ("debates.detail", "GET"): (f"/consultations/{SLUG}/debats/999999", PUBLIC),
    ("debates.register", "POST"): (f"/consultations/{SLUG}/debats/999999/inscription", PUBLIC),
    ("debates.debate_ics", "GET"): (f"/consultations/{SLUG}/debats/999999.ics", PUBLIC),
    ("debates.feed", "GET"): (f"/consultations/{SLUG}/debats.ics", PUBLIC),
    ("debates.cancel_registration", "GET"): ("/inscriptions/unknown-token/annuler", PUBLIC),
    ("debates.cancel_registration", "POST"): ("/inscriptions/unknown-token/annuler", PUBLIC),
    ("debates.manage", "GET"): (f"/gestion/consultations/{SLUG}/debats", STAFF_OR_EDITOR),
    ("debates.create", "GET"): (f"{DEBATES}/nouveau", STAFF_OR_EDITOR),
    ("debates.create", "POST"): (f"{DEBATES}/nouveau", STAFF_OR_EDITOR),
    ("debates.edit", "GET"): (f"{DEBATES}/999999", STAFF_OR_EDITOR),
    ("debates.edit", "POST"): (f"{DEBATES}/999999", STAFF_OR_EDITOR),
    ("debates.publish", "POST"): (f"{DEBATES}/999999/publier", STAFF_OR_EDITOR),
    ("debates.cancel", "GET"): (f"{DEBATES}/999999/annuler", STAFF_OR_EDITOR),
    ("debates.cancel", "POST"): (f"{DEBATES}/999999/annuler", STAFF_OR_EDITOR),
    ("debates.minutes", "GET"): (f"{DEBATES}/999999/compte-rendu", STAFF_OR_EDITOR),
    ("debates.minutes", "POST"): (f"{DEBATES}/999999/compte-rendu", STAFF_OR_EDITOR),
    ("debates.registrations_csv", "GET"): (f"{DEBATES}/999999/inscriptions.csv", STAFF_OR_EDITOR),
    # proposals: public pages
    ("proposals.index", "GET"): (f"/consultations/{SLUG}/propositions", PUBLIC),
    ("proposals.detail", "GET"): (f"/consultations/{SLUG}/propositions/999999", PUBLIC),
    ("proposals.revisions", "GET"): (
        f"/consultations/{SLUG}/propositions/999999/versions",
        PUBLIC,
    ),
    ("proposals.cosign", "POST"): (f"/consultations/{SLUG}/propositions/999999/cosigner", WRITERS),
    ("proposals.withdraw_cosignature", "POST"): (
        f"/consultations/{SLUG}/propositions/999999/cosignature/retirer",
        WRITERS,
    ),
    ("proposals.export_csv", "GET"): (f"/consultations/{SLUG}/propositions.csv", PUBLIC),
    ("proposals.export_json", "GET"): (f"/consultations/{SLUG}/propositions.json", PUBLIC),
    ("api.ConsultationProposals", "GET"): (f"/api/v1/consultations/{SLUG}/proposals", PUBLIC),
    ("api.ConsultationProposal", "GET"): (
        f"/api/v1/consultations/{SLUG}/proposals/999999",
        PUBLIC,
    ),
    # proposals: drafting and submitting
    ("proposals.mine", "GET"): (f"/gestion/consultations/{SLUG}/propositions", WRITERS),
    ("proposals.create", "GET"): (f"/gestion/consultations/{SLUG}/propositions/nouvelle", WRITERS),
    ("proposals.create", "POST"): (f"/gestion/consultations/{SLUG}/propositions/nouvelle", WRITERS),
    ("proposals.edit", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/999999/modifier",
        WRITERS,
    ),
    ("proposals.edit", "POST"): (
        f"/gestion/consultations/{SLUG}/propositions/999999/modifier",
        WRITERS,
    ),
    ("proposals.submit", "POST"): (
        f"/gestion/consultations/{SLUG}/propositions/999999/deposer",
        WRITERS,
    ),
    ("proposals.preview", "POST"): (f"/gestion/consultations/{SLUG}/propositions/apercu", WRITERS),
    ("proposals.similar", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/similaires?texte=logement",
        WRITERS,
    ),
    # proposals: moderation and import
    ("proposals.queue", "GET"): (f"/gestion/consultations/{SLUG}/moderation", ADMIN_ONLY),
    ("proposals.moderate", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/999999/moderation",
        ADMIN_ONLY,
    ),
    ("proposals.moderate", "POST"): (
        f"/gestion/consultations/{SLUG}/propositions/999999/moderation",
        ADMIN_ONLY,
    ),
    ("proposals.import_upload", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/import",
        ADMIN_ONLY,
    ),
    ("proposals.import_upload", "POST"): (
        f"/gestion/consultations/{SLUG}/propositions/import",
        ADMIN_ONLY,
    ),
    ("proposals.import_template", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/import/modele.csv",
        ADMIN_ONLY,
    ),
    ("proposals.import_preview", "GET"): (
        f"/gestion/consultations/{SLUG}/propositions/import/999999",
        ADMIN_ONLY,
    ),
    ("proposals.import_confirm", "POST"): (
        f"/gestion/consultations/{SLUG}/propositions/import/999999/confirmer",
        ADMIN_ONLY,
    ),
    # bill: public pages
    ("bill.text", "GET"): (f"/consultations/{SLUG}/texte", PUBLIC),
    ("bill.versions", "GET"): (f"/consultations/{SLUG}/texte/versions", PUBLIC),
    ("bill.version", "GET"): (f"/consultations/{SLUG}/texte/versions/999999", PUBLIC),
    ("bill.version_diff", "GET"): (
        f"/consultations/{SLUG}/texte/versions/999998/diff/999999",
        PUBLIC,
    ),
    ("bill.freeze", "POST"): (f"/gestion/consultations/{SLUG}/texte/figer", ADMIN_ONLY),
    ("api.ConsultationBill", "GET"): (f"/api/v1/consultations/{SLUG}/bill", PUBLIC),
    ("api.ConsultationJury", "GET"): (f"/api/v1/consultations/{SLUG}/jury", PUBLIC),
    # bill: synthesis workspace
    ("bill.synthesis", "GET"): (f"{SYNTHESE}", ADMIN_ONLY),
    ("bill.undecided", "GET"): (f"{SYNTHESE}/sans-disposition", ADMIN_ONLY),
    ("bill.create_article_from_proposals", "POST"): (f"{SYNTHESE}/articles", ADMIN_ONLY),
    ("bill.attach_proposals", "POST"): (f"{SYNTHESE}/rattacher", ADMIN_ONLY),
    ("bill.not_retained", "POST"): (
        f"{SYNTHESE}/propositions/999999/non-retenue",
        ADMIN_ONLY,
    ),
    ("bill.detach_proposal", "POST"): (
        f"{SYNTHESE}/propositions/999999/detacher/999999",
        ADMIN_ONLY,
    ),
    ("bill.clear_disposition", "POST"): (
        f"{SYNTHESE}/propositions/999999/reexaminer",
        ADMIN_ONLY,
    ),
    # bill: editor
    ("bill.editor", "GET"): (f"{TEXTE}", ADMIN_ONLY),
    ("bill.editor", "POST"): (f"{TEXTE}", ADMIN_ONLY),
    ("bill.add_division", "POST"): (f"{TEXTE}/divisions", ADMIN_ONLY),
    ("bill.rename_division", "POST"): (f"{TEXTE}/divisions/999999", ADMIN_ONLY),
    ("bill.move_division", "POST"): (f"{TEXTE}/divisions/999999/deplacer", ADMIN_ONLY),
    ("bill.delete_division", "POST"): (f"{TEXTE}/divisions/999999/supprimer", ADMIN_ONLY),
    ("bill.add_article", "POST"): (f"{TEXTE}/articles", ADMIN_ONLY),
    ("bill.edit_article", "GET"): (f"{TEXTE}/articles/999999", ADMIN_ONLY),
    ("bill.edit_article", "POST"): (f"{TEXTE}/articles/999999", ADMIN_ONLY),
    ("bill.move_article", "POST"): (f"{TEXTE}/articles/999999/deplacer", ADMIN_ONLY),
    ("bill.delete_article", "POST"): (f"{TEXTE}/articles/999999/supprimer", ADMIN_ONLY),
    ("bill.article_revisions", "GET"): (f"{TEXTE}/articles/999999/revisions", ADMIN_ONLY),
    # jury: the pool (applications are public, the pool page, import and quotas are staff's)
    ("jury.apply", "GET"): (f"/consultations/{SLUG}/jury/candidature", PUBLIC),
    ("jury.apply", "POST"): (f"/consultations/{SLUG}/jury/candidature", PUBLIC),
    ("jury.pool", "GET"): (f"/gestion/consultations/{SLUG}/jury/vivier", ADMIN_ONLY),
    ("jury.import_pool", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/vivier/import",
        ADMIN_ONLY,
    ),
    ("jury.quotas", "POST"): (f"/gestion/consultations/{SLUG}/jury/vivier/quotas", ADMIN_ONLY),
    ("jury.erase_member", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/vivier/membres/999999/effacer",
        ADMIN_ONLY,
    ),
    # exports: the final text and its files (public from the remise phase: the table's
    # consultation is in concertation, so the public gets 404), the export action (staff)
    ("exports.final_text", "GET"): (
        f"/consultations/{SLUG}/texte-final",
        {**dict.fromkeys(ROLES, 404), "admin": OK},
    ),
    ("exports.download", "GET"): (
        f"/consultations/{SLUG}/texte-final/proposition-de-loi.pdf",
        dict.fromkeys(ROLES, 404),
    ),
    ("exports.export", "POST"): (f"/gestion/consultations/{SLUG}/texte-final/exporter", ADMIN_ONLY),
    ("exports.open_data", "GET"): (
        f"/consultations/{SLUG}/texte-final/donnees-ouvertes.zip",
        {**dict.fromkeys(ROLES, 404), "admin": OK},
    ),
    # dispatch: the candidates and the sending of the final text (staff); who received it
    # (public from the remise phase: before, 404 for all but staff)
    ("dispatch.candidates", "GET"): (CANDIDATES, ADMIN_ONLY),
    ("dispatch.candidates", "POST"): (CANDIDATES, ADMIN_ONLY),
    ("dispatch.edit_candidate", "GET"): (f"{CANDIDATES}/999999", ADMIN_ONLY),
    ("dispatch.edit_candidate", "POST"): (f"{CANDIDATES}/999999", ADMIN_ONLY),
    ("dispatch.delete_candidate", "POST"): (f"{CANDIDATES}/999999/supprimer", ADMIN_ONLY),
    ("dispatch.send", "POST"): (f"{CANDIDATES}/envoyer", ADMIN_ONLY),
    ("dispatch.retry", "POST"): (f"{CANDIDATES}/envois/999999/relancer", ADMIN_ONLY),
    ("dispatch.sent", "GET"): (
        f"/consultations/{SLUG}/texte-final/envois",
        {**dict.fromkeys(ROLES, 404), "admin": OK},
    ),
    # jury: the public jury page and draw data; the draws (staff)
    ("jury.home", "GET"): (f"/consultations/{SLUG}/jury", PUBLIC),
    ("jury.draw_data", "GET"): (f"/consultations/{SLUG}/jury/tirages/999999.json", PUBLIC),
    ("jury.draws_page", "GET"): (f"/gestion/consultations/{SLUG}/jury/tirages", ADMIN_ONLY),
    ("jury.draws_page", "POST"): (f"/gestion/consultations/{SLUG}/jury/tirages", ADMIN_ONLY),
    ("jury.commit_replacement", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/tirages/remplacement",
        ADMIN_ONLY,
    ),
    ("jury.run_draw", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/tirages/999999/lancer",
        ADMIN_ONLY,
    ),
    ("jury.draw_progress", "GET"): (
        f"/gestion/consultations/{SLUG}/jury/tirages/999999/progression",
        ADMIN_ONLY,
    ),
    # jury: voting rounds (staff), the ballot (jurors), results and log (public)
    ("jury.rounds", "GET"): (JURY, ADMIN_ONLY),
    ("jury.rounds", "POST"): (JURY, ADMIN_ONLY),
    ("jury.start_round", "POST"): (f"{JURY}/999999/ouvrir", ADMIN_ONLY),
    ("jury.close_round", "POST"): (f"{JURY}/999999/fermer", ADMIN_ONLY),
    # The table's juror sits on no jury of this consultation: the page refuses them too.
    ("jury.vote", "GET"): (f"/consultations/{SLUG}/jury/vote", JURORS),
    ("jury.vote", "POST"): (f"/consultations/{SLUG}/jury/vote", JURORS),
    ("jury.receipts", "GET"): (f"/consultations/{SLUG}/jury/recus", JURORS),
    ("jury.results", "GET"): (f"/consultations/{SLUG}/jury/scrutins/999999", PUBLIC),
    ("jury.ballot_log", "GET"): (
        f"/consultations/{SLUG}/jury/scrutins/999999/registre.json",
        PUBLIC,
    ),
    # jury: invitations (the drawn member holds the link, no account yet), jurors (staff)
    ("jury.invitation", "GET"): (f"/consultations/{SLUG}/jury/invitation/unknown-token", PUBLIC),
    ("jury.invitation", "POST"): (f"/consultations/{SLUG}/jury/invitation/unknown-token", PUBLIC),
    ("jury.decline_invitation", "POST"): (
        f"/consultations/{SLUG}/jury/invitation/unknown-token/refuser",
        PUBLIC,
    ),
    ("jury.jurors", "GET"): (f"/gestion/consultations/{SLUG}/jury/jures", ADMIN_ONLY),
    ("jury.invite_jurors", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/jures/inviter",
        ADMIN_ONLY,
    ),
    ("jury.reinvite_juror", "POST"): (
        f"/gestion/consultations/{SLUG}/jury/jures/999999/relancer",
        ADMIN_ONLY,
    ),
}


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_table(app):
    routes = _routes(app)
    missing = sorted(routes - TABLE.keys())
    stale = sorted(TABLE.keys() - routes)
    assert not missing, f"routes without an expected outcome per role: {missing}"
    assert not stale, f"table lines for routes that no longer exist: {stale}"


@pytest.fixture
def clients(app, db, client, sign_in):
    factories.make_consultation(slug=SLUG)
    db.session.commit()
    return {
        "anonymous": client,
        **{role: sign_in(role) for role in ROLES if role != "anonymous"},
    }


@pytest.mark.parametrize("route", sorted(TABLE), ids=lambda route: f"{route[1]} {route[0]}")
def test_route_outcome_per_role(clients, route):
    _endpoint, method = route
    url, expected = TABLE[route]
    for role in ROLES:
        response = clients[role].open(url, method=method, data={})
        response.close()
        outcome = expected[role]
        status = response.status_code
        where = f"{method} {url} as {role}"
        if outcome == OK:
            assert status not in (401, 403) and status < 500, f"{where}: {status}"
        elif outcome == LOGIN:
            if method == "GET":
                assert status == 302, f"{where}: {status}"
                assert "/connexion?next=" in response.headers["Location"], where
            else:
                assert status == 401, f"{where}: {status}"
        else:
            assert status == outcome, f"{where}: {status}"


def test_a_route_without_a_rule_is_refused(app, client):
    """Deny by default: an endpoint that declares no rule answers 403 to everyone."""
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    response = client.get("/undeclared")
    assert response.status_code == 403
    assert b"secret" not in response.data


def test_refused_access_is_audited(app, db, sign_in):
    from sqlalchemy import select

    from consultation.core.audit import AuditEntry

    contributor = sign_in("contributor")
    assert contributor.get("/gestion/journal").status_code == 403
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "access.refused"))
    assert entry is not None
    assert entry.actor_id == contributor.user.id
    assert entry.details["path"] == "/gestion/journal"


def test_rules_compose():
    class User:
        is_authenticated = True
        role = "admin"

    admin_or_juror = has_role("admin") | has_role("juror")
    assert admin_or_juror(User())
    assert not (has_role("admin") & has_role("juror"))(User())
    assert (~has_role("juror"))(User())
    assert access(admin_or_juror)(lambda: None).access_rule is admin_or_juror

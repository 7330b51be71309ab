"""Staff correct organisations and accounts: the rules of creation still hold, nothing is written
on refusal, every change is audited, and new rights apply at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consultation.accounts import services
from consultation.accounts.models import Organisation, OrganisationKind, Role, User
from consultation.core.cache import current_version
from consultation.core.errors import DomainError
from consultation.extensions import db as _db
from tests import factories
from tests.accounts.helpers import (
    assert_error_page,
    audit_entries,
    copy_session_cookie,
    is_signed_in,
    row_count,
    session_count,
)


def _organisation_form(organisation: Organisation, **changes: object) -> dict[str, object]:
    """The edit form as the page sends it back, with some fields changed."""
    data: dict[str, object] = {
        "name": organisation.name,
        "kind": organisation.kind.value,
        "region_code": organisation.region_code or "",
    }
    if organisation.is_fictional:
        data["is_fictional"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _user_form(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": user.display_name,
        "role": user.role.value,
        "organisation_id": str(user.organisation_id or ""),
    }
    data.update(changes)
    return data


def _snapshot(model: type, object_id: int) -> dict[str, object]:
    """The row as stored, read afresh (what another request would see)."""
    _db.session.expire_all()
    row = _db.session.get(model, object_id)
    assert row is not None
    return {column.key: getattr(row, column.key) for column in model.__table__.columns}


# --- Who may reach the pages -------------------------------------------------------------


@pytest.fixture
def targets(db):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    user = factories.make_user(organisation=organisation, email="cible@example.org")
    db.session.commit()
    return {
        "organisation": (
            f"/gestion/organisations/{organisation.id}",
            Organisation,
            organisation.id,
        ),
        "user": (f"/gestion/utilisateurs/{user.id}", User, user.id),
    }


POSTS = {
    "organisation": {"name": "Piraté", "kind": "commission", "region_code": ""},
    "user": {"display_name": "Piraté", "role": "admin", "organisation_id": ""},
}


@pytest.mark.parametrize("target", ["organisation", "user"])
@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
def test_other_roles_are_refused_and_nothing_is_written(sign_in, targets, target, role):
    path, model, object_id = targets[target]
    before = _snapshot(model, object_id)
    client = sign_in(role)

    assert_error_page(client.get(path), 403)
    assert_error_page(client.post(path, data=POSTS[target]), 403)

    assert _snapshot(model, object_id) == before
    assert audit_entries("organisation.updated") == []
    assert audit_entries("account.updated") == []


@pytest.mark.parametrize("target", ["organisation", "user"])
def test_anonymous_visitors_are_sent_to_sign_in(client, targets, target):
    path, model, object_id = targets[target]
    before = _snapshot(model, object_id)

    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")
    assert_error_page(client.post(path, data=POSTS[target]), 401)
    assert _snapshot(model, object_id) == before


@pytest.mark.parametrize("path", ["/gestion/organisations/999999", "/gestion/utilisateurs/999999"])
def test_unknown_ids_are_not_found(admin_client, path):
    assert_error_page(admin_client.get(path), 404)
    assert_error_page(admin_client.post(path, data={"name": "X", "kind": "organisme"}), 404)


def test_each_row_of_the_lists_links_to_its_page(admin_client, db):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    user = factories.make_user(organisation=organisation)
    db.session.commit()

    organisations = admin_client.get("/gestion/organisations").get_data(as_text=True)
    assert f'href="/gestion/organisations/{organisation.id}"' in organisations
    users = admin_client.get("/gestion/utilisateurs").get_data(as_text=True)
    assert f'href="/gestion/utilisateurs/{user.id}"' in users
    assert f'href="/gestion/utilisateurs/{admin_client.user.id}"' in users


# --- Organisations -----------------------------------------------------------------------


def test_the_organisation_page_shows_the_form_filled_in_and_its_accounts(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53", is_fictional=True
    )
    factories.make_user(
        role="regional_editor", organisation=organisation, display_name="Awen Le Gall"
    )
    db.session.commit()

    response = admin_client.get(f"/gestion/organisations/{organisation.id}")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<h1>AR Hlm Bretagne</h1>" in body
    assert 'value="AR Hlm Bretagne"' in body
    assert '<option selected value="association_regionale">' in body
    assert '<option selected value="53">' in body
    assert 'checked id="is_fictional"' in body
    assert '<label for="is_fictional">' in body
    assert "Awen Le Gall" in body


def test_staff_correct_an_organisation(admin_client, db):
    organisation = factories.make_organisation(
        name="Association régionale Hlm de Martinique",
        kind="association_regionale",
        region_code="02",
    )
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data={
            "name": "  ARMOS   Martinique ",
            "kind": "association_regionale",
            "region_code": "02",
            "is_fictional": "y",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/gestion/organisations"
    stored = _snapshot(Organisation, organisation.id)
    assert stored["name"] == "ARMOS Martinique"
    assert stored["is_fictional"] is True
    [entry] = audit_entries("organisation.updated")
    assert entry.actor_id == admin_client.user.id
    assert entry.object_type == "Organisation"
    assert entry.object_id == str(organisation.id)
    # Only what changed, each as [old, new].
    assert entry.details == {
        "name": ["Association régionale Hlm de Martinique", "ARMOS Martinique"],
        "is_fictional": [False, True],
    }
    assert "ARMOS Martinique" in admin_client.get("/gestion/organisations").get_data(as_text=True)


def test_kind_and_region_can_change_and_the_region_can_go(admin_client, db):
    organisation = factories.make_organisation(name="Commission Europe", region_code="52")
    db.session.commit()
    url = f"/gestion/organisations/{organisation.id}"

    response = admin_client.post(
        url, data={"name": "Commission Europe", "kind": "commission", "region_code": ""}
    )

    assert response.status_code == 302
    stored = _snapshot(Organisation, organisation.id)
    assert stored["kind"] is OrganisationKind.COMMISSION
    assert stored["region_code"] is None
    [entry] = audit_entries("organisation.updated")
    assert entry.details == {"kind": ["organisme", "commission"], "region_code": ["52", None]}


def test_an_organisation_can_stop_being_marked_fictional(admin_client, db):
    organisation = factories.make_organisation(name="Commission Europe", is_fictional=True)
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, is_fictional=None),  # an unticked box sends nothing
    )

    assert response.status_code == 302
    assert _snapshot(Organisation, organisation.id)["is_fictional"] is False
    [entry] = audit_entries("organisation.updated")
    assert entry.details == {"is_fictional": [True, False]}


def test_an_organisation_may_change_the_case_of_its_own_name(admin_client, db):
    organisation = factories.make_organisation(name="habitat atlantique")
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, name="Habitat Atlantique"),
    )

    assert response.status_code == 302
    assert _snapshot(Organisation, organisation.id)["name"] == "Habitat Atlantique"


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        ("Habitat Atlantique", "Habitat Atlantique"),
        ("Habitat Atlantique", "habitat  ATLANTIQUE"),
        ("Énergie Habitat", "Énergie Habitat"),  # SQLite's lower() leaves "É" as it is
        ("Énergie Habitat", "énergie habitat"),
    ],
)
def test_renaming_to_another_organisations_name_is_refused(admin_client, db, existing, typed):
    factories.make_organisation(name=existing)
    organisation = factories.make_organisation(name="Mon organisme")
    db.session.commit()
    before = _snapshot(Organisation, organisation.id)

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, name=typed),
    )

    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'id="name-errors"' in body  # beside the name field
    assert "already exists" in body
    assert _snapshot(Organisation, organisation.id) == before
    assert audit_entries("organisation.updated") == []


@pytest.mark.parametrize("typed", ["Énergie Habitat", "énergie HABITAT"])
def test_creating_a_duplicate_with_accented_capitals_is_refused_too(admin_client, db, typed):
    factories.make_organisation(name="Énergie Habitat")
    db.session.commit()

    response = admin_client.post(
        "/gestion/organisations", data={"name": typed, "kind": "organisme"}
    )

    assert response.status_code == 409
    assert 'id="name-errors"' in response.get_data(as_text=True)
    assert row_count(Organisation) == 1


def test_a_regional_association_keeps_its_region(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    db.session.commit()
    before = _snapshot(Organisation, organisation.id)

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, region_code=""),
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="region_code-errors"' in body  # beside the region field
    assert "A regional association needs its region." in body
    assert _snapshot(Organisation, organisation.id) == before
    assert audit_entries("organisation.updated") == []


def test_becoming_a_regional_association_needs_a_region(admin_client, db):
    organisation = factories.make_organisation(name="Fédération", region_code=None)
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, kind="association_regionale"),
    )

    assert response.status_code == 400
    assert 'id="region_code-errors"' in response.get_data(as_text=True)
    assert _snapshot(Organisation, organisation.id)["kind"] is OrganisationKind.ORGANISME


def test_an_association_with_regional_editors_stays_one(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    editor = factories.make_user(role="regional_editor", organisation=organisation)
    db.session.commit()
    before = _snapshot(Organisation, organisation.id)

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, kind="organisme", name="Bretagne Habitat"),
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="kind-errors"' in body  # beside the kind field
    assert "it must stay a regional Hlm association" in body
    assert _snapshot(Organisation, organisation.id) == before
    assert _snapshot(User, editor.id)["role"] is Role.REGIONAL_EDITOR
    assert audit_entries("organisation.updated") == []


def test_an_association_with_regional_editors_may_be_renamed_and_moved(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    factories.make_user(role="regional_editor", organisation=organisation)
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, name="ARO Habitat Bretagne", region_code="52"),
    )

    assert response.status_code == 302
    stored = _snapshot(Organisation, organisation.id)
    assert (stored["name"], stored["region_code"]) == ("ARO Habitat Bretagne", "52")


def test_a_pending_regional_editor_invitation_also_keeps_the_kind(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    services.invite_user(
        "awen@example.org", Role.REGIONAL_EDITOR, organisation, None, timedelta(days=7)
    )
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, kind="organisme"),
    )

    assert response.status_code == 400
    assert 'id="kind-errors"' in response.get_data(as_text=True)
    kind = _snapshot(Organisation, organisation.id)["kind"]
    assert kind is OrganisationKind.ASSOCIATION_REGIONALE


def test_an_association_without_regional_editors_may_change_kind(admin_client, db):
    organisation = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    factories.make_user(role="contributor", organisation=organisation)
    services.invite_user(
        "parti@example.org", Role.REGIONAL_EDITOR, organisation, None, timedelta(days=-1)
    )  # expired: it can no longer make anyone an editor
    db.session.commit()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, kind="organisme"),
    )

    assert response.status_code == 302
    assert _snapshot(Organisation, organisation.id)["kind"] is OrganisationKind.ORGANISME


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "kind": "organisme"},
        {"name": "   ", "kind": "organisme"},
        {"name": "X", "kind": "cooperative"},
        {"name": "X", "kind": "organisme", "region_code": "99"},
        {"name": "X" * 201, "kind": "organisme"},
    ],
)
def test_invalid_organisation_forms_are_refused(admin_client, db, data):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()
    before = _snapshot(Organisation, organisation.id)

    response = admin_client.post(f"/gestion/organisations/{organisation.id}", data=data)

    assert response.status_code == 400
    assert _snapshot(Organisation, organisation.id) == before
    assert audit_entries("organisation.updated") == []


def test_saving_an_unchanged_organisation_records_nothing(admin_client, db):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()
    version = current_version()

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Nothing was changed." in response.get_data(as_text=True)
    assert audit_entries("organisation.updated") == []
    assert current_version() == version


def test_the_update_service_flushes_and_leaves_the_commit_to_the_caller(app, db):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    admin = factories.make_user(role="admin")
    db.session.commit()

    changes = services.update_organisation(
        organisation, "Atlantique Habitat", OrganisationKind.ORGANISME, "52", False, admin
    )
    assert changes == {"name": ["Habitat Atlantique", "Atlantique Habitat"]}
    db.session.rollback()

    assert _snapshot(Organisation, organisation.id)["name"] == "Habitat Atlantique"
    assert audit_entries("organisation.updated") == []


def test_the_public_home_shows_a_corrected_organisation_at_once(admin_client, client, db, app):
    """Anonymous visitors get cached pages: a correction must be seen on the very next visit."""
    assert app.config["PAGE_CACHE_ENABLED"]
    factories.make_consultation(slug="publique")
    organisation = factories.make_organisation(name="Habitat Atlantique", kind="organisme")
    db.session.commit()
    url = "/consultations/publique/"

    def figure(label: str, value: int) -> str:
        return (
            f'<span class="figure-value">{value}</span> <span class="figure-label">{label}</span>'
        )

    first = client.get(url)
    body = first.get_data(as_text=True)
    assert figure("Hlm organisations", 1) in body
    assert figure("regional associations", 0) in body
    assert client.get(url).headers["ETag"] == first.headers["ETag"]  # served from the cache

    response = admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data={
            "name": "AR Hlm Pays de la Loire",
            "kind": "association_regionale",
            "region_code": "52",
        },
    )
    assert response.status_code == 302

    body = client.get(url).get_data(as_text=True)
    assert figure("Hlm organisations", 0) in body
    assert figure("regional associations", 1) in body


def test_a_renamed_organisation_is_new_public_data(admin_client, client, db, count_queries):
    """A name alone changes no figure, but the cached pages that show names must be redone."""
    factories.make_consultation(slug="publique")
    organisation = factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()
    url = "/consultations/publique/"
    client.get(url)
    with count_queries() as statements:
        client.get(url)
    assert statements == []  # served from the cache
    version = current_version()

    admin_client.post(
        f"/gestion/organisations/{organisation.id}",
        data=_organisation_form(organisation, name="Atlantique Habitat"),
    )

    assert current_version() == version + 1
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    assert statements != []  # rendered again from the data


# --- Accounts ----------------------------------------------------------------------------


def test_the_account_page_shows_the_account_and_its_form(admin_client, db):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    user = factories.make_user(
        organisation=organisation,
        email="alice@example.org",
        display_name="Alice Martin",
        last_login_at=datetime(2021, 11, 15, 17, 30, tzinfo=UTC),
    )
    db.session.commit()

    response = admin_client.get(f"/gestion/utilisateurs/{user.id}")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<h1>Account: Alice Martin</h1>" in body
    assert "alice@example.org" in body
    assert "Monday 15 November 2021, 18:30" in body  # last sign-in, Paris time
    assert ">active<" in body
    assert f'action="/gestion/utilisateurs/{user.id}/activation"' in body
    assert "Deactivate" in body
    assert f'name="next" value="/gestion/utilisateurs/{user.id}"' in body
    assert 'value="Alice Martin"' in body
    assert '<option selected value="contributor">' in body
    assert f'<option selected value="{organisation.id}">' in body


def test_an_account_never_signed_in_says_so(admin_client, db):
    user = factories.make_user(role="juror")
    user.is_active = False
    db.session.commit()

    body = admin_client.get(f"/gestion/utilisateurs/{user.id}").get_data(as_text=True)

    assert "never" in body
    assert ">deactivated<" in body
    assert "Reactivate" in body


def test_the_activation_button_of_the_page_comes_back_to_it(admin_client, db):
    user = factories.make_user()
    db.session.commit()
    page = f"/gestion/utilisateurs/{user.id}"
    url = f"{page}/activation"

    response = admin_client.post(url, data={"active": "0", "next": page})
    assert response.status_code == 302
    assert response.headers["Location"] == page
    assert _snapshot(User, user.id)["is_active"] is False

    # Elsewhere than this site: back to the list instead.
    response = admin_client.post(url, data={"active": "1", "next": "//evil.example/"})
    assert response.headers["Location"] == "/gestion/utilisateurs"
    assert _snapshot(User, user.id)["is_active"] is True


def test_an_admin_has_no_activation_button_on_their_own_page(admin_client):
    admin = admin_client.user
    body = admin_client.get(f"/gestion/utilisateurs/{admin.id}").get_data(as_text=True)
    assert f"/gestion/utilisateurs/{admin.id}/activation" not in body


def test_a_role_change_ends_every_session_of_the_account(app, db, admin_client, sign_in):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    member = factories.make_user(role="contributor", organisation=organisation)
    browser = sign_in(member)
    second = sign_in(member)
    stolen = copy_session_cookie(browser, app)
    assert is_signed_in(stolen)
    assert session_count(member.id) == 2

    response = admin_client.post(
        f"/gestion/utilisateurs/{member.id}", data=_user_form(member, role="juror")
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/gestion/utilisateurs"
    assert _snapshot(User, member.id)["role"] is Role.JUROR
    assert session_count(member.id) == 0
    assert not is_signed_in(stolen)  # a copied cookie stops working
    assert not is_signed_in(browser)
    assert not is_signed_in(second)
    [entry] = audit_entries("account.updated")
    assert entry.actor_id == admin_client.user.id
    assert entry.object_id == str(member.id)
    assert entry.details["role"] == ["contributor", "juror"]
    assert entry.details["organisation_id"] == [organisation.id, organisation.id]
    assert entry.details["sessions_ended"] == 2
    assert is_signed_in(admin_client)


def test_an_organisation_change_ends_the_sessions_and_moves_the_rights(db, admin_client, sign_in):
    old = factories.make_organisation(
        name="AR Hlm Bretagne", kind="association_regionale", region_code="53"
    )
    new = factories.make_organisation(
        name="AR Hlm Pays de la Loire", kind="association_regionale", region_code="52"
    )
    editor = factories.make_user(role="regional_editor", organisation=old)
    browser = sign_in(editor)

    response = admin_client.post(
        f"/gestion/utilisateurs/{editor.id}", data=_user_form(editor, organisation_id=str(new.id))
    )

    assert response.status_code == 302
    assert _snapshot(User, editor.id)["organisation_id"] == new.id
    assert not is_signed_in(browser)
    [entry] = audit_entries("account.updated")
    assert entry.details["role"] == ["regional_editor", "regional_editor"]
    assert entry.details["organisation_id"] == [old.id, new.id]
    assert entry.details["organisation"] == ["AR Hlm Bretagne", "AR Hlm Pays de la Loire"]


def test_a_new_admin_gets_the_staff_pages_after_signing_in_again(app, db, admin_client, sign_in):
    member = factories.make_user(role="juror")
    browser = sign_in(member)
    assert browser.get("/gestion/organisations").status_code == 403

    admin_client.post(f"/gestion/utilisateurs/{member.id}", data=_user_form(member, role="admin"))

    assert not is_signed_in(browser)
    db.session.expire_all()
    assert factories.signed_in_client(app, member).get("/gestion/organisations").status_code == 200


def test_a_name_change_alone_keeps_the_sessions(db, admin_client, sign_in):
    member = factories.make_user(display_name="Alice")
    browser = sign_in(member)

    response = admin_client.post(
        f"/gestion/utilisateurs/{member.id}",
        data=_user_form(member, display_name="  Alice Martin "),
    )

    assert response.status_code == 302
    assert _snapshot(User, member.id)["display_name"] == "Alice Martin"
    assert is_signed_in(browser)
    [entry] = audit_entries("account.updated")
    assert entry.details["display_name"] == ["Alice", "Alice Martin"]
    assert entry.details["sessions_ended"] == 0


def test_saving_an_unchanged_account_records_nothing(db, admin_client, sign_in):
    member = factories.make_user()
    browser = sign_in(member)

    response = admin_client.post(
        f"/gestion/utilisateurs/{member.id}", data=_user_form(member), follow_redirects=True
    )

    assert "Nothing was changed." in response.get_data(as_text=True)
    assert audit_entries("account.updated") == []
    assert is_signed_in(browser)


@pytest.mark.parametrize(
    ("role", "organisation_kind", "message"),
    [
        ("contributor", None, "This role needs an organisation."),
        ("regional_editor", None, "This role needs an organisation."),
        (
            "regional_editor",
            "organisme",
            "A regional editor belongs to a regional Hlm association.",
        ),
    ],
)
def test_the_role_must_fit_the_organisation(
    db, admin_client, sign_in, role, organisation_kind, message
):
    member = factories.make_user(role="juror")
    organisation = (
        factories.make_organisation(kind=organisation_kind) if organisation_kind else None
    )
    browser = sign_in(member)
    before = _snapshot(User, member.id)

    response = admin_client.post(
        f"/gestion/utilisateurs/{member.id}",
        data=_user_form(
            member, role=role, organisation_id=str(organisation.id) if organisation else ""
        ),
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="organisation_id-errors"' in body  # beside the organisation field
    assert message in body
    assert _snapshot(User, member.id) == before
    assert is_signed_in(browser)
    assert audit_entries("account.updated") == []


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
def test_an_admin_cannot_remove_their_own_admin_role(db, admin_client, role):
    admin = admin_client.user
    organisation = factories.make_organisation(
        kind="association_regionale" if role == "regional_editor" else "organisme"
    )
    db.session.commit()
    before = _snapshot(User, admin.id)

    response = admin_client.post(
        f"/gestion/utilisateurs/{admin.id}",
        data=_user_form(admin, role=role, organisation_id=str(organisation.id)),
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="role-errors"' in body  # beside the role field
    assert "You cannot remove your own administrator role." in body
    assert _snapshot(User, admin.id) == before
    assert is_signed_in(admin_client)
    assert admin_client.get("/gestion/utilisateurs").status_code == 200
    assert audit_entries("account.updated") == []


def test_an_admin_may_correct_their_own_account_and_stays_signed_in_here(
    app, db, admin_client, sign_in
):
    admin = admin_client.user
    other_browser = sign_in(admin)
    ush = factories.make_organisation(name="USH", kind="ush", region_code=None)
    db.session.commit()

    response = admin_client.post(
        f"/gestion/utilisateurs/{admin.id}",
        data=_user_form(admin, display_name="Claire", organisation_id=str(ush.id)),
    )

    assert response.status_code == 302
    stored = _snapshot(User, admin.id)
    assert (stored["display_name"], stored["organisation_id"]) == ("Claire", ush.id)
    assert is_signed_in(admin_client)  # the browser in use
    assert not is_signed_in(other_browser)  # the others end, as for any change of rights


def test_an_admin_may_demote_another_admin(db, admin_client, sign_in):
    colleague = factories.make_user(role="admin")
    browser = sign_in(colleague)

    response = admin_client.post(
        f"/gestion/utilisateurs/{colleague.id}", data=_user_form(colleague, role="juror")
    )

    assert response.status_code == 302
    assert _snapshot(User, colleague.id)["role"] is Role.JUROR
    assert not is_signed_in(browser)


@pytest.mark.parametrize(
    "changes",
    [
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "X" * 201},
        {"role": "superuser"},
        {"organisation_id": "999999"},
        {"organisation_id": "abc"},
    ],
)
def test_invalid_account_forms_are_refused(db, admin_client, sign_in, changes):
    member = factories.make_user()
    browser = sign_in(member)
    before = _snapshot(User, member.id)

    response = admin_client.post(
        f"/gestion/utilisateurs/{member.id}", data=_user_form(member, **changes)
    )

    assert response.status_code == 400
    assert _snapshot(User, member.id) == before
    assert is_signed_in(browser)
    assert audit_entries("account.updated") == []


def test_the_account_service_refuses_before_writing(app, db):
    admin = factories.make_user(role="admin")
    db.session.commit()

    with pytest.raises(DomainError) as refused:
        services.update_user(admin, "Renamed", Role.JUROR, None, actor=admin)

    assert refused.value.field == "role"
    assert admin.display_name != "Renamed"
    assert admin.role is Role.ADMIN


# --- A constant number of queries whatever the number of rows ---------------------------


def test_the_organisation_page_runs_a_constant_number_of_queries(admin_client, db, count_queries):
    organisation = factories.make_organisation()
    db.session.commit()
    url = f"/gestion/organisations/{organisation.id}"

    def queries() -> int:
        admin_client.get(url)
        with count_queries() as statements:
            assert admin_client.get(url).status_code == 200
        return len(statements)

    for _ in range(2):
        factories.make_user(organisation=organisation)
    db.session.commit()
    few = queries()
    for _ in range(20):
        factories.make_user(organisation=organisation)
        factories.make_organisation()
    db.session.commit()

    assert queries() == few

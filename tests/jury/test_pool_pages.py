"""The pool's pages: the public application form, and the staff's pool page with its summary,
the import of the two files and the quotas editor."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.jury import members
from consultation.jury.models import Category, PoolContact, PoolMember, Quota
from tests import factories
from tests.jury.factories import make_draw, make_member, make_quotas
from tests.jury.helpers import shared_folder

CATEGORIES = "category,feature,min,max\ngender,female,1,3\ngender,male,1,3\n"
RESPONDENTS = "id,name,gender,email\na1,Ana,female,ana@example.org\nb2,Bob,male,\n"


def _members(db) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(PoolMember))


@pytest.fixture
def consultation(db):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.CONCERTATION)
    make_quotas(consultation)
    db.session.commit()
    return consultation


def _apply_url(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"/consultations/{consultation.slug}/jury/candidature"


def _form(consultation, **overrides) -> dict[str, object]:  # type: ignore[no-untyped-def]
    fields = {
        f"category_{category.id}": category.quotas[0].feature
        for category in members.list_categories(consultation)
    }
    return (
        fields
        | {
            "full_name": "Alice Martin",
            "email": "alice@example.org",
            "phone": "",
            "has_consented": "y",
        }
        | overrides
    )


# --- The application form ------------------------------------------------------------------------


def test_the_form_has_a_labelled_select_per_category_and_a_consent_text(db, client, consultation):
    page = client.get(_apply_url(consultation))
    assert page.status_code == 200
    assert "<legend>" in page.text
    for category in members.list_categories(consultation):
        assert f'for="category_{category.id}"' in page.text
        assert category.label in page.text
    assert "until the consultation is archived" in page.text
    assert 'name="has_consented"' in page.text


def test_a_citizen_applies(db, client, consultation):
    response = client.post(_apply_url(consultation), data=_form(consultation))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/")
    member = db.session.scalar(select(PoolMember))
    assert member.contact.email == "alice@example.org"
    assert len(member.features) == 2
    home = client.get(response.headers["Location"])
    assert "your application to the jury is recorded" in home.text


def test_an_application_without_consent_is_refused(db, client, consultation):
    response = client.post(_apply_url(consultation), data=_form(consultation, has_consented=""))
    assert response.status_code == 400
    assert "Your consent is needed" in response.text
    assert _members(db) == 0


def test_a_duplicate_email_is_refused(db, client, consultation):
    assert client.post(_apply_url(consultation), data=_form(consultation)).status_code == 303
    response = client.post(
        _apply_url(consultation), data=_form(consultation, email="ALICE@example.org")
    )
    assert response.status_code == 409
    assert "has already applied" in response.text
    assert 'id="email-errors"' in response.text
    assert _members(db) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "nope"}, "is not a valid e-mail address"),
        ({"full_name": ""}, "Give your name."),
        ({"phone": "<script>"}, "is not a telephone number"),
    ],
)
def test_bad_contact_data_is_refused_beside_its_field(db, client, consultation, overrides, message):
    response = client.post(_apply_url(consultation), data=_form(consultation, **overrides))
    assert response.status_code == 400
    assert message in response.text
    assert "&lt;script&gt;" in response.text or "<script>" not in response.text
    assert _members(db) == 0


def test_a_feature_outside_the_quotas_or_missing_is_refused(db, client, consultation):
    category = members.list_categories(consultation)[0]
    response = client.post(
        _apply_url(consultation), data=_form(consultation, **{f"category_{category.id}": "autre"})
    )
    assert response.status_code == 400
    assert f'id="category_{category.id}-errors"' in response.text
    response = client.post(
        _apply_url(consultation), data=_form(consultation, **{f"category_{category.id}": ""})
    )
    assert response.status_code == 400
    assert _members(db) == 0


def test_applications_close_once_frozen(db, client, consultation):
    make_draw(consultation)
    db.session.commit()
    page = client.get(_apply_url(consultation))
    assert page.status_code == 200
    assert "Applications to the jury are closed" in page.text
    assert 'name="email"' not in page.text
    response = client.post(_apply_url(consultation), data=_form(consultation))
    assert response.status_code == 409
    assert _members(db) == 0


@pytest.mark.parametrize("phase", [Phase.REMISE, Phase.ARCHIVED])
def test_applications_close_after_the_jury(db, client, phase):
    consultation = factories.make_consultation(phase=phase)
    make_quotas(consultation)
    db.session.commit()
    assert "closed" in client.get(_apply_url(consultation)).text
    assert client.post(_apply_url(consultation), data=_form(consultation)).status_code == 409


def test_the_form_waits_for_the_categories(db, client):
    consultation = factories.make_consultation()
    db.session.commit()
    page = client.get(_apply_url(consultation))
    assert page.status_code == 200
    assert "not open yet" in page.text


def test_a_consultation_in_preparation_is_hidden(db, client):
    consultation = factories.make_consultation(phase=Phase.PREPARATION)
    make_quotas(consultation)
    db.session.commit()
    assert client.get(_apply_url(consultation)).status_code == 404


# --- The staff's pool page -----------------------------------------------------------------------


def _pool_url(consultation, action: str = "") -> str:  # type: ignore[no-untyped-def]
    suffix = f"/{action}" if action else ""
    return f"/gestion/consultations/{consultation.slug}/jury/vivier{suffix}"


def _upload(client, consultation, categories=CATEGORIES, respondents=RESPONDENTS):  # type: ignore[no-untyped-def]
    def as_file(text, name):  # type: ignore[no-untyped-def]
        content = text if isinstance(text, bytes) else text.encode()
        return (io.BytesIO(content), name)

    return client.post(
        _pool_url(consultation, "import"),
        data={
            "categories_file": as_file(categories, "categories.csv"),
            "respondents_file": as_file(respondents, "respondents.csv"),
        },
        content_type="multipart/form-data",
    )


def test_the_pool_page_shows_counts_against_quotas(db, admin_client, consultation):
    make_member(consultation, {"genre": "femme", "age": "65+"})
    make_member(consultation, {"genre": "femme", "age": "18-34"})
    db.session.commit()
    page = admin_client.get(_pool_url(consultation))
    assert page.status_code == 200
    assert "2 volunteers in the pool." in page.text
    assert '<th scope="row"><code>femme</code></th>' in page.text
    assert "fewer than the minimum" in page.text  # homme: 0 held, at least 1 needed
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    assert f'name="min_{femme.id}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text


def test_the_pool_page_is_for_staff(db, client, contributor_client, consultation):
    assert contributor_client.get(_pool_url(consultation)).status_code == 403
    assert client.get(_pool_url(consultation)).status_code == 302
    assert client.post(_pool_url(consultation, "import")).status_code == 401


def test_staff_import_a_pool(db, admin_client, consultation):
    make_member(consultation, {"genre": "femme", "age": "65+"})
    db.session.commit()
    response = _upload(admin_client, consultation)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_pool_url(consultation))
    page = admin_client.get(response.headers["Location"])
    assert "Pool imported: 2 members, 1 categories and 2 quotas (1 members replaced)." in page.text
    assert db.session.scalars(select(PoolMember.reference).order_by("reference")).all() == [
        "a1",
        "b2",
    ]
    assert db.session.scalar(select(func.count()).select_from(PoolContact)) == 2


def test_a_shared_instance_imports_through_the_page(db, admin_client, consultation):
    folder = shared_folder("example_small_20")
    response = _upload(
        admin_client,
        consultation,
        (folder / "categories.csv").read_bytes(),
        (folder / "respondents.csv").read_bytes(),
    )
    assert response.status_code == 303
    assert _members(db) == 200


@pytest.mark.parametrize(
    ("categories", "respondents", "where"),
    [
        (CATEGORIES, RESPONDENTS.replace("b2,Bob,male", "b2,Bob,other"), "line 3, column “gender”"),
        (CATEGORIES, "id,name\na1,Ana\n", "respondents.csv, line 1"),
        (CATEGORIES, RESPONDENTS.replace("b2,", "a1,"), "line 3, column “id”"),
        ("category,feature,min\ngender,female,1\n", RESPONDENTS, "categories.csv, line 1"),
        ("category,feature,min,max\ngender,female,4,2\n", RESPONDENTS, "column “min”"),
        (CATEGORIES, b"\xff\xfe\x00g\x00", "respondents.csv"),
        ("", RESPONDENTS, "The file is empty."),
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(
    db, admin_client, consultation, categories, respondents, where
):
    make_member(consultation, {"genre": "femme", "age": "65+"})
    db.session.commit()
    response = _upload(admin_client, consultation, categories, respondents)
    assert response.status_code == 400
    assert where in response.text
    assert 'role="alert"' in response.text
    assert _members(db) == 1
    assert db.session.scalar(select(Category.name).order_by(Category.position).limit(1)) == "genre"


def test_a_missing_file_is_refused(db, admin_client, consultation):
    response = admin_client.post(
        _pool_url(consultation, "import"),
        data={"categories_file": (io.BytesIO(CATEGORIES.encode()), "categories.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose the respondents file." in response.text


def test_an_import_after_the_freeze_is_refused(db, admin_client, consultation):
    make_draw(consultation)
    db.session.commit()
    page = admin_client.get(_pool_url(consultation))
    assert "The pool is frozen" in page.text
    assert 'name="categories_file"' not in page.text
    assert "min_" not in page.text
    response = _upload(admin_client, consultation)
    assert response.status_code == 409
    assert "its members and quotas can no longer change" in response.text
    assert db.session.scalar(select(func.count()).select_from(Category)) == 2


def _quota_data(consultation, **overrides) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {}
    for category in members.list_categories(consultation):
        data[f"category_label_{category.id}"] = category.label
        for quota in category.quotas:
            data |= {
                f"label_{quota.id}": quota.label,
                f"min_{quota.id}": quota.min_count,
                f"max_{quota.id}": quota.max_count,
            }
    return data | overrides


def test_staff_edit_quotas_and_labels(db, admin_client, consultation):
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    category = femme.category
    data = _quota_data(
        consultation,
        **{
            f"min_{femme.id}": "2",
            f"max_{femme.id}": "4",
            f"label_{femme.id}": "Femmes",
            f"category_label_{category.id}": "Genre déclaré",
        },
    )
    response = admin_client.post(_pool_url(consultation, "quotas"), data=data)
    assert response.status_code == 303
    db.session.expire_all()
    assert (femme.min_count, femme.max_count, femme.label) == (2, 4, "Femmes")
    assert category.label == "Genre déclaré"
    assert "The quotas are saved." in admin_client.get(_pool_url(consultation)).text


@pytest.mark.parametrize(
    ("value_min", "value_max", "message"),
    [
        ("5", "2", "The minimum 5 is above the maximum 2."),
        ("-1", "2", "Give a whole number from 0 to 100000."),
        ("", "2", "Give a whole number."),
        ("abc", "2", "Not a valid integer value."),
        ("0", "99999999999", "Give a whole number from 0 to 100000."),
    ],
)
def test_bad_bounds_are_form_errors(db, admin_client, consultation, value_min, value_max, message):
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    data = _quota_data(consultation, **{f"min_{femme.id}": value_min, f"max_{femme.id}": value_max})
    response = admin_client.post(_pool_url(consultation, "quotas"), data=data)
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    db.session.expire_all()
    assert (femme.min_count, femme.max_count) == (1, 3)


def test_an_empty_label_is_a_form_error(db, admin_client, consultation):
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    data = _quota_data(consultation, **{f"label_{femme.id}": "  "})
    response = admin_client.post(_pool_url(consultation, "quotas"), data=data)
    assert response.status_code == 400
    assert "Give a label." in response.text


def test_quotas_no_panel_can_meet_are_saved(db, admin_client, consultation):
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    data = _quota_data(consultation, **{f"min_{femme.id}": "40", f"max_{femme.id}": "40"})
    assert admin_client.post(_pool_url(consultation, "quotas"), data=data).status_code == 303


def test_quotas_after_the_freeze_are_refused(db, admin_client, consultation):
    femme = db.session.scalar(select(Quota).where(Quota.feature == "femme"))
    make_draw(consultation)
    db.session.commit()
    data = _quota_data(consultation, **{f"min_{femme.id}": "0"})
    response = admin_client.post(_pool_url(consultation, "quotas"), data=data)
    assert response.status_code == 409
    assert "its members and quotas can no longer change" in response.text
    db.session.expire_all()
    assert femme.min_count == 1


def test_the_pool_page_of_an_empty_pool(db, admin_client):
    consultation = factories.make_consultation()
    db.session.commit()
    page = admin_client.get(_pool_url(consultation))
    assert page.status_code == 200
    assert "0 volunteers in the pool." in page.text
    assert "import a pool below" in page.text

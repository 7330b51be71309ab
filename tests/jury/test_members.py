"""The jury pool's services: applications, the import of a pool, the quotas and their labels,
the freeze once a draw is committed, and the summary."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError, NotFound
from consultation.core.models import utcnow
from consultation.extensions import db as database
from consultation.jury import members
from consultation.jury.models import (
    Category,
    MemberFeature,
    MemberSource,
    PoolContact,
    PoolMember,
    Quota,
)
from consultation.jury.pool import PoolError
from tests import factories
from tests.jury.factories import make_draw, make_member, make_quotas
from tests.jury.helpers import shared_folder

CATEGORIES = """category,feature,min,max
gender,female,1,3
gender,male,1,3
age,young,0,2
age,old,1,4
"""
RESPONDENTS = """id,nom,gender,age,courriel,telephone,notes
a1,Ana,female,young,Ana@Example.org,06 12 34 56 78,likes trains
b2,Bob,male,old,bob@example.org,,
c3,Chloé,female,young,,,
d4,,male,young,,,
"""
FEATURES = {"genre": "femme", "age": "35-64"}


def _apply(consultation, **overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "features": FEATURES,
        "full_name": "Alice Martin",
        "email": "alice@example.org",
        "phone": "+33 6 12 34 56 78",
        "has_consented": True,
        "now": utcnow(),
    } | overrides
    return members.apply_to_pool(consultation, **arguments)


def _refusal(consultation, error=DomainError, **overrides) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught:
        _apply(consultation, **overrides)
    return caught.value


def _import(consultation, categories=CATEGORIES, respondents=RESPONDENTS):  # type: ignore[no-untyped-def]
    return members.import_pool(consultation, categories, respondents, None, utcnow())


def _import_refusal(consultation, categories=CATEGORIES, respondents=RESPONDENTS) -> PoolError:  # type: ignore[no-untyped-def]
    with pytest.raises(PoolError) as caught:
        _import(consultation, categories, respondents)
    return caught.value


@pytest.fixture
def consultation(db):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.CONCERTATION)
    make_quotas(consultation)
    return consultation


# --- Applications -------------------------------------------------------------------------------


def test_an_application_keeps_features_and_contact_apart(db, consultation):
    member = _apply(consultation, email="  Alice@Example.ORG ", full_name=" Alice \x00 Martin ")
    db.session.commit()
    assert member.source is MemberSource.APPLICATION
    assert re.fullmatch(r"C[0-9A-F]{10}", member.reference)
    assert "alice" not in member.reference.lower()
    held = {(feature.quota.category.name, feature.quota.feature) for feature in member.features}
    assert held == {("genre", "femme"), ("age", "35-64")}
    assert member.contact.full_name == "Alice Martin"
    assert member.contact.email == "alice@example.org"
    assert member.contact.phone == "+33 6 12 34 56 78"
    assert member.contact.consented_at is not None


def test_references_differ_between_applicants(db, consultation):
    first = _apply(consultation, email="a@example.org")
    second = _apply(consultation, email="b@example.org")
    assert first.reference != second.reference


def test_an_application_without_consent_is_refused(db, consultation):
    error = _refusal(consultation, has_consented=False)
    assert error.field == "has_consented"
    assert db.session.scalar(select(func.count()).select_from(PoolMember)) == 0


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b@c.org", "x" * 330 + "@example.org"])
def test_an_invalid_email_is_refused(db, consultation, email):
    assert _refusal(consultation, email=email).field == "email"


def test_a_duplicate_email_is_refused_whatever_its_case(db, consultation):
    _apply(consultation, email="alice@example.org")
    error = _refusal(consultation, Conflict, email="ALICE@example.org ")
    assert error.status_code == 409
    assert error.field == "email"


def test_the_same_email_may_apply_to_another_consultation(db, consultation):
    _apply(consultation)
    other = factories.make_consultation()
    make_quotas(other)
    assert _apply(other).consultation_id == other.id


def test_a_name_is_required_and_bounded(db, consultation):
    assert _refusal(consultation, full_name="  ").field == "full_name"
    assert _refusal(consultation, full_name="x" * 201).field == "full_name"


def test_a_bad_phone_is_refused_and_an_empty_one_is_none(db, consultation):
    assert _refusal(consultation, phone="call me").field == "phone"
    assert _refusal(consultation, phone="1" * 41).field == "phone"
    assert _apply(consultation, phone="  ").contact.phone is None


def test_a_feature_not_among_the_quotas_is_refused(db, consultation):
    error = _refusal(consultation, features={"genre": "autre", "age": "35-64"})
    assert error.field == "genre"
    assert "autre" in str(error.message)


def test_every_category_must_be_answered(db, consultation):
    assert _refusal(consultation, features={"genre": "femme"}).field == "age"
    assert _refusal(consultation, features={"genre": "femme", "age": ""}).field == "age"


def test_an_unknown_category_is_refused(db, consultation):
    error = _refusal(consultation, features=FEATURES | {"revenu": "haut"})
    assert error.field == "revenu"


def test_applications_close_once_a_draw_is_committed(db, consultation):
    _apply(consultation, email="early@example.org")
    make_draw(consultation)
    assert members.is_pool_frozen(consultation)
    error = _refusal(consultation, Conflict)
    assert error.status_code == 409
    assert members.applications_closed_reason(consultation) is not None


@pytest.mark.parametrize("phase", [Phase.REMISE, Phase.ARCHIVED])
def test_applications_are_closed_after_the_jury(db, phase):
    consultation = factories.make_consultation(phase=phase)
    make_quotas(consultation)
    assert members.applications_closed_reason(consultation) is not None
    assert _refusal(consultation, Conflict).status_code == 409


def test_applications_wait_for_the_categories(db):
    consultation = factories.make_consultation()
    assert members.applications_closed_reason(consultation) is not None
    _refusal(consultation, Conflict, features={})


def test_the_pool_is_not_frozen_without_a_draw(db, consultation):
    assert not members.is_pool_frozen(consultation)
    assert members.applications_closed_reason(consultation) is None


# --- Import -------------------------------------------------------------------------------------


def test_an_import_replaces_the_pool_and_keeps_contacts_apart(db, consultation):
    make_member(consultation, FEATURES)
    summary = _import(consultation)
    db.session.commit()
    assert summary == members.ImportSummary(
        categories=2, quotas=4, members=4, contacts=3, replaced=1
    )
    categories = members.list_categories(consultation)
    assert [category.name for category in categories] == ["gender", "age"]
    assert [(q.feature, q.min_count, q.max_count) for q in categories[0].quotas] == [
        ("female", 1, 3),
        ("male", 1, 3),
    ]
    pool = list(
        db.session.scalars(
            select(PoolMember)
            .where(PoolMember.consultation_id == consultation.id)
            .order_by(PoolMember.reference)
        )
    )
    assert [member.reference for member in pool] == ["a1", "b2", "c3", "d4"]
    assert {member.source for member in pool} == {MemberSource.IMPORT}
    ana = pool[0]
    assert (ana.contact.full_name, ana.contact.email, ana.contact.phone) == (
        "Ana",
        "ana@example.org",
        "06 12 34 56 78",
    )
    assert ana.contact.consented_at is None  # staff gathered consent outside the platform
    assert pool[3].contact is None  # no name, e-mail nor phone
    # The old pool's categories are gone, with their quotas and members.
    assert (
        db.session.scalar(
            select(func.count()).select_from(Category).where(Category.name == "genre")
        )
        == 0
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "jury.pool_imported"))
    assert entry.details["members"] == 4
    assert entry.details["replaced"] == 1


def test_an_import_without_id_numbers_the_rows(db, consultation):
    respondents = "gender,age\nfemale,young\nmale,old\n"
    _import(consultation, respondents=respondents)
    references = db.session.scalars(
        select(PoolMember.reference).where(PoolMember.consultation_id == consultation.id)
    ).all()
    assert sorted(references) == ["R00001", "R00002"]


def test_a_shared_instance_imports_whole(db, consultation):
    folder = shared_folder("example_small_20")
    summary = _import(
        consultation,
        (folder / "categories.csv").read_text(encoding="utf-8"),
        (folder / "respondents.csv").read_text(encoding="utf-8"),
    )
    assert summary.members == 200
    assert summary.contacts == 0
    assert members.pool_summary(consultation).members == 200


def test_an_unknown_feature_names_file_line_and_column(db, consultation):
    bad = RESPONDENTS.replace("b2,Bob,male,old", "b2,Bob,male,ancient")
    error = _import_refusal(consultation, respondents=bad)
    assert (error.file, error.line, error.column) == ("respondents.csv", 3, "age")
    assert "ancient" in str(error)


def test_a_missing_column_is_refused(db, consultation):
    error = _import_refusal(consultation, respondents="id,gender\na1,female\n")
    assert (error.file, error.line) == ("respondents.csv", 1)
    assert "age" in str(error)
    error = _import_refusal(consultation, categories="category,feature,min\ngender,female,1\n")
    assert error.file == "categories.csv"
    assert "max" in str(error)


def test_a_duplicate_id_is_refused(db, consultation):
    bad = RESPONDENTS.replace("c3,Chloé", "a1,Chloé")
    error = _import_refusal(consultation, respondents=bad)
    assert (error.file, error.line, error.column) == ("respondents.csv", 4, "id")


def test_a_duplicate_or_invalid_email_in_the_file_is_refused(db, consultation):
    bad = RESPONDENTS.replace("bob@example.org", "ANA@example.org")
    error = _import_refusal(consultation, respondents=bad)
    assert (error.line, error.column) == (3, "courriel")
    bad = RESPONDENTS.replace("bob@example.org", "bob-at-example")
    assert _import_refusal(consultation, respondents=bad).column == "courriel"


@pytest.mark.parametrize(
    ("categories", "respondents", "column"),
    [
        (CATEGORIES.replace("4\n", "999999999\n"), RESPONDENTS, "max"),
        (CATEGORIES.replace("young", "y" * 81), RESPONDENTS.replace("young", "y" * 81), "feature"),
        (CATEGORIES, RESPONDENTS.replace("a1,", "a" * 81 + ","), "id"),
        (CATEGORIES, RESPONDENTS.replace("06 12 34 56 78", "0" * 41), "telephone"),
        (CATEGORIES, RESPONDENTS.replace("Ana,", "A" * 201 + ","), "nom"),
    ],
)
def test_values_too_large_for_the_columns_are_refused(
    db, consultation, categories, respondents, column
):
    assert _import_refusal(consultation, categories, respondents).column == column


def test_a_refused_import_changes_nothing(db, consultation):
    member = make_member(consultation, FEATURES)
    _import_refusal(consultation, respondents=RESPONDENTS.replace("old", "ancient"))
    assert db.session.get(PoolMember, member.id) is not None
    assert [category.name for category in members.list_categories(consultation)] == [
        "genre",
        "age",
    ]


def test_nul_bytes_and_undecodable_files_are_refused(db, consultation):
    with pytest.raises(PoolError) as caught:
        members.decode_upload(b"category\x00,feature", "categories.csv")
    assert caught.value.file == "categories.csv"
    assert members.decode_upload("é".encode("cp1252"), "x.csv") == "é"
    assert members.decode_upload("\ufeffé".encode(), "x.csv") == "é"
    error = _import_refusal(consultation, respondents=RESPONDENTS + "e5\x00,Eve,female,old,,,\n")
    assert error.file == "respondents.csv"


def test_an_import_is_refused_once_frozen(db, consultation):
    make_draw(consultation)
    with pytest.raises(Conflict) as caught:
        _import(consultation)
    assert caught.value.status_code == 409


def test_an_archived_consultation_refuses_an_import(db):
    consultation = factories.make_consultation(phase=Phase.ARCHIVED)
    with pytest.raises(Conflict):
        _import(consultation)


def test_a_reimport_twice_in_a_session_keeps_the_new_rows(db, consultation):
    _import(consultation)
    _import(consultation, respondents="id,gender,age\nz9,male,old\n")
    db.session.commit()
    assert db.session.scalars(select(PoolMember.reference)).all() == ["z9"]
    assert db.session.scalar(select(func.count()).select_from(PoolContact)) == 0
    assert db.session.scalar(select(func.count()).select_from(MemberFeature)) == 2


# --- Quotas and labels ---------------------------------------------------------------------------


def _quota(consultation, feature: str) -> Quota:  # type: ignore[no-untyped-def]
    return database.session.scalar(
        select(Quota)
        .join(Category)
        .where(Category.consultation_id == consultation.id, Quota.feature == feature)
    )


def test_quotas_and_labels_are_updated_and_audited(db, consultation):
    femme = _quota(consultation, "femme")
    members.update_quotas(consultation, {femme.id: (2, 5, "Femmes")}, None)
    category = members.list_categories(consultation)[0]
    members.update_category_labels(consultation, {category.id: "Genre déclaré"}, None)
    db.session.commit()
    assert (femme.min_count, femme.max_count, femme.label) == (2, 5, "Femmes")
    assert category.label == "Genre déclaré"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "jury.quotas_updated" in actions
    assert "jury.categories_renamed" in actions


def test_quotas_no_panel_can_meet_are_kept(db, consultation):
    femme = _quota(consultation, "femme")
    members.update_quotas(consultation, {femme.id: (50, 50, "femme")}, None)
    assert femme.min_count == 50


def test_unchanged_quotas_record_nothing(db, consultation):
    femme = _quota(consultation, "femme")
    members.update_quotas(consultation, {femme.id: (1, 3, "femme")}, None)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize(
    ("bounds", "field"),
    [((4, 2, "femme"), "min"), ((-1, 2, "femme"), "min"), ((0, 10**9, "femme"), "max")],
)
def test_bad_bounds_are_refused_beside_their_field(db, consultation, bounds, field):
    femme = _quota(consultation, "femme")
    with pytest.raises(DomainError) as caught:
        members.update_quotas(consultation, {femme.id: bounds}, None)
    assert caught.value.field == f"{field}_{femme.id}"
    assert (femme.min_count, femme.max_count) == (1, 3)


def test_a_refused_row_changes_no_other_row(db, consultation):
    femme, homme = _quota(consultation, "femme"), _quota(consultation, "homme")
    with pytest.raises(DomainError):
        members.update_quotas(
            consultation, {femme.id: (0, 1, "femme"), homme.id: (3, 1, "homme")}, None
        )
    assert femme.min_count == 1


def test_an_empty_or_long_label_is_refused(db, consultation):
    femme = _quota(consultation, "femme")
    category = members.list_categories(consultation)[0]
    with pytest.raises(DomainError) as caught:
        members.update_quotas(consultation, {femme.id: (1, 3, " ")}, None)
    assert caught.value.field == f"label_{femme.id}"
    with pytest.raises(DomainError) as caught:
        members.update_category_labels(consultation, {category.id: "x" * 201}, None)
    assert caught.value.field == f"category_label_{category.id}"


def test_another_consultations_quota_is_not_found(db, consultation):
    other = factories.make_consultation()
    make_quotas(other)
    foreign = _quota(other, "femme")
    with pytest.raises(NotFound):
        members.update_quotas(consultation, {foreign.id: (0, 1, "x")}, None)
    foreign_category = members.list_categories(other)[0]
    with pytest.raises(NotFound):
        members.update_category_labels(consultation, {foreign_category.id: "x"}, None)


def test_quotas_are_refused_once_frozen(db, consultation):
    femme = _quota(consultation, "femme")
    make_draw(consultation)
    with pytest.raises(Conflict):
        members.update_quotas(consultation, {femme.id: (0, 3, "femme")}, None)
    with pytest.raises(Conflict):
        members.update_category_labels(consultation, {femme.category_id: "G"}, None)


# --- Summary -------------------------------------------------------------------------------------


def test_the_summary_counts_members_per_feature(db, consultation):
    make_member(consultation, {"genre": "femme", "age": "18-34"})
    make_member(consultation, {"genre": "femme", "age": "65+"})
    make_member(consultation, {"genre": "homme", "age": "65+"})
    other = factories.make_consultation()
    make_quotas(other)
    make_member(other, {"genre": "femme", "age": "65+"})  # not counted
    summary = members.pool_summary(consultation)
    assert summary.members == 3
    assert [category.name for category in summary.categories] == ["genre", "age"]
    genre, age = summary.categories
    assert [(f.feature, f.min, f.max, f.count) for f in genre.features] == [
        ("femme", 1, 3, 2),
        ("homme", 1, 3, 1),
    ]
    assert [(f.feature, f.count) for f in age.features] == [("18-34", 1), ("35-64", 0), ("65+", 2)]
    assert not genre.features[1].is_short


def test_the_summary_of_an_empty_pool(db):
    consultation = factories.make_consultation()
    summary = members.pool_summary(consultation)
    assert (summary.categories, summary.members) == ([], 0)


@pytest.mark.parametrize("size", [3, 60])
def test_the_summary_runs_three_queries_whatever_the_size(db, consultation, count_queries, size):
    for index in range(size):
        make_member(consultation, {"genre": ["femme", "homme"][index % 2], "age": "65+"})
    db.session.commit()
    assert consultation.id  # reload the expired consultation before counting
    with count_queries() as statements:
        summary = members.pool_summary(consultation)
        [feature.label for category in summary.categories for feature in category.features]
    assert summary.members == size
    assert len(statements) == 3, statements

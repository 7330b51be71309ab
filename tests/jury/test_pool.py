"""Reading a pool: the Sortition Foundation's two files, every refusal, and the member types."""

from __future__ import annotations

from pathlib import Path

import pytest

from consultation.jury.pool import (
    InfeasibleQuotas,
    PoolError,
    check_panel_size,
    check_quotas,
    parse_categories,
    parse_pool,
    read_pool,
)
from tests.jury.helpers import SORTITION_DATA, shared_pool, write_pool

CATEGORIES = """category,feature,min,max
gender,female,1,3
gender,male,1,3
age,young,0,2
age,old,1,4
"""
RESPONDENTS = """id,name,gender,age,email
a1,Ana,female,young,ana@example.org
b2,Bob,male,old,bob@example.org
c3,Chloé,female,young,chloe@example.org
d4,Dan,male,young,dan@example.org
e5,Eve,female,old,eve@example.org
"""


def refusal(categories: str = CATEGORIES, respondents: str = RESPONDENTS) -> PoolError:
    with pytest.raises(PoolError) as caught:
        parse_pool(categories, respondents)
    return caught.value


def test_reads_quotas_members_and_types_in_order() -> None:
    pool = parse_pool(CATEGORIES, RESPONDENTS)
    assert pool.categories == ("gender", "age")
    first = pool.quotas[0]
    assert (first.category, first.feature, first.min, first.max) == ("gender", "female", 1, 3)
    assert pool.columns == ("id", "name", "gender", "age", "email")
    assert pool.delimiter == ","
    assert [member.row["id"] for member in pool.members] == ["a1", "b2", "c3", "d4", "e5"]
    assert pool.members[2].row["email"] == "chloe@example.org"
    assert pool.members[0].line == 2
    # Ana and Chloé share (female, young): one type of two members.
    assert [(t.features, t.members) for t in pool.types] == [
        (("female", "young"), (0, 2)),
        (("male", "old"), (1,)),
        (("male", "young"), (3,)),
        (("female", "old"), (4,)),
    ]
    assert pool.member_types == (0, 1, 0, 2, 3)
    assert pool.size == 5
    assert pool.count(pool.quotas[0]) == 3


def test_reads_semicolons_and_a_byte_order_mark(tmp_path: Path) -> None:
    categories, respondents = write_pool(
        tmp_path, CATEGORIES.replace(",", ";"), "\ufeff" + RESPONDENTS.replace(",", ";")
    )
    pool = read_pool(categories, respondents)
    assert pool.delimiter == ";"
    assert pool.columns[0] == "id"
    assert len(pool.types) == 4


def test_reads_the_shared_instances_into_three_types() -> None:
    if not SORTITION_DATA.exists():
        pytest.skip("the shared sortition data is missing")
    pool = shared_pool("example_large_200")
    assert pool.size == 2000
    assert sorted(t.size for t in pool.types) == [1, 999, 1000]
    check_quotas(pool, 200)


@pytest.mark.parametrize(
    ("categories", "line", "column", "words"),
    [
        ("category,feature,min\ngender,female,1\n", 1, None, "Missing columns: max"),
        (CATEGORIES + "age,middle,3,2\n", 6, "min", "minimum 3 is above the maximum 2"),
        (CATEGORIES + "age,middle,-1,2\n", 6, "min", "cannot be negative"),
        (CATEGORIES + "age,middle,0,2.5\n", 6, "max", "“2.5” is not a whole number"),
        (CATEGORIES + "age,middle,0,\n", 6, "max", "This quota has no max"),
        (CATEGORIES + "age,,0,1\n", 6, "feature", "This cell is empty"),
        (CATEGORIES + "gender,male,0,5\n", 6, "feature", "already given on line 3"),
    ],
)
def test_refuses_bad_quotas(categories: str, line: int, column: str | None, words: str) -> None:
    error = refusal(categories=categories)
    assert error.file == "categories.csv"
    assert error.line == line
    assert error.column == column
    assert words in str(error)
    assert str(error).startswith(f"categories.csv, line {line}")


@pytest.mark.parametrize(
    ("respondents", "line", "column", "words"),
    [
        (
            "id,name,age\na1,Ana,young\n",
            1,
            None,
            "Missing columns for the categories: gender",
        ),
        (
            RESPONDENTS + "f6,Fay,other,young,fay@example.org\n",
            7,
            "gender",
            "“other” is not a feature of the category gender",
        ),
        (
            RESPONDENTS + "f6,Fay,female,,fay@example.org\n",
            7,
            "age",
            "no feature for the category age",
        ),
        (
            RESPONDENTS + "b2,Bea,female,old,bea@example.org\n",
            7,
            "id",
            "The id b2 is already used on line 3",
        ),
        (
            RESPONDENTS + "f6,Fay,female,old,fay@example.org,extra\n",
            7,
            None,
            "more cells than the header",
        ),
        ("id,gender,age,gender\na1,female,young,male\n", 1, None, "Columns given twice: gender"),
    ],
)
def test_refuses_bad_respondents(
    respondents: str, line: int, column: str | None, words: str
) -> None:
    error = refusal(respondents=respondents)
    assert error.file == "respondents.csv"
    assert (error.line, error.column) == (line, column)
    assert words in str(error)


def test_error_names_file_line_and_column() -> None:
    error = refusal(respondents=RESPONDENTS + "f6,Fay,other,young,x@example.org\n")
    assert str(error) == (
        "respondents.csv, line 7, column “gender”: "
        "“other” is not a feature of the category gender in the quotas."
    )


def test_duplicate_names_are_fine_without_an_id_column() -> None:
    respondents = "gender,age\nfemale,young\nfemale,young\nmale,old\n"
    assert parse_pool(CATEGORIES, respondents).size == 3


@pytest.mark.parametrize(
    ("categories", "respondents", "words"),
    [
        ("", RESPONDENTS, "The file is empty"),
        ("  \n\n", RESPONDENTS, "The file is empty"),
        (CATEGORIES, "", "The file is empty"),
        ("category,feature,min,max\n", RESPONDENTS, "no data row"),
        (CATEGORIES, "id,gender,age\n\n", "no data row"),
    ],
)
def test_refuses_empty_files(categories: str, respondents: str, words: str) -> None:
    assert words in str(refusal(categories, respondents))


def test_refuses_missing_and_non_utf8_files(tmp_path: Path) -> None:
    categories, respondents = write_pool(tmp_path, CATEGORIES, RESPONDENTS)
    with pytest.raises(PoolError, match="does not exist"):
        read_pool(tmp_path / "nothing.csv", respondents)
    respondents.write_bytes(RESPONDENTS.replace("Chloé", "Chlo\xe9").encode("latin-1"))
    with pytest.raises(PoolError, match=r"respondents\.csv: The file is not UTF-8 text"):
        read_pool(categories, respondents)


@pytest.mark.parametrize(("k", "words"), [(0, "at least 1"), (-3, "at least 1"), (6, "larger")])
def test_refuses_a_panel_size_out_of_range(k: int, words: str) -> None:
    pool = parse_pool(CATEGORIES, RESPONDENTS)
    with pytest.raises(PoolError, match=words):
        check_panel_size(pool, k)
    check_panel_size(pool, 5)


def test_reports_each_quota_that_cannot_be_met() -> None:
    categories = CATEGORIES.replace("gender,female,1,3", "gender,female,4,5").replace(
        "age,old,1,4", "age,old,1,1"
    )
    pool = parse_pool(categories, RESPONDENTS)
    with pytest.raises(InfeasibleQuotas) as caught:
        check_quotas(pool, 3)
    assert caught.value.problems == [
        "gender/female: at least 4 needed but only 3 in the pool.",
        "category gender: the minimums add up to 5 > k = 3.",
    ]
    with pytest.raises(InfeasibleQuotas) as caught:
        check_quotas(pool, 5)
    assert caught.value.problems == [
        "gender/female: at least 4 needed but only 3 in the pool.",
        "category age: the maximums add up to 3 < k = 5 "
        "(counting at most the members who hold each feature).",
    ]


def test_parse_categories_keeps_file_order() -> None:
    quotas = parse_categories(CATEGORIES)
    assert [quota.feature for quota in quotas] == ["female", "male", "young", "old"]

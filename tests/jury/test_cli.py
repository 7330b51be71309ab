"""`flask jury distribution`: the output file, the summary, and clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from flask import Flask

from tests.jury.helpers import SORTITION_DATA, write_pool

SMALL = SORTITION_DATA / "example_small_20"


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["jury", "distribution", *args])


def small_args(out: Path, size: str = "20") -> list[str]:
    return [
        "--categories",
        str(SMALL / "categories.csv"),
        "--respondents",
        str(SMALL / "respondents.csv"),
        "--size",
        size,
        "--out",
        str(out),
    ]


@pytest.mark.parametrize("algorithm", ["leximin", "legacy"])
def test_writes_every_respondent_in_order_with_a_probability(
    app: Flask, tmp_path: Path, algorithm: str
) -> None:
    if not SMALL.exists():
        pytest.skip("the shared sortition data is missing")
    out = tmp_path / "probabilities.csv"
    extra = ["--draws", "500"] if algorithm == "legacy" else []
    result = run(app, *small_args(out), "--algorithm", algorithm, *extra)
    assert result.exit_code == 0, result.output
    assert "minimum probability:" in result.output
    assert "maximum probability:" in result.output
    assert "k/n: 10.0000%" in result.output
    assert "time:" in result.output
    with (SMALL / "respondents.csv").open(encoding="utf-8") as handle:
        original = list(csv.reader(handle))
    with out.open(encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0] == [*original[0], "probability"]
    assert [row[:-1] for row in written[1:]] == original[1:]
    probabilities = [float(row[-1]) for row in written[1:]]
    assert sum(probabilities) == pytest.approx(20, abs=1e-4)
    if algorithm == "leximin":
        assert "minimum probability: 10.0000%" in result.output
        assert min(probabilities) == pytest.approx(0.10, abs=0.001)


def test_keeps_extra_columns_and_the_delimiter(app: Flask, tmp_path: Path) -> None:
    categories, respondents = write_pool(
        tmp_path,
        "category;feature;min;max\ng;x;1;1\ng;y;0;1\ng;z;0;1\n",
        "id;g;email\n1;x;a@example.org\n2;y;b@example.org\n3;z;c@example.org\n",
    )
    out = tmp_path / "out.csv"
    args = ["--categories", str(categories), "--respondents", str(respondents)]
    result = run(app, *args, "--size", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "id;g;email;probability",
        "1;x;a@example.org;1.000000000",
        "2;y;b@example.org;0.500000000",
        "3;z;c@example.org;0.500000000",
    ]


def test_bad_input_is_a_clear_error(app: Flask, tmp_path: Path) -> None:
    categories, respondents = write_pool(
        tmp_path, "category,feature,min,max\ng,x,2,1\n", "g\nx\nx\n"
    )
    out = tmp_path / "out.csv"
    args = ["--categories", str(categories), "--respondents", str(respondents)]
    result = run(app, *args, "--size", "1", "--out", str(out))
    assert result.exit_code == 1
    assert "Error: categories.csv, line 2, column “min”: The minimum 2 is above" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_infeasible_quotas_and_sizes_are_clear_errors(app: Flask, tmp_path: Path) -> None:
    categories, respondents = write_pool(
        tmp_path,
        "category,feature,min,max\ngender,female,9,20\ngender,male,0,20\n",
        "gender\n" + "female\n" * 5 + "male\n" * 30,
    )
    args = ["--categories", str(categories), "--respondents", str(respondents)]
    out = str(tmp_path / "out.csv")
    result = run(app, *args, "--size", "20", "--out", out)
    assert result.exit_code == 1
    assert "gender/female: at least 9 needed but only 5 in the pool." in result.output
    for size, words in (("0", "at least 1"), ("36", "larger than the pool")):
        result = run(app, *args, "--size", size, "--out", out)
        assert result.exit_code == 1
        assert words in result.output
    result = run(app, *args, "--size", "20", "--out", out, "--algorithm", "legacy")
    assert result.exit_code == 1
    assert "at least 9 needed" in result.output


def test_missing_files_and_options_are_refused(app: Flask, tmp_path: Path) -> None:
    result = run(app, "--categories", str(tmp_path / "none.csv"), "--size", "2")
    assert result.exit_code == 2
    assert "does not exist" in result.output

"""Shared instances and small pools written on the fly for the jury tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from consultation.jury.pool import Pool, read_pool

# The shared instances of Flanigan et al., read in place (never copied into the project).
SORTITION_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sortition"
REFERENCE_MINIMUM = 0.10  # "LEXIMIN minimum probability (exact)" of both reference_statistics.txt


def shared_folder(name: str) -> Path:
    """The folder of one of the shared instances; the test is skipped where they are absent."""
    folder = SORTITION_DATA / name
    if not folder.exists():
        pytest.skip("the shared sortition data is missing")
    return folder


def shared_pool(name: str) -> Pool:
    """One of the shared instances, e.g. example_small_20."""
    folder = shared_folder(name)
    return read_pool(folder / "categories.csv", folder / "respondents.csv")


def write_pool(folder: Path, categories: str, respondents: str) -> tuple[Path, Path]:
    """Write a pool's two files into a folder; returns their paths."""
    categories_path = folder / "categories.csv"
    respondents_path = folder / "respondents.csv"
    categories_path.write_text(categories, encoding="utf-8")
    respondents_path.write_text(respondents, encoding="utf-8")
    return categories_path, respondents_path

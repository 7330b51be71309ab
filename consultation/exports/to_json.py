"""The final text as JSON: the same content as the other formats, for machines, described by the
JSON Schema `schemas/final-text.schema.json` (draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from consultation.exports.final_text import FinalText, to_data

SCHEMA = Path(__file__).parent / "schemas" / "final-text.schema.json"
MAX_PROBLEMS = 50  # validate_json reports at most this many


def render(text: FinalText) -> bytes:
    """The final text as UTF-8 JSON: sorted keys, indented, so that it diffs and reads well."""
    return json.dumps(to_data(text), sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"


@cache
def validator() -> Draft202012Validator:
    """The schema's validator, built once (the schema itself is checked against the draft)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_json(data: Any) -> list[str]:
    """What makes `data` differ from the schema ("articles/0/num: … is not of type 'string'");
    empty when it conforms."""
    problems = []
    for error in sorted(validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"… and {len(problems) - MAX_PROBLEMS} more"]
    return problems

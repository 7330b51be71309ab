"""Property tests on what takes untrusted input in bulk: the Markdown renderer never lets a
script through, and every importer either succeeds or refuses with the project's own error,
writing nothing when it refuses."""

from __future__ import annotations

import csv
import io
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consultation.core.errors import DomainError
from consultation.core.markdown import render_markdown
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury import members
from consultation.jury.models import Category, PoolContact, PoolMember, Quota
from consultation.jury.pool import PoolError, parse_pool, read_pool
from consultation.proposals import importing
from consultation.proposals.models import Proposal, ProposalImport, ProposalRevision
from tests import factories
from tests.jury.factories import make_member, make_quotas
from tests.proposals.helpers import theme

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no example store written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
XSS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](http://a.example "t" onmouseover="alert(1)")',
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    '<p style="color:red">x</p>',
    "<iframe src=//evil.example>",
    "<style>body{}</style>",
    "`<script>`",
    "```\n<script>\n```",
    "<<script>script>",
    "<scr<script>ipt>",
    "\x00<script>",
    "*[x](javascript:alert(1))*",
    "| a |\n|---|\n| <script> |",
    '<a href="x" onclick="y">',
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "<math><mtext><script>",
    "&lt;script&gt;",
    "\u2028javascript:alert(1)",
)
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class _Tags(HTMLParser):
    """Every start tag of a piece of HTML with its attributes, entities resolved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _unsafe_parts(html: str) -> list[str]:
    problems = []
    if "<script" in html.lower():
        problems.append("a <script")
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attributes in parser.tags:
        if tag in ("script", "style", "iframe", "img", "svg", "math", "object", "embed"):
            problems.append(f"a <{tag}> tag")
        for name, value in attributes:
            if name.startswith("on") or name == "style":
                problems.append(f"a {name}= attribute")
            if name in ("href", "src") and value is not None:
                cleaned = "".join(char for char in unescape(value) if char > " ").lower()
                for prefix in ("javascript:", "data:", "vbscript:"):
                    if cleaned.startswith(prefix):
                        problems.append(f"a {prefix} URL")
                if urlsplit(cleaned).scheme not in SAFE_SCHEMES:
                    problems.append(f"a URL with scheme {urlsplit(cleaned).scheme}")
    return problems


markdown_sources = st.lists(
    st.one_of(st.text(max_size=80), st.sampled_from(XSS), st.sampled_from(["\n", "\n\n", " "])),
    max_size=12,
).map("".join)


@FUZZ
@given(source=markdown_sources)
def test_markdown_never_renders_a_script(source):
    html = str(render_markdown(source))
    assert _unsafe_parts(html) == [], (source, html)


@pytest.mark.parametrize("payload", XSS)
def test_every_payload_alone_is_neutralised(payload):
    html = str(render_markdown(payload))
    assert _unsafe_parts(html) == [], html


# --- The proposals' CSV import ------------------------------------------------------------------

HEADERS = ["titre", "résumé", "texte", "thème", "organisation", "débat", "date de dépôt"]


def _csv(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


@st.composite
def proposal_files(draw) -> bytes:
    """Arbitrary bytes, or a CSV file close to a real one: known and unknown columns, cells
    that resolve (the theme, the organisation) or not, any encoding."""
    mode = draw(st.integers(0, 2))
    if mode == 0:
        return draw(st.binary(max_size=600))
    if mode == 1:
        return _nearly_valid_proposals(draw)
    header = draw(
        st.lists(st.sampled_from([*HEADERS, "Titre*", "inconnue", ""]), min_size=1, max_size=9)
    )
    cell = st.one_of(
        st.text(max_size=30),
        st.sampled_from(["produire", "Organisation fuzz", "1", "15/12/2021", "31/02/2021", "=1+1"]),
    )
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 1), max_size=6))
    text = _csv([header, *rows], draw(st.sampled_from([";", ","])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _nearly_valid_proposals(draw) -> bytes:
    """The required columns in any order, rows that resolve, some cells replaced by noise."""
    header = draw(st.permutations(["titre", "résumé", "texte", "thème", "organisation"]))
    noise = st.one_of(st.text(max_size=20), st.sampled_from(["", "=cmd|x", "autre thème"]))
    valid = {
        "titre": None,
        "résumé": "Un résumé.",
        "texte": "Le **texte**.",
        "thème": "produire",
        "organisation": "Organisation fuzz",
    }
    rows = []
    for number in range(draw(st.integers(1, 5))):
        row = []
        for column in header:
            value = valid[column] or f"Proposition {number} {draw(st.text(max_size=10))}"
            row.append(draw(noise) if draw(st.integers(0, 9)) == 0 else value)
        rows.append(row)
    return _csv([list(header), *rows], draw(st.sampled_from([";", ","]))).encode()


def _counts(*models) -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in models)


@pytest.fixture
def import_world(app, db):
    consultation = factories.make_consultation()
    theme(consultation, "produire", "Produire")
    factories.make_organisation(name="Organisation fuzz")
    admin = factories.make_user("admin")
    db.session.commit()
    return consultation, admin


def test_the_proposals_import_succeeds_or_refuses_cleanly(import_world):
    consultation, admin = import_world
    tables = (Proposal, ProposalRevision, ProposalImport)
    outcomes = {"refused at upload": 0, "refused at confirmation": 0, "imported": 0}

    @FUZZ
    @given(content=proposal_files())
    def check(content):
        before = _counts(*tables)
        now = utcnow()
        try:
            try:
                batch = importing.upload_import(consultation, "f.csv", content, admin)
            except DomainError as error:
                assert str(error.message)
                assert _counts(*tables) == before  # nothing kept of a refused file
                outcomes["refused at upload"] += 1
                return
            checked = importing.check_import(batch, now)
            try:
                imported = importing.confirm_import(batch, admin, now)
            except DomainError as error:
                assert str(error.message)
                assert _counts(Proposal, ProposalRevision) == before[:2]  # all or nothing
                outcomes["refused at confirmation"] += 1
            else:
                assert imported == checked.total == checked.valid
                assert _counts(Proposal)[0] == before[0] + imported
                outcomes["imported"] += 1
        finally:
            db.session.rollback()

    check()
    assert outcomes["refused at upload"] and outcomes["refused at confirmation"], outcomes


# --- The jury pool: uploads, and the sortition files of the CLI ---------------------------------

POOL_NAMES = ["genre", "age", "région", "", "id", "email", "nom"]
POOL_FEATURES = ["femme", "homme", "18-34", "65+", "", "x" * 90]


@st.composite
def pool_files(draw) -> tuple[bytes, bytes]:
    mode = draw(st.integers(0, 3))
    if mode == 0:
        return draw(st.binary(max_size=300)), draw(st.binary(max_size=300))
    if mode == 1:
        return _nearly_valid_pool(draw)
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    header = draw(st.sampled_from([["category", "feature", "min", "max"], ["category", "min"]]))
    bound = st.one_of(st.integers(-2, 8).map(str), st.sampled_from(["", "x", "1.5", "10**9"]))
    quota_rows = draw(
        st.lists(
            st.tuples(st.sampled_from(POOL_NAMES), st.sampled_from(POOL_FEATURES), bound, bound),
            max_size=6,
        )
    )
    columns = draw(st.lists(st.sampled_from(POOL_NAMES), min_size=1, max_size=4))
    members_rows = draw(
        st.lists(
            st.lists(
                st.one_of(st.sampled_from(POOL_FEATURES), st.text(max_size=12)),
                min_size=len(columns) - 1,
                max_size=len(columns) + 1,
            ),
            max_size=8,
        )
    )
    categories = _csv([header, *map(list, quota_rows)], delimiter)
    respondents = _csv([columns, *members_rows], delimiter)
    return categories.encode(), respondents.encode()


def _nearly_valid_pool(draw) -> tuple[bytes, bytes]:
    """Two categories with loose quotas, members holding their features, some cells noise."""
    categories = "category,feature,min,max\ngenre,femme,0,5\ngenre,homme,0,5\nage,jeune,0,5\n"
    columns = draw(st.sampled_from([["genre", "age"], ["age", "genre", "email"], ["genre"]]))
    noise = st.one_of(st.text(max_size=8), st.sampled_from(["", "autre", "a@b", "x" * 400]))
    values = {"genre": st.sampled_from(["femme", "homme"]), "age": st.just("jeune")}
    values["email"] = st.sampled_from(["", "v@example.org", "pas-une-adresse"])
    rows = [
        [
            draw(noise) if draw(st.integers(0, 9)) == 0 else draw(values[column])
            for column in columns
        ]
        for _ in range(draw(st.integers(1, 6)))
    ]
    return categories.encode(), _csv([columns, *rows], ",").encode()


@pytest.fixture
def pool_world(app, db):
    consultation = factories.make_consultation()
    make_quotas(consultation)
    make_member(consultation, {"genre": "femme", "age": "18-34"})
    admin = factories.make_user("admin")
    db.session.commit()
    return consultation, admin


def test_the_pool_import_succeeds_or_refuses_cleanly(pool_world):
    consultation, admin = pool_world
    tables = (Category, Quota, PoolMember, PoolContact)
    outcomes = {"refused": 0, "imported": 0}

    @FUZZ
    @given(files=pool_files())
    def check(files):
        before = _counts(*tables)
        try:
            texts = [members.decode_upload(content, "f.csv") for content in files]
            members.import_pool(consultation, *texts, admin, utcnow())
        except DomainError as error:
            assert str(error)
            assert _counts(*tables) == before  # the old pool is untouched
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += 1
        finally:
            db.session.rollback()

    check()
    assert outcomes["refused"] and outcomes["imported"], outcomes


def test_the_sortition_files_read_or_refuse_cleanly(tmp_path: Path):
    categories_path, respondents_path = tmp_path / "categories.csv", tmp_path / "respondents.csv"

    @FUZZ
    @given(files=pool_files())
    def check(files):
        categories_path.write_bytes(files[0])
        respondents_path.write_bytes(files[1])
        try:
            pool = read_pool(categories_path, respondents_path)
        except PoolError as error:
            assert str(error)
        else:
            assert (
                parse_pool(
                    categories_path.read_text("utf-8-sig"), respondents_path.read_text("utf-8-sig")
                ).members
                == pool.members
            )

    check()

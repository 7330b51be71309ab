"""French full-text search over proposals: accent-insensitive and stemmed.

Both databases search the same normalised words (lower case, accents removed, stop words
dropped), so that a query finds the same proposals on either:

- SQLite: an FTS5 table, `fts_proposal`, whose rowid is the proposal's id; the words are
  stemmed here with PyStemmer's Snowball French stemmer (FTS5 has no French stemmer of its
  own), and ranked by bm25.
- PostgreSQL: a `tsvector` per proposal in `fts_proposal`, built with the `french` configuration
  (its Snowball stemmer), under a GIN index, ranked by `ts_rank_cd`.

The index tables are made by the migrations, outside the models (their types exist on one
database only); the services keep them up to date whenever a proposal's text changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import Stemmer
from sqlalchemy import Float, Integer, Subquery, text
from sqlalchemy.orm import Session

from consultation.proposals.models import Proposal

WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_TERMS = 32  # a pasted page of text is cut to its first words, not refused
LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'"})

# Words too common to tell proposals apart, without accents (PostgreSQL's `french`
# configuration drops its own list; dropping them here too keeps both databases alike).
_STOP_WORDS_TEXT = """
    a afin ai aie aient ainsi alors au aucun aucune aupres aussi autre autres aux avait avant
    avec avoir c ca ce ceci cela celle celles celui ces cet cette ceux chaque ci comme comment
    d dans de des deja donc dont du elle elles en encore entre est et etaient etait ete etre eu
    eux fait faire il ils j je l la le les leur leurs lui m ma mais me meme memes mes moi mon n
    ne ni nos notre nous on ont ou par parce pas peu peut plus pour pourquoi qu quand que quel
    quelle quelles quels qui s sa sans se ses si sien son sont sous soit sur t ta te tes toi
    ton tous tout toute toutes tres tu un une vos votre vous y
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class Document:
    """The searchable text of one proposal: its title weighs more than the rest."""

    proposal_id: int
    title: str
    content: str


def normalise(value: str) -> str:
    """Lower case, without accents or ligatures: "Œuvrer à l'Égalité" → "oeuvrer a l'egalite"."""
    decomposed = unicodedata.normalize("NFKD", value.translate(LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def words(value: str) -> list[str]:
    """The normalised words of a text, stop words left out."""
    return [word for word in WORD.findall(normalise(value)) if word not in STOP_WORDS]


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def stems(value: str) -> list[str]:
    """The French stems of a text's words: "logements sociaux" → ["logement", "social"]."""
    return _stemmer().stemWords(words(value))


def document_of(proposal: Proposal) -> Document:
    content = "\n".join((proposal.summary, proposal.body, proposal.rationale))
    return Document(proposal.id, proposal.title, content)


def _query_terms(value: str) -> list[str]:
    """The distinct words of a query, in order, at most MAX_QUERY_TERMS."""
    seen: dict[str, None] = {}
    for word in words(value):
        seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


# --- Indexing ------------------------------------------------------------------------------


def index(session: Session, documents: Sequence[Document]) -> None:
    """Add or replace the index entries of these proposals."""
    if not documents:
        return
    ids = [{"id": document.proposal_id} for document in documents]
    if session.get_bind().dialect.name == "postgresql":
        rows = [
            {"id": d.proposal_id, "title": normalise(d.title), "content": normalise(d.content)}
            for d in documents
        ]
        session.execute(
            text(
                "INSERT INTO fts_proposal (proposal_id, document) VALUES (:id, "
                "setweight(to_tsvector('french', :title), 'A') || "
                "setweight(to_tsvector('french', :content), 'B')) "
                "ON CONFLICT (proposal_id) DO UPDATE SET document = excluded.document"
            ),
            rows,
        )
        return
    rows = [
        {
            "id": d.proposal_id,
            "title": " ".join(stems(d.title)),
            "content": " ".join(stems(d.content)),
        }
        for d in documents
    ]
    session.execute(text("DELETE FROM fts_proposal WHERE rowid = :id"), ids)
    session.execute(
        text("INSERT INTO fts_proposal (rowid, title, content) VALUES (:id, :title, :content)"),
        rows,
    )


def index_proposals(session: Session, proposals: Iterable[Proposal]) -> None:
    """Index (again) the text of these proposals; they must have been flushed."""
    index(session, [document_of(proposal) for proposal in proposals])


def clear(session: Session) -> None:
    """Empty the index (tests start from a clean database)."""
    session.execute(text("DELETE FROM fts_proposal"))


# --- Searching -----------------------------------------------------------------------------


def matches(session: Session, query: str, *, any_word: bool = False) -> Subquery | None:
    """The proposals matching a query, as a subquery of (proposal_id, rank), best rank first
    when ordered by `rank`. Every word must match, or with `any_word` one is enough (to find
    similar proposals). Operators and quotes typed by the user are plain text here; a query
    without any searchable word gives None."""
    terms = _query_terms(query)
    if not terms:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # The terms are bare [a-z0-9] words: to_tsquery reads them as words, never operators.
        statement = text(
            "SELECT proposal_id, -ts_rank_cd(document, query) AS rank "
            "FROM fts_proposal, to_tsquery('french', :query) AS query WHERE document @@ query"
        ).bindparams(query=(" | " if any_word else " & ").join(terms))
    else:
        stemmed = dict.fromkeys(_stemmer().stemWords(terms))
        statement = text(
            "SELECT rowid AS proposal_id, bm25(fts_proposal, 4.0, 1.0) AS rank "
            "FROM fts_proposal WHERE fts_proposal MATCH :query"
        ).bindparams(query=(" OR " if any_word else " ").join(f'"{stem}"' for stem in stemmed))
    return statement.columns(proposal_id=Integer, rank=Float).subquery("matches")

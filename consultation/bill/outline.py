"""The bill as a reader sees it: divisions and articles in document order, numbered the French
way. Numbers are never stored: they follow from the order, so every move renumbers.

`load_outline` reads a whole bill in a fixed number of queries, whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consultation.bill.models import Article, ArticleSource, Bill, Division
from consultation.bill.numbering import article_label, division_label
from consultation.extensions import db
from consultation.proposals.models import Proposal


@dataclass
class ArticleNode:
    article: Article
    number: int = 0  # continuous across the bill, from 1
    label: str = ""  # "Article 1er"
    sources: list[ArticleSource] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.article.id


@dataclass
class DivisionNode:
    division: Division
    depth: int
    number: int = 0  # among its siblings, from 1
    label: str = ""  # "CHAPITRE II"
    children: list[DivisionNode] = field(default_factory=list)
    articles: list[ArticleNode] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.division.id

    def all_articles(self) -> Iterator[ArticleNode]:
        """Its articles and those of its subdivisions, in order."""
        yield from self.articles
        for child in self.children:
            yield from child.all_articles()


@dataclass
class Outline:
    bill: Bill
    loose_articles: list[ArticleNode]  # articles outside any division, which come first
    divisions: list[DivisionNode]  # the top-level divisions
    articles: list[ArticleNode]  # every article, in document order
    division_index: dict[int, DivisionNode]
    article_index: dict[int, ArticleNode]

    @property
    def is_empty(self) -> bool:
        return not self.articles

    def walk(self) -> Iterator[DivisionNode | ArticleNode]:
        """Every division and article in document order (a division before its content)."""
        yield from self.loose_articles

        def visit(node: DivisionNode) -> Iterator[DivisionNode | ArticleNode]:
            yield node
            yield from node.articles
            for child in node.children:
                yield from visit(child)

        for node in self.divisions:
            yield from visit(node)


def load_outline(bill: Bill, *, with_sources: bool = False) -> Outline:
    """The bill's outline, numbered; with its articles' sources (and their proposals'
    organisation, region and debate) when asked. Three queries, four with the sources."""
    divisions = list(
        db.session.scalars(
            select(Division)
            .where(Division.bill_id == bill.id)
            .order_by(Division.position, Division.id)
        )
    )
    articles = list(
        db.session.scalars(
            select(Article).where(Article.bill_id == bill.id).order_by(Article.position, Article.id)
        )
    )
    sources: dict[int, list[ArticleSource]] = {}
    if with_sources and articles:
        rows = db.session.scalars(
            select(ArticleSource)
            .join(Article, Article.id == ArticleSource.article_id)
            .where(Article.bill_id == bill.id)
            .options(
                joinedload(ArticleSource.proposal).options(
                    joinedload(Proposal.region), joinedload(Proposal.debate)
                )
            )
            .order_by(ArticleSource.proposal_id)
        )
        for source in rows:
            sources.setdefault(source.article_id, []).append(source)
    return build_outline(bill, divisions, articles, sources)


def build_outline(
    bill: Bill,
    divisions: list[Division],
    articles: list[Article],
    sources: dict[int, list[ArticleSource]] | None = None,
) -> Outline:
    """Number divisions and articles already loaded (sorted by position)."""
    sources = sources or {}
    nodes = {division.id: DivisionNode(division, depth=0) for division in divisions}
    top: list[DivisionNode] = []
    for division in divisions:
        node = nodes[division.id]
        parent = nodes.get(division.parent_id) if division.parent_id else None
        siblings = parent.children if parent else top
        siblings.append(node)
        node.number = len(siblings)
    loose: list[ArticleNode] = []
    article_nodes: dict[int, ArticleNode] = {}
    for article in articles:
        article_node = ArticleNode(article, sources=sources.get(article.id, []))
        article_nodes[article.id] = article_node
        holder = nodes.get(article.division_id) if article.division_id else None
        (holder.articles if holder else loose).append(article_node)

    ordered: list[ArticleNode] = list(loose)

    def number(node: DivisionNode, depth: int) -> None:
        node.depth = depth
        node.label = division_label(node.division.kind, node.number)
        ordered.extend(node.articles)
        for child in node.children:
            number(child, depth + 1)

    for node in top:
        number(node, 0)
    for position, article_node in enumerate(ordered, start=1):
        article_node.number = position
        article_node.label = article_label(position, len(ordered))
    return Outline(bill, loose, top, ordered, nodes, article_nodes)

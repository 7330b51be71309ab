"""User Markdown to safe HTML: raw HTML disabled, then sanitised with explicit allow-lists."""

from __future__ import annotations

import re
from urllib.parse import unquote

import markdown as markdown_lib
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
FORBIDDEN_URL_PREFIXES = ("javascript:", "data:", "vbscript:")
# Characters a URL parser drops or trims (tabs and newlines anywhere, controls and spaces
# around), and invisible ones some parsers ignored.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\ufeff]")


class EscapeHtml(markdown_lib.Extension):
    """Treat raw HTML in the source as text: it is escaped, never passed through."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _drop_disguised_schemes(element: str, attribute: str, value: str) -> str | None:
    """nh3 keeps a link it reads as relative, such as `java    script:...` (Markdown turns a tab
    into spaces): harmless in today's browsers, but drop any link that would read as a
    javascript:, data: or vbscript: one once its noise is removed (defence in depth)."""
    if attribute in ("href", "src"):
        for candidate in (value, unquote(value)):
            if _URL_NOISE.sub("", candidate).lower().startswith(FORBIDDEN_URL_PREFIXES):
                return None
    return value


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for user-written Markdown."""
    if not source:
        return Markup("")
    html = markdown_lib.markdown(
        source, extensions=[EscapeHtml(), "tables", "sane_lists"], output_format="html"
    )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        attribute_filter=_drop_disguised_schemes,
    )
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)

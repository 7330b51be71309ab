"""User Markdown never reaches a page with something a browser would run: a property-based test
of the renderer that the `markdown` filter uses, fed with texts mixing arbitrary text and
dangerous payloads (javascript:, data: and vbscript: links disguised with case changes,
whitespace, control characters, HTML entities and percent-encoding; raw script, event handler,
iframe and svg markup)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consultation.core.markdown import ALLOWED_TAGS, render_markdown

DANGEROUS_SCHEMES = ("javascript", "data", "vbscript")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}
# What a browser's URL parser drops (tab, newline) or trims (C0 controls and spaces), plus the
# invisible characters someone might hope it drops too.
_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\ufeff]")


def url_scheme(value: str) -> str:
    """The scheme a browser would see in an attribute value (already entity-decoded by the
    parser): control characters and whitespace removed, in lower case."""
    cleaned = _IGNORED.sub("", value).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


class _Checker(HTMLParser):
    """Collects every element and attribute of the rendered HTML, as a browser would read it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r}")
            if name == "style":
                self.problems.append(f"style={value!r}")
            if name in URL_ATTRIBUTES and url_scheme(value or "") in DANGEROUS_SCHEMES:
                self.problems.append(f"{name}={value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def problems_in(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    if re.search(r"<\s*script", html, re.IGNORECASE):
        checker.problems.append("a script tag")
    return checker.problems


# --- Payloads ------------------------------------------------------------------------------

_SEPARATORS = ["\t", "\n", "\r", " ", "\x00", "\x01", "\x0b", "\x0c", "&#9;", "&#x0A;", "&Tab;"]
_SEPARATORS += ["&NewLine;", "%09", "%0a", "\u200b", "\ufeff"]
_SCRIPTS = ["window.pwned=1", "alert(1)", "alert(document.cookie)//", "window['pwned']=1"]


@st.composite
def disguised_letter(draw: st.DrawFn, letter: str) -> str:
    """One letter of a scheme, as is, in another case, or as an entity or a percent code."""
    how = draw(st.sampled_from(["as is", "upper", "decimal", "hex", "padded", "percent"]))
    code = ord(letter)
    return {
        "as is": letter,
        "upper": letter.upper(),
        "decimal": f"&#{code};",
        "hex": f"&#x{code:x};",
        "padded": f"&#{code:07d};",
        "percent": f"%{code:02X}",
    }[how]


@st.composite
def dangerous_url(draw: st.DrawFn) -> str:
    """A javascript:, data: or vbscript: URL, disguised."""
    scheme = draw(st.sampled_from(DANGEROUS_SCHEMES))
    parts = [draw(st.sampled_from(["", " ", "\x01", "&#32;", "\t"]))]
    for letter in scheme:
        parts.append(draw(disguised_letter(letter)))
        if draw(st.booleans()) and draw(st.booleans()):
            parts.append(draw(st.sampled_from(_SEPARATORS)))
    parts.append(draw(st.sampled_from([":", "&colon;", "&#58;", "&#x3A;", "%3A", " :"])))
    if scheme == "data":
        parts.append(
            draw(
                st.sampled_from(
                    [
                        "text/html,<script>window.pwned=1</script>",
                        "text/html;base64,PHNjcmlwdD53aW5kb3cucHduZWQ9MTwvc2NyaXB0Pg==",
                        "image/svg+xml,<svg onload=window.pwned=1>",
                    ]
                )
            )
        )
    else:
        parts.append(draw(st.sampled_from(_SCRIPTS)))
    return "".join(parts)


@st.composite
def markdown_payload(draw: st.DrawFn) -> str:
    """A dangerous URL in one of Markdown's link syntaxes."""
    url = draw(dangerous_url())
    text = draw(st.sampled_from(["clic", "", "![i](x.png)", "**gras**"]))
    form = draw(
        st.sampled_from(["inline", "angle", "title", "image", "reference", "autolink", "bare"])
    )
    return {
        "inline": f"[{text}]({url})",
        "angle": f"[{text}](<{url}>)",
        "title": f'[{text}]({url} "titre")',
        "image": f"![{text}]({url})",
        "reference": f"[{text}][ref]\n\n[ref]: {url}\n",
        "autolink": f"<{url}>",
        "bare": url,
    }[form]


RAW_HTML = [
    "<script>window.pwned=1</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "<img src=x onerror=window.pwned=1//",
    '<a href="javascript:window.pwned=1">clic</a>',
    '<a href="jav&#x09;ascript:window.pwned=1">clic</a>',
    '<iframe src="javascript:window.pwned=1"></iframe>',
    '<iframe srcdoc="<script>window.pwned=1</script>"></iframe>',
    "<svg onload=window.pwned=1>",
    "<svg><script>window.pwned=1</script></svg>",
    '<math><mi xlink:href="javascript:window.pwned=1">x</mi></math>',
    '<div style="background:url(javascript:window.pwned=1)">x</div>',
    '<object data="javascript:window.pwned=1"></object>',
    "<body onload=window.pwned=1>",
    "<details open ontoggle=window.pwned=1>",
    '<form action="javascript:window.pwned=1"><button>x</button></form>',
    "<!--<img src=x onerror=window.pwned=1>-->",
    "`<img src=x onerror=window.pwned=1>`",
    "<a href='vbscript:msgbox(1)'>x</a>",
]

payloads = st.one_of(markdown_payload(), st.sampled_from(RAW_HTML))
separators = st.sampled_from(
    ["", " ", "\n", "\n\n", "\n\n    ", "\n> ", "\n- ", "\n| a | b |\n|---|---|\n| "]
)
texts = st.lists(st.one_of(payloads, st.text(max_size=40), separators), min_size=1, max_size=8).map(
    "".join
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
@example("[clic](javascript:window.pwned=1)")
@example("[clic](JaVaScRiPt:window.pwned=1)")
@example("[clic]( javascript:window.pwned=1)")
@example("[clic](java\tscript:window.pwned=1)")
@example("[clic](java&#x09;script:window.pwned=1)")
@example("[clic](&#106;avascript:window.pwned=1)")
@example("[clic](&#0000106&#0000097vascript:window.pwned=1)")
@example("[clic](javascript&colon;window.pwned=1)")
@example("[clic](%6Aavascript:window.pwned=1)")
@example("![x](data:text/html,<script>window.pwned=1</script>)")
@example("<vbscript:msgbox(1)>")
@example("<javascript:window.pwned=1>")
@example("[a][r]\n\n[r]: \x01javascript:window.pwned=1\n")
def test_rendered_markdown_never_carries_active_content(source: str) -> None:
    html = str(render_markdown(source))
    assert problems_in(html) == [], html


@pytest.mark.parametrize("payload", RAW_HTML)
def test_raw_html_is_shown_as_text(payload: str) -> None:
    html = str(render_markdown(payload))
    assert problems_in(html) == []
    assert "<" not in html.replace("<p>", "").replace("</p>", "").replace("<code>", "").replace(
        "</code>", ""
    )


def test_safe_links_and_formatting_survive() -> None:
    html = str(
        render_markdown(
            "Voir [le site](https://www.union-habitat.org), **gras**, *italique*,"
            " <https://example.org> et [écrire](mailto:contact@example.org)."
        )
    )
    assert '<a href="https://www.union-habitat.org" rel="nofollow noopener noreferrer">' in html
    assert '<a href="mailto:contact@example.org"' in html
    assert "<strong>gras</strong>" in html and "<em>italique</em>" in html


def test_the_checker_catches_what_it_looks_for() -> None:
    """The property above is only as good as its checker: make sure it sees each danger."""
    assert problems_in("<script>x</script>")
    assert problems_in('<a href="&#x6A;ava&#9;script:x">x</a>')
    assert problems_in('<a href=" \x01JAVASCRIPT:x">x</a>')
    assert problems_in('<a href="data:text/html,x">x</a>')
    assert problems_in('<img src="x" onerror="x">')
    assert problems_in('<p style="color:red">x</p>')
    assert problems_in('<a href="vbscript:x">x</a>')
    assert not problems_in('<a href="https://example.org/javascript:x">x</a>')


def test_the_template_filter_is_this_renderer(app) -> None:
    assert app.jinja_env.filters["markdown"] is render_markdown

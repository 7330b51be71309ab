"""Security headers on every response, and trust in the reverse proxy when configured."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_local_path(target: str | None) -> bool:
    """Whether a redirect target (`next`) is a path on this site, so it cannot lead elsewhere.

    Browsers read a backslash as a slash and drop tabs and newlines, so `/\\evil.example` and
    `/<tab>/evil.example` would leave the site like `//evil.example`: refuse them too.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    """Add the headers, and read client addresses from the proxy when behind one."""
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config["APP_ENV"] == "production":
        headers.append(("Strict-Transport-Security", "max-age=31536000"))

    @app.after_request
    def security_headers(response: Response) -> Response:
        """The same headers on every response; a view that sets its own CSP keeps it."""
        if "Content-Security-Policy" not in response.headers:
            response.headers.extend(headers)
        return response

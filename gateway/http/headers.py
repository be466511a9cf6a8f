"""Response headers that keep browsers from misusing the gateway's answers.

- Every answer: `X-Content-Type-Options: nosniff` (a JSON answer is never run as a script or
  rendered as a page).
- HTML pages (GraphiQL, the built-in explorer): a Content-Security-Policy that allows the page's
  own inline script by its hash and the assets of this origin, and nothing else: no other
  origin, no plugins, no forms, no <base>, and no framing (`frame-ancestors 'none'`, and
  `X-Frame-Options: DENY` for old browsers); `Referrer-Policy: no-referrer`.
- An HTML answer that brings no policy of its own gets the strictest one (nothing loads).
- Cross-origin access (CORS) only for the origins in the configuration (`cors_middleware`).

Why `style-src 'unsafe-inline'`: GraphiQL's components add <style> elements and style
attributes at run time (a scroll lock, popovers). Styles cannot run code; scripts stay limited
to this origin and the page's own hashed inline script. Fonts and images: GraphiQL's CSS embeds
its fonts and icons as data: URLs.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
STRICTEST = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_PAGE_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@functools.lru_cache(maxsize=16)
def page_policy(html: str) -> str:
    """The Content-Security-Policy of one of our pages: its inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page_headers(html: str) -> dict[str, str]:
    return {"content-security-policy": page_policy(html)}


class SecurityHeaders:
    """Adds the headers above to every HTTP answer (pure ASGI: a few dict lookups each)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower(): value for name, value in headers}
                if b"x-content-type-options" not in names:
                    headers.append(NOSNIFF)
                if names.get(b"content-type", b"").startswith(b"text/html"):
                    if b"content-security-policy" not in names:
                        headers.append((b"content-security-policy", STRICTEST.encode()))
                    headers.extend(h for h in _PAGE_HEADERS if h[0] not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_middleware(
    origins: Sequence[str], methods: Sequence[str], headers: Sequence[str]
) -> list[Middleware]:
    """Starlette's CORS middleware for the configured origins; none at all without origins (no
    CORS headers: browsers keep other origins out, and a preflight is refused)."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=list(methods),
            allow_headers=list(headers),
            allow_credentials=False,  # bearer tokens travel in a header, never in cookies
            expose_headers=["retry-after"],
            max_age=600,
        )
    ]

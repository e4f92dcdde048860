"""Security headers on every response, one error page for every failure, and CSRF tokens."""
from __future__ import annotations

import logging
import secrets

from peewee import DatabaseError, InterfaceError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import redact

log = logging.getLogger("portal")

# No scripts at all; styles only from our own stylesheet; forms post only to us; never framed.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    # The setup and reset URLs carry the token: no page may pass its URL on.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSRF_FIELD = "csrf_token"


class Guard:
    """Outermost middleware: the headers above on every response, and an error page
    (503 when the database is unreachable or unreadable, else 500) instead of a bare failure."""

    def __init__(self, app: ASGIApp, *, https: bool = False, error_page=None) -> None:
        self.app = app
        self.headers = dict(HEADERS)
        if https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if not cacheable:  # pages hold CSRF tokens, names, or were opened by a link
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if started or self.error_page is None:
                raise
            unreachable = database_unavailable(error)
            log.error("%s %s failed: %s: %s", scope.get("method"), redact(scope["path"]),
                      type(error).__name__, redact(str(error)).splitlines()[0] if str(error) else "",
                      exc_info=not unreachable)
            response = self.error_page(Request(scope), 503 if unreachable else 500)
            await response(scope, receive, send_with_headers)


def database_unavailable(error: BaseException) -> bool:
    """True when the database can't serve at all: unreachable (OperationalError, a lost
    connection) or a file that is not (or no longer) a database, which SQLite reports as a
    plain DatabaseError. Its subclasses (an IntegrityError, a ProgrammingError) are bugs."""
    return isinstance(error, (OperationalError, InterfaceError)) or type(error) is DatabaseError


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """True when the form carries this session's CSRF token."""
    expected = request.session.get("csrf")
    sent = form.get(CSRF_FIELD, "")
    return bool(expected) and secrets.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))


def rotate_csrf(request: Request) -> None:
    """A new token when who is signed in changes."""
    request.session["csrf"] = secrets.token_urlsafe(32)

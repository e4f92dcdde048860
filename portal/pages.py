"""What every portal view shares: rendering pages, redirects, worker threads, refusals."""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Callable

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from store.db import database, is_postgres
from store.errors import FormTriesUsedUp, LinkUnusable, TooManyAttempts
from store.links import FORM_TRIES, GRANT_MINUTES
from store.sessions import IDLE_MINUTES, SESSION_HOURS

from .security import CSRF_FIELD, csrf_token

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

# Notes the login page shows after a redirect, by a fixed key: the URL never carries a token.
NOTES = {
    "link": LinkUnusable().message,
    "expired": f"That page was open for more than {GRANT_MINUTES} minutes, so it closed. "
               "Use Forgot Password or Create Credential below to get a new link.",
    "tries": FormTriesUsedUp(FORM_TRIES).message,
    "signed-out": "You have signed out.",
    "session-ended": "Your portal login changed, so you were signed out. Please sign in again.",
    "ended-by-agent": "You were signed out of the portal on every device. Please sign in again.",
    "idle": f"You were signed out after {IDLE_MINUTES} minutes without activity. Please sign in again.",
    "session-expired": f"You were signed out: a session lasts at most {SESSION_HOURS} hours. Please sign in again.",
}


def page(request: Request, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> Response:
    """Render a page; every page gets the session's CSRF token for its forms."""
    context.update(csrf_token=csrf_token(request), csrf_field=CSRF_FIELD)
    return templates.TemplateResponse(request, template, context, status_code=status, headers=headers)


def message_page(request: Request, status: int, title: str, message: str, *,
                 back: str | None = "/", headers: dict[str, str] | None = None) -> Response:
    """A page that only says something (errors, limits); it has no form and makes no session."""
    return templates.TemplateResponse(request, "message.html",
                                      {"title": title, "message": message, "back": back},
                                      status_code=status, headers=headers)


def error_page(request: Request, status: int) -> Response:
    """The Guard's page for an unexpected failure (500) or an unreachable database (503)."""
    if status == 503:
        return message_page(request, 503, "Temporarily unavailable",
                            "The portal can't reach its database right now. Nothing was changed; "
                            "please try again in a few minutes.")
    return message_page(request, 500, "Something went wrong",
                        "Something went wrong on our side. Please try again in a few minutes.")


async def http_error(request: Request, error: Exception) -> Response:
    """404, 405 and other HTTP errors as plain pages."""
    status = error.status_code if isinstance(error, HTTPException) else 500
    title = {404: "Page not found", 405: "Not allowed"}.get(status, "Request refused")
    text = {404: "There is no page at this address.",
            405: "This page can't be used that way."}.get(status, "The request could not be handled.")
    return message_page(request, status, title, text)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form or a link, the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    """The client's address (uvicorn has applied X-Forwarded-For from a local proxy)."""
    return request.client.host if request.client else "unknown"


def then_release(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``, then hand this worker thread's PostgreSQL connection back to the pool: the
    portal has more worker threads than the pool has connections, and a thread keeps its
    connection until it closes it, so a burst would otherwise wait for connections idle
    threads hold. (A SQLite connection is cheap to keep and stays.)"""
    try:
        return fn(*args, **kwargs)
    finally:
        if is_postgres() and not database.is_closed():
            database.close()


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Database work off the event loop."""
    return await run_in_threadpool(then_release, fn, *args, **kwargs)


async def hashing(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Argon2 work off the event loop, on a few threads only: a login flood must not take
    every worker thread that page loads need."""
    limiter = getattr(request.app.state, "hash_limiter", None)
    if limiter is None:
        return await in_thread(fn, *args, **kwargs)
    return await anyio.to_thread.run_sync(functools.partial(then_release, fn, *args, **kwargs), limiter=limiter)


def csrf_refused(request: Request, back: str) -> Response:
    """403: the form had no or a wrong CSRF token; nothing was done."""
    return message_page(request, 403, "This form has expired",
                        "This form has expired or was not sent from this site, so nothing was changed. "
                        "Go back, reload the page and try again.", back=back)


def too_many(request: Request, refusal: TooManyAttempts, back: str) -> Response:
    """429 with the wait in whole minutes and Retry-After."""
    seconds = max(1, math.ceil(refusal.wait.total_seconds()))
    return message_page(request, 429, refusal.title, refusal.message, back=back,
                        headers={"Retry-After": str(seconds)})

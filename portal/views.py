"""The portal's pages. Every rule is the service layer's; these views only wire forms to it.

Blocking work (database, Argon2) runs in worker threads so the event loop never waits.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from store.customers import get_customer
from store.errors import CustomerNotFound, InvalidLogin, LinkUnusable, PortalError
from store.portal import GRANT_MINUTES, authenticate, complete_link, open_link, request_password_reset
from store.usernames import username_key
from store.values import LinkGrant, LinkPurpose, SignedInCustomer

from .forms import FormError, has_control_characters, read_form
from .logs import redact
from .ratelimit import Limit, RateLimiter, minutes_text
from .security import CSRF_FIELD, csrf_ok, csrf_token, rotate_csrf
from .sessions import current_grant, drop_grant, grant_is_stale, keep_grant, sign_in, signed_in

log = logging.getLogger("portal")
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

# Notes the login page shows after a redirect, by a fixed key: the URL never carries a token.
NOTES = {
    "link": LinkUnusable().message,
    "expired": f"That page was open for more than {GRANT_MINUTES} minutes, so it closed. "
               "Use Forgot Password or Create Credential below to get a new link.",
    "signed-out": "You have signed out.",
    "session-ended": "Your portal login changed, so you were signed out. Please sign in again.",
}
# The two prompts of the login page: path -> (name as the source document says it, what it is for).
PROMPTS = {
    "forgot-password": ("Forgot Password", "Enter your username or the email address we have on file. "
                        "We will email you a link to choose a new password."),
    "create-credential": ("Create Credential", "Enter the email address we have on file (or your username, "
                          "if you have one). We will email you a link to set up your username and password."),
}
PROMPT_SENT = ("If that matches a customer account with portal access by email, we have sent an email "
               "to the account's email addresses. It can take a few minutes to arrive; its link works once.")
MAX_IDENTIFIER = 320


# --- helpers -----------------------------------------------------------------

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
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Database work off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def hashing(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Argon2 work off the event loop, on a few threads only: a login flood must not take
    every worker thread that page loads need."""
    limiter = getattr(request.app.state, "hash_limiter", None)
    if limiter is None:
        return await in_thread(fn, *args, **kwargs)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)


def csrf_refused(request: Request, back: str) -> Response:
    return message_page(request, 403, "This form has expired",
                        "This form has expired or was not sent from this site, so nothing was changed. "
                        "Go back, reload the page and try again.", back=back)


def blocked(limiter: RateLimiter, keys: list[tuple[str, Limit]]) -> timedelta | None:
    """The longest wait any of the keys must sit out, or None."""
    waits = [w for key, limit in keys if (w := limiter.retry_after(key, limit)) is not None]
    return max(waits) if waits else None


def too_many(request: Request, wait: timedelta, back: str) -> Response:
    seconds = max(1, int(wait.total_seconds()) + 1)
    return message_page(request, 429, "Too many attempts",
                        f"Too many attempts, try again in {minutes_text(wait)}.", back=back,
                        headers={"Retry-After": str(seconds)})


def _login_state(reference: str) -> tuple[str | None, datetime | None]:
    """The customer's current username and when their password was set."""
    try:
        portal = get_customer(reference).portal
    except CustomerNotFound:
        return None, None
    return portal.username, portal.password_set_at


async def start_session(request: Request, who: SignedInCustomer) -> None:
    _, password_set_at = await in_thread(_login_state, who.reference)
    sign_in(request, who, password_set_at)
    rotate_csrf(request)


# --- the main login page and the signed-in page --------------------------------

def login_page(request: Request, *, status: int = 200, note: str | None = None, error: str | None = None,
               username: str = "") -> Response:
    return page(request, "login.html", status=status, title="Sign in", note=note, error=error,
                username=username)


async def home(request: Request) -> Response:
    """GET /: the signed-in page, or the main login page (with a note after a redirect)."""
    note = NOTES.get(request.query_params.get("note", ""))
    who = signed_in(request)
    if who is not None:
        username, password_set_at = await in_thread(_login_state, who["reference"])
        same_password = password_set_at is not None and password_set_at.isoformat() == who["password_set_at"]
        if username == who["username"] and same_password:
            return page(request, "signed_in.html", title="Signed in", who=who, note=note)
        request.session.clear()  # the username or password changed since: sign in again
        note = NOTES["session-ended"]
    return login_page(request, note=note)


async def login(request: Request) -> Response:
    """POST /login: one neutral message for every wrong pair; failures are rate limited."""
    try:
        form = await read_form(request)
    except FormError as error:
        return login_page(request, status=error.status, error=error.message)
    if not csrf_ok(request, form):
        return csrf_refused(request, "/")
    username, password = form.get("username", ""), form.get("password", "")
    if not username.strip() or not password:
        return login_page(request, status=400, error="Enter your username and password.", username=username)
    if has_control_characters(username):
        return login_page(request, status=400, username="",
                          error="A username can't contain line breaks or control characters.")
    limits, limiter = request.app.state.limits, request.app.state.limiter
    keys = [(f"login-ip:{client_ip(request)}", limits.login_per_ip),
            (f"login-user:{username_key(username)[:256]}", limits.login_per_username)]
    wait = blocked(limiter, keys)
    if wait is not None:
        return too_many(request, wait, "/")
    try:
        who = await hashing(request, authenticate, username, password)
    except InvalidLogin as error:
        for key, limit in keys:
            limiter.record(key, limit)
        return login_page(request, status=400, error=error.message, username=username)
    await start_session(request, who)
    return redirect("/")


async def logout(request: Request) -> Response:
    """POST /logout: end the session."""
    try:
        form = await read_form(request)
    except FormError:
        form = {}
    if not csrf_ok(request, form):
        return csrf_refused(request, "/")
    request.session.clear()
    return redirect("/?note=signed-out")


# --- the setup and reset links -----------------------------------------------

async def open_setup_link(request: Request) -> Response:
    """GET /setup/<token>: the Credential Create email's link."""
    return await _open(request, LinkPurpose.setup)


async def open_reset_link(request: Request) -> Response:
    """GET /reset/<token>: the Password Reset email's link."""
    return await _open(request, LinkPurpose.reset)


async def _open(request: Request, purpose: LinkPurpose) -> Response:
    """Use the link (store rule), keep the grant in the session, and move to a URL without
    the token, so that the token is in no form, history entry or later request.

    A HEAD request (link checkers, some mail scanners) is answered without touching the
    link: only a real open may use it up."""
    if request.method == "HEAD":
        return Response(status_code=200, media_type="text/html")
    try:
        grant = await in_thread(open_link, request.path_params["token"], purpose)
    except LinkUnusable:
        return redirect("/?note=link")
    keep_grant(request, grant)
    return redirect(f"/{purpose.value}")


def credentials_page(request: Request, grant: LinkGrant, *, status: int = 200, username: str | None = None,
                     errors: dict[str, str] | None = None) -> Response:
    """The form where the customer chooses a username (when needed) and a password."""
    setup = grant.purpose is LinkPurpose.setup
    return page(
        request, "credentials.html", status=status,
        title="Set up your portal login" if setup else "Choose a new password",
        action=f"/{grant.purpose.value}",
        ask_username=setup or grant.username is None,
        username=grant.username if username is None else username,
        known_username=grant.username,
        errors=errors or {},
    )


def _usable_grant(request: Request, purpose: LinkPurpose) -> LinkGrant | Response:
    grant = current_grant(request, purpose)
    if grant is None:
        return redirect("/?note=link")
    if grant_is_stale(grant):
        drop_grant(request)
        return redirect("/?note=expired")
    return grant


async def setup_form(request: Request) -> Response:
    """GET and POST /setup: the form an opened setup link leads to."""
    return await _credentials(request, LinkPurpose.setup)


async def reset_form(request: Request) -> Response:
    """GET and POST /reset: the form an opened reset link leads to."""
    return await _credentials(request, LinkPurpose.reset)


async def _credentials(request: Request, purpose: LinkPurpose) -> Response:
    grant = _usable_grant(request, purpose)
    if isinstance(grant, Response):
        return grant
    if request.method == "GET":
        return credentials_page(request, grant)
    try:
        form = await read_form(request)
    except FormError as error:
        return credentials_page(request, grant, status=error.status, errors={"form": error.message})
    if not csrf_ok(request, form):
        return csrf_refused(request, f"/{purpose.value}")
    asks_username = purpose is LinkPurpose.setup or grant.username is None
    username = form.get("username", "") if asks_username else None
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        return credentials_page(request, grant, status=400, username=username,
                                errors={"password_confirm": "The two passwords are not the same."})
    try:
        who = await hashing(request, complete_link, grant, username=username, password=password)
    except LinkUnusable as error:
        drop_grant(request)
        return redirect("/?note=" + ("link" if error.message == NOTES["link"] else "expired"))
    except PortalError as error:
        field = error.field if error.field in ("username", "password") else "form"
        return credentials_page(request, grant, status=400, username=username, errors={field: error.message})
    await start_session(request, who)
    return redirect("/")


# --- the Forgot Password and Create Credential prompts ---------------------------

def prompt_view(slug: str) -> Callable[[Request], Awaitable[Response]]:
    """GET and POST of one prompt."""
    name, intro = PROMPTS[slug]

    def prompt_page(request: Request, *, status: int = 200, error: str | None = None,
                    identifier: str = "") -> Response:
        return page(request, "prompt.html", status=status, title=name, intro=intro, action=f"/{slug}",
                    error=error, identifier=identifier)

    async def view(request: Request) -> Response:
        if request.method == "GET":
            return prompt_page(request)
        try:
            form = await read_form(request)
        except FormError as error:
            return prompt_page(request, status=error.status, error=error.message)
        if not csrf_ok(request, form):
            return csrf_refused(request, f"/{slug}")
        identifier = form.get("identifier", "").strip()
        if not identifier:
            return prompt_page(request, status=400, error="Enter your username or email address.")
        if len(identifier) > MAX_IDENTIFIER:
            return prompt_page(request, status=400,
                               error=f"A username or email address has at most {MAX_IDENTIFIER} characters.")
        if has_control_characters(identifier):
            return prompt_page(request, status=400, identifier="",
                               error="A username or email address can't contain line breaks or control characters.")
        limits, limiter = request.app.state.limits, request.app.state.limiter
        keys = [(f"prompt-ip:{client_ip(request)}", limits.prompt_per_ip),
                (f"prompt-id:{identifier.casefold()}", limits.prompt_per_identifier)]
        wait = blocked(limiter, keys)
        if wait is not None:
            return too_many(request, wait, f"/{slug}")
        for key, limit in keys:
            limiter.record(key, limit)
        await answer_in_fixed_time(request, functools.partial(request_password_reset, identifier, prompt=name))
        return page(request, "prompt_sent.html", title=name, message=PROMPT_SENT)

    return view


async def answer_in_fixed_time(request: Request, work: Callable[[], None]) -> None:
    """Run the prompt's work in a thread and return after the same fixed time whether it
    found a customer or not: waiting at most that long, never less. Work still running
    at the deadline finishes in the background (the app waits for it at shutdown)."""
    seconds: float = request.app.state.prompt_seconds
    tasks: set[asyncio.Future] = request.app.state.prompt_tasks
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    task = asyncio.ensure_future(run_in_threadpool(work))
    tasks.add(task)
    task.add_done_callback(lambda done: _prompt_finished(tasks, done))
    await asyncio.wait({task}, timeout=seconds)
    remaining = deadline - loop.time()
    if remaining > 0:
        await asyncio.sleep(remaining)


def _prompt_finished(tasks: set[asyncio.Future], task: asyncio.Future) -> None:
    tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("A prompt's password reset request failed: %s: %s", type(error).__name__,
                  redact(str(error)).splitlines()[0] if str(error) else "")

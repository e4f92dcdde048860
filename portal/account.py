"""The main login page, the signed-in page, sign-in and sign-out."""
from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from store.customers import get_customer
from store.errors import CustomerNotFound, InvalidLogin
from store.signin import authenticate
from store.usernames import username_key
from store.values import SignedInCustomer

from .forms import FormError, has_control_characters, read_form
from .pages import NOTES, blocked, client_ip, csrf_refused, hashing, in_thread, page, redirect, too_many
from .security import csrf_ok, rotate_csrf
from .sessions import sign_in, signed_in


def _login_state(reference: str) -> tuple[str | None, datetime | None]:
    """The customer's current username and when their password was set."""
    try:
        portal = get_customer(reference).portal
    except CustomerNotFound:
        return None, None
    return portal.username, portal.password_set_at


async def start_session(request: Request, who: SignedInCustomer) -> None:
    """Sign the customer in on this browser, with a fresh CSRF token."""
    _, password_set_at = await in_thread(_login_state, who.reference)
    sign_in(request, who, password_set_at)
    rotate_csrf(request)


def login_page(request: Request, *, status: int = 200, note: str | None = None, error: str | None = None,
               username: str = "") -> Response:
    """The main login page, with a note, an error, and the username typed kept."""
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

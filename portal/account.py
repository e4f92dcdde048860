"""The main login page, the signed-in page, sign-in and sign-out."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from store.errors import InvalidLogin, TooManyAttempts
from store.sessions import check_session, sign_out
from store.signin import begin_sign_in, finish_sign_in
from store.portal_values import SessionEnd, SignedInCustomer

from .forms import FormError, has_control_characters, read_form
from .pages import NOTES, client_ip, csrf_refused, hashing, in_thread, page, redirect, too_many
from .metrics import SignInResult
from .security import csrf_ok, rotate_csrf
from .sessions import keep_session_id, session_id

# What the login page says when a saved session no longer signs in (a sign-out says nothing).
ENDED_NOTES = {
    SessionEnd.login_changed: NOTES["session-ended"],
    SessionEnd.ended_by_agent: NOTES["ended-by-agent"],
    SessionEnd.idle: NOTES["idle"],
    SessionEnd.expired: NOTES["session-expired"],
}


def start_session(request: Request, who: SignedInCustomer) -> None:
    """This browser now holds the new session the store started, with a fresh CSRF token."""
    assert who.session_id is not None, "the store started no session"
    keep_session_id(request, who.session_id)
    rotate_csrf(request)


def login_page(request: Request, *, status: int = 200, note: str | None = None, error: str | None = None,
               username: str = "") -> Response:
    """The main login page, with a note, an error, and the username typed kept."""
    return page(request, "login.html", status=status, title="Sign in", note=note, error=error,
                username=username)


async def home(request: Request) -> Response:
    """GET /: the signed-in page, or the main login page (with a note after a redirect, or
    saying why a session that was signed in no longer is)."""
    note = NOTES.get(request.query_params.get("note", ""))
    sid = session_id(request)
    if sid is not None:
        check = await in_thread(check_session, sid)
        if check.who is not None:
            return page(request, "signed_in.html", title="Signed in", who=check.who, note=note)
        request.session.clear()
        note = ENDED_NOTES.get(check.ended, note)
    return login_page(request, note=note)


async def login(request: Request) -> Response:
    """POST /login: one neutral message for every wrong pair. Each attempt is counted in the
    database before its password is checked, so no burst gets past the limits."""
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
    limits = request.app.state.limits.sign_in
    try:
        ticket = await in_thread(begin_sign_in, username, client_ip(request), limits)
    except TooManyAttempts as error:
        request.app.state.metrics.signed_in(SignInResult.limited)
        return too_many(request, error, "/")
    try:
        who = await hashing(request, finish_sign_in, ticket, password, limits=limits)
    except InvalidLogin as error:
        request.app.state.metrics.signed_in(SignInResult.wrong)
        return login_page(request, status=400, error=error.message, username=username)
    request.app.state.metrics.signed_in(SignInResult.signed_in)
    start_session(request, who)
    return redirect("/")


async def logout(request: Request) -> Response:
    """POST /logout: end the session in the database, so a saved cookie no longer signs in."""
    try:
        form = await read_form(request)
    except FormError:
        form = {}
    if not csrf_ok(request, form):
        return csrf_refused(request, "/")
    sid = session_id(request)
    if sid is not None:
        await in_thread(sign_out, sid, client_ip(request))
    request.session.clear()
    return redirect("/?note=signed-out")

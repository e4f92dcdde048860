"""The setup and reset links, and the form each leads to."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from store.credentials import check_grant, complete_link, open_link
from store.customer_values import LinkGrant
from store.errors import FormExpired, FormTriesUsedUp, LinkUnusable, PortalError
from store.values import LinkPurpose

from .account import start_session
from .forms import FormError, has_control_characters, read_form
from .pages import client_ip, csrf_refused, hashing, in_thread, page, redirect
from .security import csrf_ok
from .sessions import current_grant, drop_grant, keep_grant


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
    if username is not None and has_control_characters(username):
        username = ""  # never echo line breaks back into the field; the message says why
    return page(
        request, "credentials.html", status=status,
        title="Set up your portal login" if setup else "Choose a new password",
        action=f"/{grant.purpose.value}",
        ask_username=grant.asks_username,
        username=grant.username if username is None else username,
        known_username=grant.username,
        errors=errors or {},
    )


def _closed(request: Request, error: LinkUnusable) -> Response:
    """The form can't be used any more: forget the grant and say why on the login page, by
    the error's class (open too long, sent too often, or the link is no longer valid)."""
    drop_grant(request)
    if isinstance(error, FormExpired):
        return redirect("/?note=expired")
    if isinstance(error, FormTriesUsedUp):
        return redirect("/?note=tries")
    return redirect("/?note=link")


async def _usable_grant(request: Request, purpose: LinkPurpose) -> LinkGrant | Response:
    """The grant this browser holds, if its form is still open (the store's rule)."""
    grant = current_grant(request, purpose)
    if grant is None:
        return redirect("/?note=link")
    try:
        await in_thread(check_grant, grant)
    except LinkUnusable as error:
        return _closed(request, error)
    return grant


async def setup_form(request: Request) -> Response:
    """GET and POST /setup: the form an opened setup link leads to."""
    return await _credentials(request, LinkPurpose.setup)


async def reset_form(request: Request) -> Response:
    """GET and POST /reset: the form an opened reset link leads to."""
    return await _credentials(request, LinkPurpose.reset)


async def _credentials(request: Request, purpose: LinkPurpose) -> Response:
    grant = await _usable_grant(request, purpose)
    if isinstance(grant, Response):
        return grant
    if request.method != "POST":  # GET, and HEAD (never the POST handler)
        return credentials_page(request, grant)
    try:
        form = await read_form(request)
    except FormError as error:
        return credentials_page(request, grant, status=error.status, errors={"form": error.message})
    if not csrf_ok(request, form):
        return csrf_refused(request, f"/{purpose.value}")
    username = form.get("username", "") if grant.asks_username else None
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        return credentials_page(request, grant, status=400, username=username,
                                errors={"password_confirm": "The two passwords are not the same."})
    try:
        who = await hashing(request, complete_link, grant, username=username, password=password,
                            address=client_ip(request))
    except LinkUnusable as error:
        return _closed(request, error)
    except PortalError as error:
        field = error.field if error.field in ("username", "password") else "form"
        return credentials_page(request, grant, status=400, username=username, errors={field: error.message})
    start_session(request, who)
    return redirect("/")

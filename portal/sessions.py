"""What the signed session cookie holds: an opened link's grant, the CSRF token, and the id
of the signed-in session.

Who is signed in is never read from the cookie: the id is looked up in the database
(store/sessions.py), so the server can end a session whatever a saved cookie holds. The
cookie is signed (PORTAL_SECRET_KEY), not encrypted: it holds nothing secret beyond that id.
"""
from __future__ import annotations

from datetime import datetime

from starlette.requests import Request

from store.customer_values import LinkGrant
from store.sessions import SESSION_HOURS
from store.values import LinkPurpose

# The cookie lasts no longer than the session it may hold (the store ends it earlier when idle).
SESSION_SECONDS = SESSION_HOURS * 60 * 60


def keep_grant(request: Request, grant: LinkGrant) -> None:
    """Remember an opened link for its form (replacing any earlier one)."""
    request.session["grant"] = {
        "link_id": grant.link_id, "customer_reference": grant.customer_reference,
        "purpose": grant.purpose.value, "username": grant.username,
        "opened_at": grant.opened_at.isoformat(), "consumed": grant.consumed,
    }


def current_grant(request: Request, purpose: LinkPurpose) -> LinkGrant | None:
    """The opened link of ``purpose`` this browser holds, or None."""
    data = request.session.get("grant")
    if not isinstance(data, dict) or data.get("purpose") != purpose.value:
        return None
    return LinkGrant(
        link_id=data["link_id"], customer_reference=data["customer_reference"], purpose=purpose,
        username=data["username"], opened_at=datetime.fromisoformat(data["opened_at"]),
        consumed=data["consumed"],
    )


def drop_grant(request: Request) -> None:
    """Forget the opened link: its form is done or closed."""
    request.session.pop("grant", None)


def keep_session_id(request: Request, session_id: str) -> None:
    """This browser is now signed in with the session ``session_id``: nothing else is kept."""
    request.session.clear()
    request.session["sid"] = session_id


def session_id(request: Request) -> str | None:
    """The session id this browser holds, or None."""
    value = request.session.get("sid")
    return value if isinstance(value, str) else None

"""What the signed session cookie holds: an opened link's grant, and who is signed in.

The cookie is signed (PORTAL_SECRET_KEY), not encrypted: it holds only what the
customer may see (their reference, name and username), never a token or a password.
"""
from __future__ import annotations

from datetime import datetime

from starlette.requests import Request

from store.values import LinkGrant, LinkPurpose, SignedInCustomer

# A signed-in session ends after this long (an opened link's form: store.links.form_still_open).
SESSION_SECONDS = 8 * 60 * 60


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


def sign_in(request: Request, who: SignedInCustomer, password_set_at: datetime | None) -> None:
    """Start a signed-in session; the password's time lets a later change end it."""
    request.session.clear()
    request.session["who"] = {
        "reference": who.reference, "name": who.name, "username": who.username,
        "password_set_at": password_set_at.isoformat() if password_set_at else None,
    }


def signed_in(request: Request) -> dict | None:
    """Who this session says is signed in, or None."""
    who = request.session.get("who")
    return who if isinstance(who, dict) else None

"""What the customer sees, for the agent: the newest setup or reset link and what became of
it, the customer's sign-ins and whether the portal's limits refuse them, their sign-in
history, and the email PORTAL would send, previewed. With the agent's answers to an "I can't
log in" ticket: Unlock and Sign out everywhere, each refused with the reason where it does
not apply.

The words are derived from the values and the clock (store/values.py: LinkStatus.text,
SignInStatus.lock_text), so the panel's "expires in 70 h" and "Locked until 09:05" follow
time without a read.
"""
from __future__ import annotations

import json
from datetime import timedelta

from . import clock
from .email_text import render_email
from .links import GRANT_MINUTES, PURPOSE_OF_KIND
from .models import ActivityEvent, Customer, OutboxEmail, PortalLink, SignInEvent
from .records import customer_row, portal_view_of
from .sessions import end_sessions
from .settings import get_settings
from .signin import SignInLimits, signin_status, unlock
from .portal_values import CustomerSide, EmailPreview, LinkStatus, SignInRecord
from .values import LinkPurpose, LinkUse, OutboxStatus

# How many events the console's History lists.
HISTORY_SHOWN = 50
# What a preview shows where the link goes: its token is made only as the email is sent.
LINK_PLACEHOLDER = "<link made when the email is sent>"


def link_status_of(customer: Customer) -> LinkStatus | None:
    """The customer's newest setup or reset link and its email, or None when none was ever made."""
    link = (PortalLink.select().where(PortalLink.customer == customer.id)
            .order_by(PortalLink.created_at.desc(), PortalLink.id.desc()).first())
    if link is None:
        return None
    email = (OutboxEmail.select().where(OutboxEmail.link == link.id)
             .order_by(OutboxEmail.id.desc()).first())
    return LinkStatus(
        purpose=LinkPurpose(link.purpose), created_at=link.created_at, expires_at=link.expires_at,
        used_at=link.used_at, revoked_at=link.revoked_at, revoked_reason=link.revoked_reason,
        email_status=OutboxStatus(email.status) if email else None,
        sent_at=email.sent_at if email else None,
        to=tuple(json.loads(email.to_addresses)) if email else (),
        email_error=email.last_error if email else None,
        refused=tuple(json.loads(email.refused_addresses)) if email else (),
        form_minutes=GRANT_MINUTES,
        used_on_open=get_settings().link_use is LinkUse.open,
    )


def customer_side(reference: str, limits: SignInLimits = SignInLimits()) -> CustomerSide:
    """The newest link and the sign-in state of the customer, read together."""
    customer = customer_row(reference)
    return CustomerSide(link=link_status_of(customer), signin=signin_status(customer.reference, limits),
                        read_at=clock.now())


def sign_in_history(reference: str, limit: int = HISTORY_SHOWN) -> tuple[SignInRecord, ...]:
    """The customer's portal history, newest first: the sign-in history (signed in, wrong
    password, locked, signed out, sessions ended, unlocked) with the links' opens and uses and
    the passwords set, which the link and activity tables record."""
    customer = customer_row(reference)
    records = list(SignInEvent.select().where(SignInEvent.customer == customer.id)
                   .order_by(SignInEvent.at.desc(), SignInEvent.id.desc()).limit(limit)
                   .execute())
    found = [SignInRecord(at=r.at, event=r.event, address=r.address, detail=r.detail) for r in records]
    used_on_open = get_settings().link_use is LinkUse.open
    for link in (PortalLink.select().where((PortalLink.customer == customer.id) & PortalLink.used_at.is_null(False))
                 .order_by(PortalLink.used_at.desc()).limit(limit)):
        event = "link opened" if used_on_open else "link used"
        found.append(SignInRecord(at=link.used_at, event=event, address="", detail=f"{link.purpose} link"))
    for entry in (ActivityEvent.select().where((ActivityEvent.customer == customer.id)
                                               & (ActivityEvent.action == "password set"))
                  .order_by(ActivityEvent.at.desc()).limit(limit)):
        found.append(SignInRecord(at=entry.at, event="password set", address="", detail=entry.detail))
    # Newest first; at the same instant the later step first (password set after the link's use).
    order = {"password set": 2, "link used": 1, "link opened": 1}
    found.sort(key=lambda r: (r.at, order.get(r.event, 0)), reverse=True)
    return tuple(found[:limit])


def unlock_customer(reference: str, *, actor: str, limits: SignInLimits = SignInLimits()) -> int:
    """Unlock: the portal's limits let the customer sign in again at once (every counted wrong
    password for their username goes). Refused, with the reason, when nothing refuses them."""
    refusal = signin_status(reference, limits).unlock_refusal(clock.now())
    if refusal is not None:
        raise refusal
    return unlock(reference, actor=actor)


def sign_out_everywhere(reference: str, *, actor: str) -> int:
    """End every open portal session of the customer; returns how many. Refused, with the
    reason, when none is open."""
    refusal = signin_status(reference).sign_out_refusal
    if refusal is not None:
        raise refusal
    return end_sessions(reference, actor=actor)


def preview_email(reference: str) -> EmailPreview:
    """The email PORTAL's one action would queue now, in the words the customer would read:
    the same templates the mailer renders, the link shown as a placeholder. Refused, as the
    send is, when the Primary Email Address can't be used."""
    customer = customer_row(reference)
    view = portal_view_of(customer)
    if view.send_refusal is not None:
        raise view.send_refusal
    settings = get_settings()
    purpose = PURPOSE_OF_KIND[view.email_action]
    hours = settings.setup_link_hours if purpose is LinkPurpose.setup else settings.reset_link_hours
    expires_at = clock.now() + timedelta(hours=hours)
    placeholder = f"{settings.portal_url}/{purpose.value}/{LINK_PLACEHOLDER}"
    rendered = render_email(view.email_action, name=customer.name, account=settings.sender_name,
                            link=placeholder, expires_at=expires_at)
    return EmailPreview(reference=customer.reference, kind=view.email_action, sender=settings.sender,
                        to=view.addresses, subject=rendered.subject, text=rendered.text,
                        link_placeholder=placeholder, expires_at=expires_at)

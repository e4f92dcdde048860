"""The login page's prompts ("Forgot Password", "Create Credential"): queue the Password
Reset email to the customers a username or address names, answering the same either way.
Rule 4 of docs/design.md."""
from __future__ import annotations

from datetime import timedelta

from . import activity, clock
from .addresses import parse_primary_email
from .db import write
from .links import queue_portal_email
from .models import Customer, OutboxEmail, PortalLogin
from .records import customer_row
from .settings import get_settings
from .usernames import username_key
from .values import EmailKind

# Customer-initiated reset emails (Forgot Password, Create Credential) per customer per hour.
PROMPT_EMAILS_PER_HOUR = 3
# A prompt naming an address shared by many customers sends to at most this many of them.
PROMPT_MAX_CUSTOMERS = 10


def request_password_reset(identifier: str, *, prompt: str) -> None:
    """The portal's "Forgot Password" or "Create Credential" prompt.

    Queues the Password Reset email for each customer whose portal username or
    Primary Email Address matches, when that email type is switched on. Returns
    nothing either way: the caller answers the same whether or not anything matched.
    """
    text = (identifier or "").strip()
    if not text or len(text) > 320 or any(not ch.isprintable() for ch in text):
        return
    settings = get_settings()
    for customer in _customers_matching(text):
        with write():
            customer = customer_row(customer.reference, lock=True)
            parsed = parse_primary_email(customer.primary_email)
            why = f"asked for with {prompt}"
            if not settings.password_reset_email:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: switched off in Settings")
            elif parsed.problem is not None:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: {parsed.problem}")
            elif _recent_prompt_emails(customer.id) >= PROMPT_EMAILS_PER_HOUR:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: more than "
                                f"{PROMPT_EMAILS_PER_HOUR} in an hour")
            else:
                queue_portal_email(customer, parsed.addresses, actor=activity.ACTOR_CUSTOMER, why=why,
                                   kind=EmailKind.password_reset)


def _customers_matching(text: str) -> list[Customer]:
    found: dict[int, Customer] = {}
    login = PortalLogin.get_or_none(PortalLogin.username_key == username_key(text))
    if login is not None:
        found[login.customer_id] = Customer.get_by_id(login.customer_id)
    if "@" in text:
        wanted = text.casefold()
        candidates = Customer.select().where(Customer.primary_email.contains(text)).limit(100)
        for customer in candidates:
            if wanted in (a.casefold() for a in parse_primary_email(customer.primary_email).addresses):
                found.setdefault(customer.id, customer)
    return list(found.values())[:PROMPT_MAX_CUSTOMERS]


def _recent_prompt_emails(customer_id: int) -> int:
    since = clock.now() - timedelta(hours=1)
    return OutboxEmail.select().where(
        (OutboxEmail.customer == customer_id) & (OutboxEmail.queued_by == activity.ACTOR_CUSTOMER)
        & (OutboxEmail.created_at > since)
    ).count()

"""The login page's prompts ("Forgot Password", "Create Credential"): queue the Password
Reset email to the customers a username or address names, answering the same either way.
Rule 4 of docs/design.md."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from . import activity, clock
from .addresses import parse_primary_email
from .db import write
from .errors import TooManyAttempts
from .links import queue_portal_email
from .models import Customer, OutboxEmail, PortalAttempt
from .records import customer_row, login_of, state_of
from .settings import get_settings
from .signin import PROMPT, Limit, serialise_attempts, subject_of, window_wait
from .usernames import login_by_typed_name, username_key
from .values import EmailKind, PortalState

# The longest username or email address a prompt takes (an email address's own limit).
MAX_IDENTIFIER = 320
# Customer-initiated reset emails (Forgot Password, Create Credential) per customer per hour.
PROMPT_EMAILS_PER_HOUR = 3
# A prompt naming an address shared by many customers sends to at most this many of them.
PROMPT_MAX_CUSTOMERS = 10


@dataclass(frozen=True)
class PromptLimits:
    """How often the prompts may be asked, known identifier or not (the same answer either
    way): per identifier typed, and per client address across identifiers."""

    per_identifier: Limit = Limit(5, timedelta(hours=1))
    per_address: Limit = Limit(20, timedelta(hours=1))


def identifier_problem(identifier: str) -> str | None:
    """What is wrong with what was typed in a prompt, in words for the form, or None."""
    text = (identifier or "").strip()
    if not text:
        return "Enter your username or email address."
    if len(text) > MAX_IDENTIFIER:
        return f"A username or email address has at most {MAX_IDENTIFIER} characters."
    if any(not ch.isprintable() for ch in text):
        return "A username or email address can't contain line breaks or control characters."
    return None


def count_prompt(identifier: str, address: str, limits: PromptLimits = PromptLimits()) -> None:
    """Count one prompt request, or raise TooManyAttempts (nothing counted) when this
    identifier or this address asked too often. In the database, atomically, so every
    portal process shares the counts and a restart keeps them."""
    subject = subject_of(username_key((identifier or "").strip()))
    address = address[:64]
    with write():
        serialise_attempts()
        now = clock.now()
        waits = [w for w in (window_wait(PROMPT, PortalAttempt.subject == subject, limits.per_identifier, now),
                             window_wait(PROMPT, PortalAttempt.address == address, limits.per_address, now))
                 if w is not None and w > timedelta(0)]
        if waits:
            raise TooManyAttempts(max(waits))
        PortalAttempt.create(kind=PROMPT, subject=subject, address=address, at=now)


def request_password_reset(identifier: str, *, prompt: str) -> None:
    """The portal's "Forgot Password" or "Create Credential" prompt.

    Queues the Password Reset email for each customer whose portal username or
    Primary Email Address matches, when that email type is switched on and the customer's
    portal access is not suspended (rule 16). Returns
    nothing either way: the caller answers the same whether or not anything matched.
    """
    if identifier_problem(identifier) is not None:
        return
    text = identifier.strip()
    settings = get_settings()
    for customer in _customers_matching(text):
        with write():
            customer = customer_row(customer.reference, lock=True)
            parsed = parse_primary_email(customer.primary_email)
            why = f"asked for with {prompt}"
            if state_of(login_of(customer)) is PortalState.suspended:
                # Rule 16: nothing is sent while suspended; the prompt answers as always.
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: suspended")
            elif not settings.password_reset_email:
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
    login = login_by_typed_name(text)
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

"""One-time setup and reset links, and the emails that carry them (rules 4-6 and 10): minting
a link revokes the older ones of its purpose; an email is an outbox row written in the
transaction of the change that caused it. Built on the records; used by the use cases."""
from __future__ import annotations

import json
from datetime import timedelta

from . import activity, clock
from .customer_values import LinkGrant, QueuedEmail
from .models import Customer, OutboxEmail, PortalLink
from .records import ACTION_OF_STATE, login_of, state_of
from .settings import get_settings
from .tokens import new_token, token_hash
from .values import EmailKind, LinkPurpose, OutboxStatus

# The page a setup or reset link opens stays usable this long after the link was opened.
GRANT_MINUTES = 30
# The form an opened link gives may be sent this many times (a taken username, a weak
# password, a typo); then it closes, so that one link can't probe usernames without end.
FORM_TRIES = 10
# What an outbox row and the activity log show in place of a link's token.
REDACTED = "[redacted]"
PURPOSE_OF_KIND = {EmailKind.credential_create: LinkPurpose.setup, EmailKind.password_reset: LinkPurpose.reset}


def revoke_open_links(customer_id: int, reason: str, purpose: LinkPurpose | None = None,
                       *, forms_too: bool = False) -> int:
    """Revoke the customer's links that could still be used (of one purpose, or all).

    ``forms_too`` also ends links already opened whose form may still be open
    (GRANT_MINUTES): when the username changes, a half-done setup must not finish.
    """
    now = clock.now()
    unused = PortalLink.used_at.is_null() & (PortalLink.expires_at > now)
    if forms_too:
        # >=: form_still_open keeps a form open at exactly GRANT_MINUTES, so that instant is revoked too.
        unused |= PortalLink.used_at >= now - timedelta(minutes=GRANT_MINUTES)
    query = PortalLink.update(revoked_at=now, revoked_reason=reason).where(
        (PortalLink.customer == customer_id) & PortalLink.revoked_at.is_null() & unused
    )
    if purpose is not None:
        query = query.where(PortalLink.purpose == purpose.value)
    return query.execute()


def mint_link(customer_id: int, kind: EmailKind) -> tuple[PortalLink, str]:
    """A new one-time link for an email of ``kind``, and its URL with the token redacted; call
    inside a transaction. It revokes the older unused links of its purpose (rule 6).

    Nobody holds a working token yet: the row keeps the hash of one thrown away, and the mailer
    issues the real token when it sends the email (issue_token). So no stored row, and no backup
    of the database, ever holds a link that works.
    """
    purpose = PURPOSE_OF_KIND[kind]
    settings = get_settings()
    hours = settings.setup_link_hours if purpose is LinkPurpose.setup else settings.reset_link_hours
    now = clock.now()
    revoke_open_links(customer_id, f"replaced by a newer {purpose.value} link", purpose)
    link = PortalLink.create(
        customer=customer_id, purpose=purpose.value, token_hash=token_hash(new_token()),
        created_at=now, expires_at=now + timedelta(hours=hours),
    )
    return link, f"{settings.portal_url}/{purpose.value}/{REDACTED}"


def issue_token(link_id: int, purpose: str, portal_url: str) -> str | None:
    """The link's working URL, made as its email is sent: a fresh token whose hash replaces the
    stored one (any token issued before stops working). The URL goes into the email and is
    forgotten. None when the link was used or revoked meanwhile."""
    token = new_token()
    changed = PortalLink.update(token_hash=token_hash(token)).where(
        (PortalLink.id == link_id) & PortalLink.used_at.is_null() & PortalLink.revoked_at.is_null()
    ).execute()
    return f"{portal_url}/{purpose}/{token}" if changed == 1 else None


def queue_portal_email(
    customer: Customer, addresses: tuple[str, ...], *, actor: str, why: str, kind: EmailKind | None = None
) -> QueuedEmail:
    """Mint a one-time link and write the outbox row; call inside the change's transaction."""
    kind = kind or ACTION_OF_STATE[state_of(login_of(customer))]
    link, url = mint_link(customer.id, kind)
    email = OutboxEmail.create(
        customer=customer.id, kind=kind.value, to_addresses=json.dumps(list(addresses)),
        customer_name=customer.name, link=link.id, link_url=url, link_expires_at=link.expires_at,
        status=OutboxStatus.queued.value, next_attempt_at=link.created_at, queued_by=actor,
        created_at=link.created_at,
    )
    activity.record(customer.id, actor, "email queued", f"{kind.type_name} to {', '.join(addresses)} ({why})")
    return QueuedEmail(outbox_id=email.id, kind=kind, to=addresses, link_expires_at=link.expires_at)


def form_still_open(grant: LinkGrant) -> bool:
    """Whether the form an opened link gave may still be sent: for GRANT_MINUTES after the open."""
    return clock.now() - grant.opened_at <= timedelta(minutes=GRANT_MINUTES)


def take_form_try(link_id: int) -> bool:
    """Count one sending of the link's form; False when its FORM_TRIES are used up. One
    conditional UPDATE: however many sendings arrive at once, no more than FORM_TRIES count."""
    return PortalLink.update(form_tries=PortalLink.form_tries + 1).where(
        (PortalLink.id == link_id) & (PortalLink.form_tries < FORM_TRIES)).execute() == 1


def usable(link: PortalLink, now) -> bool:
    return link.used_at is None and link.revoked_at is None and link.expires_at > now


def use_up(link: PortalLink, now) -> bool:
    """Mark the link used; True for the one caller whose UPDATE changed the row."""
    changed = PortalLink.update(used_at=now).where(
        (PortalLink.id == link.id) & PortalLink.used_at.is_null()
        & PortalLink.revoked_at.is_null() & (PortalLink.expires_at > now)
    ).execute()
    return changed == 1

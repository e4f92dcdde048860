"""Bulk sends: every customer of a state (or matching a search) is sent the one email its
state allows (rule 3's explicit send, as PORTAL's), in transactions of BATCH customers.

Customers are left out, and counted by reason, when their Primary Email Address has no valid
address (rule 2) or a link of theirs sent within ``recent_hours`` is still unused (sending
again would only revoke it). Each email is written as PORTAL writes it (store/links.py: a
fresh link that revokes the older unused ones of its purpose, an outbox row, an activity
event), a batch at a time in a few statements, with BULK_PRIORITY: the dispatcher claims
every email queued by hand first (store/dispatch.py), so a bulk backlog never delays them.

What was queued stays queued when a send is cancelled or fails part-way: each batch is
whole or absent, and the result counts what was queued.
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import timedelta
from typing import Callable, Sequence

from peewee import JOIN

from . import clock
from .addresses import parse_primary_email
from .db import write
from .links import PURPOSE_OF_KIND, REDACTED
from .models import ActivityEvent, Customer, OutboxEmail, PortalLink, PortalLogin
from .records import ACTION_OF_STATE
from .search import search_customers
from .settings import get_settings
from .tokens import new_token, token_hash
from .bulk_values import BulkSend, BulkSkip
from .values import EmailKind, LinkPurpose, OutboxStatus, PortalState

# Customers per transaction: large enough that queueing 100,000 takes seconds, small enough
# that a console or the portal waiting for the write lock waits a moment, not the whole send.
BATCH = 500
# Claimed after every email of priority 0 (an agent's, a customer's, a new customer's).
BULK_PRIORITY = 10
# Customers with an unused link of theirs sent this recently are left out unless the caller
# says otherwise (the console always, `portal send-all` by default): a new one would only revoke it.
RECENT_HOURS = 24
# Rows per INSERT statement (SQLite allows 32,766 parameters; an outbox row has 14).
_ROWS_PER_INSERT = 100

Progress = Callable[[int, int], None]


def _state_filter(query, state: PortalState | None):
    if state is PortalState.not_set_up:
        return query.where(PortalLogin.id.is_null())
    if state is PortalState.awaiting_customer:
        return query.where(PortalLogin.id.is_null(False) & PortalLogin.password_hash.is_null())
    if state is PortalState.active:
        return query.where(PortalLogin.password_hash.is_null(False) & PortalLogin.suspended_at.is_null())
    if state is PortalState.suspended:
        return query.where(PortalLogin.suspended_at.is_null(False))
    return query


def matching_ids(*, state: PortalState | None = None, match: str | None = None) -> list[int]:
    """The ids of the customers a bulk send covers: of ``state`` (every state when None) and,
    with ``match``, those the customer search finds for it."""
    if match and match.strip():
        references: list[str] = []
        after = None
        while True:
            page = search_customers(match, state=state, limit=1000, after=after)
            references.extend(c.reference for c in page.customers)
            if not page.has_more or page.next_after is None:
                break
            after = page.next_after
        return ids_of(references)
    query = Customer.select(Customer.id).join(PortalLogin, JOIN.LEFT_OUTER, on=(PortalLogin.customer == Customer.id))
    return [row[0] for row in _state_filter(query, state).order_by(Customer.id).tuples()]


def ids_of(references: Sequence[str]) -> list[int]:
    """The ids of the customers with these references, in id order (unknown ones left out)."""
    ids: list[int] = []
    unique = list(dict.fromkeys(references))
    for start in range(0, len(unique), 1000):
        chunk = unique[start:start + 1000]
        ids.extend(row[0] for row in Customer.select(Customer.id).where(Customer.reference.in_(chunk)).tuples())
    return sorted(ids)


def _recently_linked(ids: list[int], recent_hours: int) -> set[int]:
    """Customers of ``ids`` with a link created within ``recent_hours`` that is still usable."""
    if recent_hours <= 0:
        return set()
    now = clock.now()
    query = PortalLink.select(PortalLink.customer).where(
        PortalLink.customer.in_(ids) & (PortalLink.created_at > now - timedelta(hours=recent_hours))
        & PortalLink.used_at.is_null() & PortalLink.revoked_at.is_null() & (PortalLink.expires_at > now))
    return {row[0] for row in query.tuples()}


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        model.insert_many(rows[start:start + _ROWS_PER_INSERT]).execute()


def _queue_batch(ids: list[int], *, recent_hours: int, actor: str, dry_run: bool,
                 queued: dict[EmailKind, int], skipped: dict[BulkSkip, int], why: str = "bulk send") -> None:
    """Queue the batch's emails (or count them, on a dry run); call inside a transaction.
    ``why`` ends each activity event (an import's Credential Create emails say so)."""
    rows = (Customer.select(Customer.id, Customer.name, Customer.primary_email, PortalLogin.id,
                            PortalLogin.password_hash, PortalLogin.suspended_at)
            .join(PortalLogin, JOIN.LEFT_OUTER, on=(PortalLogin.customer == Customer.id))
            .where(Customer.id.in_(ids)).tuples())
    recent = _recently_linked(ids, recent_hours)
    settings = get_settings()
    now = clock.now()
    plans: list[tuple[int, str, tuple[str, ...], EmailKind]] = []
    for customer_id, name, primary_email, login_id, password_hash, suspended_at in rows:
        if suspended_at is not None:
            skipped[BulkSkip.suspended] += 1  # rule 16: no email while suspended
            continue
        addresses = parse_primary_email(primary_email)
        if addresses.problem is not None:
            skipped[BulkSkip.no_valid_address] += 1
            continue
        if customer_id in recent:
            skipped[BulkSkip.recent_link] += 1
            continue
        state = (PortalState.not_set_up if login_id is None else
                 PortalState.awaiting_customer if password_hash is None else PortalState.active)
        kind = ACTION_OF_STATE[state]
        queued[kind] += 1
        plans.append((customer_id, name, addresses.addresses, kind))
    if dry_run or not plans:
        return
    # Rule 6: a new link of a purpose revokes the customer's older unused ones of it.
    for purpose in LinkPurpose:
        of_purpose = [p[0] for p in plans if PURPOSE_OF_KIND[p[3]] is purpose]
        if of_purpose:
            PortalLink.update(revoked_at=now, revoked_reason=f"replaced by a newer {purpose.value} link").where(
                PortalLink.customer.in_(of_purpose) & (PortalLink.purpose == purpose.value)
                & PortalLink.revoked_at.is_null() & PortalLink.used_at.is_null()
                & (PortalLink.expires_at > now)).execute()
    # As mint_link: the row keeps the hash of a token thrown away, so no stored row holds a
    # working link; the mailer issues the real one as it sends the email.
    links = []
    for customer_id, _, _, kind in plans:
        purpose = PURPOSE_OF_KIND[kind]
        hours = settings.setup_link_hours if purpose is LinkPurpose.setup else settings.reset_link_hours
        links.append({"customer": customer_id, "purpose": purpose.value, "token_hash": token_hash(new_token()),
                      "created_at": now, "expires_at": now + timedelta(hours=hours), "form_tries": 0})
    _insert(PortalLink, links)
    link_ids = dict(PortalLink.select(PortalLink.token_hash, PortalLink.id)
                    .where(PortalLink.token_hash.in_([link["token_hash"] for link in links])).tuples())
    emails, events = [], []
    for (customer_id, name, addresses, kind), link in zip(plans, links):
        emails.append({
            "customer": customer_id, "kind": kind.value, "to_addresses": json.dumps(list(addresses)),
            "customer_name": name, "link": link_ids[link["token_hash"]],
            "link_url": f"{settings.portal_url}/{link['purpose']}/{REDACTED}", "link_expires_at": link["expires_at"],
            "status": OutboxStatus.queued.value, "attempts": 0, "next_attempt_at": now, "queued_by": actor,
            "created_at": now, "priority": BULK_PRIORITY, "refused_addresses": "[]"})
        events.append({"customer": customer_id, "at": now, "actor": actor, "action": "email queued",
                       "detail": f"{kind.type_name} to {', '.join(addresses)} ({why})"})
    _insert(OutboxEmail, emails)
    _insert(ActivityEvent, events)


def send_all(*, actor: str, state: PortalState | None = None, match: str | None = None,
             recent_hours: int = RECENT_HOURS, dry_run: bool = False, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None, references: Sequence[str] | None = None,
             batch_size: int = BATCH) -> BulkSend:
    """Send every covered customer the one email its state allows (see the module's docstring).
    ``references``: exactly these customers (the console's marked rows) instead of state and
    match; a reference no longer found (the customer was deleted) is not counted.
    ``progress(done, total)`` after each batch; ``cancelled()`` is asked before each batch."""
    chosen = ids_of(references) if references is not None else matching_ids(state=state, match=match)
    queued = {kind: 0 for kind in EmailKind}
    skipped = {reason: 0 for reason in BulkSkip}
    stopped = False
    for start in range(0, len(chosen), batch_size):
        if cancelled is not None and cancelled():
            stopped = True
            break
        batch = chosen[start:start + batch_size]
        # A dry run only reads: outside a write transaction, it never holds the write lock.
        with nullcontext() if dry_run else write():
            _queue_batch(batch, recent_hours=recent_hours, actor=actor, dry_run=dry_run,
                         queued=queued, skipped=skipped)
        if progress is not None:
            progress(min(start + batch_size, len(chosen)), len(chosen))
    return BulkSend(matching=len(chosen), queued=tuple(queued.items()), skipped=tuple(skipped.items()),
                    recent_hours=recent_hours, dry_run=dry_run, cancelled=stopped)

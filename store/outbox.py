"""Rule 10: the outbox. Rows are written with the change that caused them (see
portal.queue_portal_email); here they are listed and queued again after a failure."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from peewee import JOIN

from . import activity, clock
from .customers import customer_row
from .db import is_postgres, write
from .errors import ActionNotAllowed, OutboxEmailNotFound
from .models import Customer, OutboxEmail as OutboxRow, PortalLink
from .settings import get_settings
from .values import AccountSettings, EmailKind, OutboxEmail, OutboxStatus


def _value(row: OutboxRow) -> OutboxEmail:
    return OutboxEmail(
        id=row.id, customer_reference=row.customer.reference, customer_name=row.customer_name,
        kind=EmailKind(row.kind), to=tuple(json.loads(row.to_addresses)), status=OutboxStatus(row.status),
        attempts=row.attempts, created_at=row.created_at, next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at, last_error=row.last_error, refused=tuple(json.loads(row.refused_addresses)),
        queued_by=row.queued_by,
    )


def list_outbox(
    *, status: OutboxStatus | None = None, reference: str | None = None, limit: int = 200
) -> tuple[OutboxEmail, ...]:
    """Newest first, across customers or for one (the dashboard's Emails section)."""
    query = OutboxRow.select(OutboxRow, Customer).join(Customer).order_by(OutboxRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxRow.status == status.value)
    if reference is not None:
        query = query.where(Customer.reference == reference)
    return tuple(_value(row) for row in query)


def get_email(outbox_id: int) -> OutboxEmail:
    row = OutboxRow.select(OutboxRow, Customer).join(Customer).where(OutboxRow.id == outbox_id).first()
    if row is None:
        raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
    return _value(row)


def retry_email(outbox_id: int, *, actor: str) -> OutboxEmail:
    """Queue a failed email again, with a fresh link: the old one was revoked or may have expired."""
    from .portal import mint_link

    with write():
        row = OutboxRow.get_or_none(OutboxRow.id == outbox_id)
        if row is None:
            raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
        if row.status != OutboxStatus.failed.value:
            raise ActionNotAllowed(f"Email {outbox_id} is {row.status}; only a failed email can be sent again.")
        customer = customer_row(row.customer.reference, lock=True)
        link, url = mint_link(customer.id, EmailKind(row.kind))
        OutboxRow.update(
            status=OutboxStatus.queued.value, attempts=0, next_attempt_at=clock.now(), claimed_by=None,
            claimed_at=None, link=link.id, link_url=url, link_expires_at=link.expires_at,
            refused_addresses="[]",
        ).where(OutboxRow.id == row.id).execute()
        activity.record(customer.id, actor, "email queued again",
                        f"{EmailKind(row.kind).type_name} (email {outbox_id}) after: {row.last_error or 'failure'}")
    return get_email(outbox_id)


def pending_count() -> int:
    """Emails still waiting to go out (queued or being sent)."""
    return OutboxRow.select().where(OutboxRow.status.in_([OutboxStatus.queued.value, OutboxStatus.sending.value])).count()




# --- delivery: what the mailer's dispatcher calls ------------------------------------------
#
# A row moves queued -> sending (claimed) -> sent | queued (retry) | failed. Every move is a
# conditional UPDATE on the row's status and claim, so several dispatchers on one database
# never send a row twice, and a dispatcher that lost its claim (lease passed) cannot overwrite
# what the new claimer wrote.

REDACTED = "[redacted]"
# claimed_by is a CharField(200): a dispatcher's name is cut to fit.
_CLAIMER_MAX = 200
# last_error and delivered_via are shown in one line of the console; a server's reply can be long.
_REPLY_MAX = 500


@dataclass(frozen=True)
class ClaimedEmail:
    """An outbox row a dispatcher holds: everything needed to build and send the message."""

    id: int
    customer_id: int
    customer_reference: str
    customer_name: str
    kind: EmailKind
    to: tuple[str, ...]
    link_url: str
    link_expires_at: datetime
    # Which attempt this is (1 for the first), counted when the row was claimed.
    attempt: int


@dataclass(frozen=True)
class Claim:
    """A batch of claimed rows and the account settings they are sent with."""

    emails: tuple[ClaimedEmail, ...]
    settings: AccountSettings
    # Rows the claim did not send: their link was revoked or expired while they waited.
    failed_before_send: int = 0
    # Rows taken back from a dispatcher whose lease had passed.
    taken_back: int = 0


@dataclass(frozen=True)
class Sent:
    """The server (or the Maildir) accepted the message for at least one address."""

    email_id: int
    message_id: str
    delivered_via: str
    # Addresses refused for good (5xx) with the server's reply; the others got the email.
    refused: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Retry:
    """A transient failure (connection refused or dropped, time-out, 4xx): try again later."""

    email_id: int
    error: str


@dataclass(frozen=True)
class Failed:
    """A permanent failure (5xx for every address, a message that can't be built)."""

    email_id: int
    error: str


Outcome = Sent | Retry | Failed


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter: base * factor**(attempt-1), capped, +/- jitter."""

    base_seconds: float = 30.0
    factor: float = 2.0
    max_seconds: float = 3600.0
    jitter: float = 0.25
    # After this many attempts a transient failure marks the row failed (it stays visible).
    max_attempts: int = 10

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempt``-th try failed."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        spread = raw * self.jitter
        return max(0.0, raw + (rng or random).uniform(-spread, spread))


def redact_link(url: str) -> str:
    """The link with its token replaced: enough to see which page it opened, useless to open it."""
    base, _, _token = url.rpartition("/")
    return f"{base}/{REDACTED}" if base else REDACTED


def _cut(text: str, limit: int = _REPLY_MAX) -> str:
    """One line, bounded: server replies go into the console's single-line columns."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _locked(query):
    """PostgreSQL: lock the selected rows and skip those another dispatcher holds.
    SQLite needs nothing: every write transaction holds the database's write lock (IMMEDIATE)."""
    return query.for_update(skip_locked=True) if is_postgres() else query


def claim_due(claimer: str, *, limit: int, lease_seconds: float) -> Claim:
    """Claim up to ``limit`` due rows (queued -> sending) for ``claimer``, atomically.

    Rows claimed by a dispatcher longer than ``lease_seconds`` ago (it crashed or was killed)
    are taken back first. A row whose link was revoked or has expired is marked failed
    instead of being sent: a dead link helps no one.
    """
    claimer = claimer[:_CLAIMER_MAX]
    now = clock.now()
    with write():
        taken_back = _take_back_stale_claims(now, lease_seconds)
        due = _locked(
            OutboxRow.select(OutboxRow.id)
            .where((OutboxRow.status == OutboxStatus.queued.value) & (OutboxRow.next_attempt_at <= now))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        ids = [row.id for row in due]
        if not ids:
            return Claim(emails=(), settings=get_settings(), taken_back=taken_back)
        OutboxRow.update(
            status=OutboxStatus.sending.value, claimed_by=claimer, claimed_at=now,
            attempts=OutboxRow.attempts + 1,
        ).where(OutboxRow.id.in_(ids) & (OutboxRow.status == OutboxStatus.queued.value)).execute()
        rows = (
            OutboxRow.select(OutboxRow, Customer.reference, PortalLink.id, PortalLink.revoked_at, PortalLink.revoked_reason)
            .join(Customer)
            .switch(OutboxRow)
            .join(PortalLink, JOIN.LEFT_OUTER)
            .where(OutboxRow.id.in_(ids) & (OutboxRow.claimed_by == claimer)
                   & (OutboxRow.status == OutboxStatus.sending.value))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        )
        emails: list[ClaimedEmail] = []
        dead = 0
        for row in rows:
            reason = _dead_link_reason(row, now)
            if reason is not None:
                _fail(row.id, row.customer_id, claimer, reason, EmailKind(row.kind), row.link_id)
                dead += 1
                continue
            emails.append(ClaimedEmail(
                id=row.id, customer_id=row.customer_id, customer_reference=row.customer.reference,
                customer_name=row.customer_name, kind=EmailKind(row.kind),
                to=tuple(json.loads(row.to_addresses)), link_url=row.link_url,
                link_expires_at=row.link_expires_at, attempt=row.attempts,
            ))
        return Claim(emails=tuple(emails), settings=get_settings(), failed_before_send=dead, taken_back=taken_back)


def _dead_link_reason(row: OutboxRow, now: datetime) -> str | None:
    link = row.link if row.link_id is not None else None
    if row.link_id is None or link is None:
        return "Not sent: its link no longer exists."
    if link.revoked_at is not None:
        return f"Not sent: its link was revoked before delivery ({link.revoked_reason or 'revoked'})."
    if row.link_expires_at <= now:
        return "Not sent: its link expired before it could be delivered; send the email again for a fresh link."
    return None


def _take_back_stale_claims(now: datetime, lease_seconds: float) -> int:
    """Rows left in 'sending' by a dispatcher that stopped answering go back to the queue."""
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = list(_locked(
        OutboxRow.select(OutboxRow.id, OutboxRow.customer, OutboxRow.claimed_by, OutboxRow.kind)
        .where((OutboxRow.status == OutboxStatus.sending.value) & (OutboxRow.claimed_at < cutoff))
    ))
    taken = 0
    for row in stale:
        changed = OutboxRow.update(status=OutboxStatus.queued.value, claimed_by=None, claimed_at=None).where(
            (OutboxRow.id == row.id) & (OutboxRow.status == OutboxStatus.sending.value)
            & (OutboxRow.claimed_at < cutoff)
        ).execute()
        if changed:
            taken += 1
            activity.record(row.customer_id, activity.ACTOR_SYSTEM, "email claim taken back",
                            f"{EmailKind(row.kind).type_name} (email {row.id}): {row.claimed_by} held it "
                            f"longer than the {lease_seconds:g} s lease; it will be sent again")
    return taken


def renew_claims(ids: Sequence[int], claimer: str) -> set[int]:
    """Push the lease of rows still held by ``claimer``; returns the ids it still holds."""
    if not ids:
        return set()
    claimer = claimer[:_CLAIMER_MAX]
    with write():
        OutboxRow.update(claimed_at=clock.now()).where(
            OutboxRow.id.in_(list(ids)) & (OutboxRow.claimed_by == claimer)
            & (OutboxRow.status == OutboxStatus.sending.value)
        ).execute()
        held = OutboxRow.select(OutboxRow.id).where(
            OutboxRow.id.in_(list(ids)) & (OutboxRow.claimed_by == claimer)
            & (OutboxRow.status == OutboxStatus.sending.value))
        return {row.id for row in held}


def release_claims(ids: Sequence[int], claimer: str) -> int:
    """Give rows back to the queue unsent (a dispatcher stopping); returns how many."""
    if not ids:
        return 0
    with write():
        return OutboxRow.update(
            status=OutboxStatus.queued.value, claimed_by=None, claimed_at=None,
            # The attempt never happened: don't count it against the row's retries.
            attempts=OutboxRow.attempts - 1,
        ).where(
            OutboxRow.id.in_(list(ids)) & (OutboxRow.claimed_by == claimer[:_CLAIMER_MAX])
            & (OutboxRow.status == OutboxStatus.sending.value)
        ).execute()


def _held(email_id: int, claimer: str):
    return ((OutboxRow.id == email_id) & (OutboxRow.claimed_by == claimer[:_CLAIMER_MAX])
            & (OutboxRow.status == OutboxStatus.sending.value))


def _row_for_event(email_id: int) -> OutboxRow:
    return OutboxRow.select(OutboxRow.id, OutboxRow.customer, OutboxRow.kind, OutboxRow.to_addresses,
                            OutboxRow.link, OutboxRow.link_url, OutboxRow.link_expires_at,
                            OutboxRow.attempts).where(
        OutboxRow.id == email_id).get()


def _mark_sent(result: Sent, claimer: str) -> bool:
    row = _row_for_event(result.email_id)
    refused = [address for address, _ in result.refused]
    changed = OutboxRow.update(
        status=OutboxStatus.sent.value, sent_at=clock.now(), claimed_by=None, claimed_at=None,
        message_id=result.message_id[:300], delivered_via=_cut(result.delivered_via),
        refused_addresses=json.dumps(refused), link_url=redact_link(row.link_url),
        last_error=_cut("; ".join(f"{a}: {reply}" for a, reply in result.refused)) or None,
    ).where(_held(result.email_id, claimer)).execute()
    if not changed:
        return False
    to = [a for a in json.loads(row.to_addresses) if a not in refused]
    detail = f"{EmailKind(row.kind).type_name} (email {row.id}) to {', '.join(to)}"
    if refused:
        detail += "; refused for " + "; ".join(f"{a}: {_cut(reply, 120)}" for a, reply in result.refused)
    activity.record(row.customer_id, activity.ACTOR_SYSTEM, "email sent", f"{detail} ({_cut(result.delivered_via, 120)})")
    return True


def _schedule_retry(result: Retry, claimer: str, policy: RetryPolicy, rng: random.Random | None) -> bool:
    row = _row_for_event(result.email_id)
    kind = EmailKind(row.kind)
    now = clock.now()
    next_at = now + timedelta(seconds=policy.delay(row.attempts, rng))
    if row.attempts >= policy.max_attempts:
        return _fail(row.id, row.customer_id, claimer,
                     f"Gave up after {row.attempts} attempts: {_cut(result.error)}", kind, row.link_id)
    if next_at >= row.link_expires_at:
        return _fail(row.id, row.customer_id, claimer,
                     f"Not sent: its link expires before the next try ({_cut(result.error)}); "
                     "send the email again for a fresh link.", kind, row.link_id)
    changed = OutboxRow.update(
        status=OutboxStatus.queued.value, next_attempt_at=next_at, claimed_by=None, claimed_at=None,
        last_error=_cut(result.error),
    ).where(_held(row.id, claimer)).execute()
    if changed:
        activity.record(row.customer_id, activity.ACTOR_SYSTEM, "email retry scheduled",
                        f"{kind.type_name} (email {row.id}), attempt {row.attempts} failed: {_cut(result.error, 200)}; "
                        f"next try at {next_at:%Y-%m-%d %H:%M:%S} UTC")
    return bool(changed)


def _fail(email_id: int, customer_id: int, claimer: str, error: str, kind: EmailKind, link_id: int | None) -> bool:
    """Mark a held row failed; its link is redacted and revoked (a retry mints a fresh one)."""
    row = OutboxRow.select(OutboxRow.link_url).where(OutboxRow.id == email_id).get()
    changed = OutboxRow.update(
        status=OutboxStatus.failed.value, claimed_by=None, claimed_at=None, last_error=_cut(error),
        link_url=redact_link(row.link_url),
    ).where(_held(email_id, claimer)).execute()
    if not changed:
        return False
    if link_id is not None:
        PortalLink.update(revoked_at=clock.now(), revoked_reason="its email was not delivered").where(
            (PortalLink.id == link_id) & PortalLink.revoked_at.is_null()).execute()
    activity.record(customer_id, activity.ACTOR_SYSTEM, "email failed",
                    f"{kind.type_name} (email {email_id}): {_cut(error, 300)}")
    return True


def _mark_failed(result: Failed, claimer: str) -> bool:
    row = _row_for_event(result.email_id)
    return _fail(row.id, row.customer_id, claimer, result.error, EmailKind(row.kind), row.link_id)


def mark_sent(result: Sent, claimer: str) -> bool:
    """Record a delivery: status sent, Message-ID, where it went, refused addresses, link redacted.
    False when ``claimer`` no longer held the row (its lease passed and another took it)."""
    with write():
        return _mark_sent(result, claimer)


def schedule_retry(result: Retry, claimer: str, policy: RetryPolicy = RetryPolicy(),
                   rng: random.Random | None = None) -> bool:
    """A transient failure: back to the queue after the back-off, or failed when out of tries."""
    with write():
        return _schedule_retry(result, claimer, policy, rng)


def mark_failed(result: Failed, claimer: str) -> bool:
    """A permanent failure: status failed with the server's reply; the row stays visible for retry."""
    with write():
        return _mark_failed(result, claimer)


def record_outcomes(outcomes: Sequence[Outcome], claimer: str, policy: RetryPolicy = RetryPolicy(),
                    rng: random.Random | None = None) -> int:
    """Record a batch of outcomes in one transaction; returns how many rows were still held."""
    held = 0
    with write():
        for outcome in outcomes:
            if isinstance(outcome, Sent):
                held += _mark_sent(outcome, claimer)
            elif isinstance(outcome, Retry):
                held += _schedule_retry(outcome, claimer, policy, rng)
            else:
                held += _mark_failed(outcome, claimer)
    return held

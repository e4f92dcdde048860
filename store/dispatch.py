"""Rule 10, the dispatcher's side of the outbox: the lease machine the mailer drives.

A row moves queued -> sending (claimed) -> sent | queued (retry) | failed. Every move is a
conditional UPDATE on the row's status and claim, so several dispatchers on one database
never send a row twice, and a dispatcher that lost its claim (lease passed) cannot overwrite
what the new claimer wrote. The agent's side (listing, sending again) is store/outbox.py."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Sequence

from peewee import JOIN, Expression, Model, ModelSelect

from . import activity, clock
from .customer_values import AccountSettings
from .db import database, is_postgres, write
from .links import PURPOSE_OF_KIND, REDACTED, issue_token
from .models import ActivityEvent, Customer, OutboxEmail as OutboxRow, PortalLink
from .settings import get_settings
from .values import EmailKind, OutboxStatus

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
    link_url: str  # the working link, issued as the row was claimed (the row keeps it redacted)
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


def locked_rows(query: ModelSelect, *, skip: bool = True) -> ModelSelect:
    """PostgreSQL: lock the selected rows, skipping those another transaction has locked
    (``skip``) or waiting for them. SQLite needs nothing: every write transaction holds the
    database's write lock (IMMEDIATE)."""
    if not is_postgres():
        return query
    return query.for_update(skip_locked=True) if skip else query.for_update()


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
        due = locked_rows(
            OutboxRow.select(OutboxRow.id)
            .where((OutboxRow.status == OutboxStatus.queued.value) & (OutboxRow.next_attempt_at <= now))
            # Lowest priority first: an email queued by hand goes before a bulk send's backlog
            # (store/bulk.py); the index outbox_email_claim_order reads them in this order.
            .order_by(OutboxRow.priority, OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        ids = [row.id for row in due]
        settings = get_settings()
        if not ids:
            return Claim(emails=(), settings=settings, taken_back=taken_back)
        OutboxRow.update(
            status=OutboxStatus.sending.value, claimed_by=claimer, claimed_at=now,
            attempts=OutboxRow.attempts + 1,
        ).where(OutboxRow.id.in_(ids) & (OutboxRow.status == OutboxStatus.queued.value)).execute()
        rows = (
            OutboxRow.select(
                OutboxRow.id, OutboxRow.customer, Customer.reference, OutboxRow.customer_name, OutboxRow.kind,
                OutboxRow.to_addresses, OutboxRow.link_url, OutboxRow.link_expires_at, OutboxRow.attempts,
                PortalLink.id, PortalLink.revoked_reason, PortalLink.revoked_at,
            )
            .join(Customer)
            .switch(OutboxRow)
            .join(PortalLink, JOIN.LEFT_OUTER)
            .where(OutboxRow.id.in_(ids) & (OutboxRow.claimed_by == claimer)
                   & (OutboxRow.status == OutboxStatus.sending.value))
            .order_by(OutboxRow.priority, OutboxRow.next_attempt_at, OutboxRow.id)
            .tuples()  # plain tuples: building model instances costs more than the query
        )
        emails: list[ClaimedEmail] = []
        events: list[tuple[int, str, str]] = []
        for (id_, customer_id, reference, name, kind, to, url, expires, attempts,
             link_id, revoked_reason, revoked_at) in rows:
            email = ClaimedEmail(
                id=id_, customer_id=customer_id, customer_reference=reference, customer_name=name,
                kind=EmailKind(kind), to=tuple(json.loads(to)), link_url=url, link_expires_at=expires,
                attempt=attempts,
            )
            reason = _dead_link_reason(link_id, revoked_at, revoked_reason, expires, now)
            live_url = None
            if reason is None:
                # The token is made now, as the email goes out; the row never holds it.
                live_url = issue_token(link_id, PURPOSE_OF_KIND[email.kind].value, settings.portal_url)
                if live_url is None:
                    reason = "Not sent: its link was used or revoked before delivery."
            if live_url is not None:
                emails.append(replace(email, link_url=live_url))
            else:
                # Not a delivery failure: the email was overtaken (a newer link, a password set).
                _fail(_HeldRow(id_, customer_id, email.kind, email.to, link_id, url, expires, attempts),
                      reason, events, action="email not sent")
        _record_events(events)
        return Claim(emails=tuple(emails), settings=settings, failed_before_send=len(events),
                     taken_back=taken_back)


def _dead_link_reason(link_id: int | None, revoked_at: datetime | None, revoked_reason: str | None,
                      expires_at: datetime, now: datetime) -> str | None:
    if link_id is None:
        return "Not sent: its link no longer exists."
    if revoked_at is not None:
        return f"Not sent: its link was revoked before delivery ({revoked_reason or 'revoked'})."
    if expires_at <= now:
        return "Not sent: its link expired before it could be delivered; send the email again for a fresh link."
    return None


def _take_back_stale_claims(now: datetime, lease_seconds: float) -> int:
    """Rows left in 'sending' by a dispatcher that stopped answering go back to the queue."""
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = list(locked_rows(
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


def _held_by(claimer: str) -> Expression:
    return (OutboxRow.claimed_by == claimer[:_CLAIMER_MAX]) & (OutboxRow.status == OutboxStatus.sending.value)


@dataclass(frozen=True)
class _HeldRow:
    id: int
    customer_id: int
    kind: EmailKind
    to: tuple[str, ...]
    link_id: int | None
    link_url: str
    link_expires_at: datetime
    attempts: int


def _held_rows(ids: Sequence[int], claimer: str) -> dict[int, _HeldRow]:
    """The rows of ``ids`` that ``claimer`` still holds, locked until the transaction ends."""
    query = locked_rows(OutboxRow.select(
        OutboxRow.id, OutboxRow.customer, OutboxRow.kind, OutboxRow.to_addresses, OutboxRow.link,
        OutboxRow.link_url, OutboxRow.link_expires_at, OutboxRow.attempts,
    ).where(OutboxRow.id.in_(list(ids)) & _held_by(claimer)), skip=False).tuples()
    return {
        id_: _HeldRow(id_, customer_id, EmailKind(kind), tuple(json.loads(to)), link_id, url, expires, attempts)
        for id_, customer_id, kind, to, link_id, url, expires, attempts in query
    }


def _executemany(model: type[Model], sql: str, rows: list[tuple]) -> None:
    """One statement for many rows. Peewee builds SQL per row, which cost more than the
    database itself when recording a batch of a hundred deliveries (bench/mail_throughput.py)."""
    if rows:
        sql = sql.replace("?", database.param).format(table=model._meta.table_name)
        database.cursor().executemany(sql, rows)


def _record_events(events: list[tuple[int, str, str]]) -> None:
    """Activity events (customer, action, detail) by the system, in one statement."""
    at = ActivityEvent.at.db_value(clock.now())
    _executemany(ActivityEvent, "INSERT INTO {table} (customer_id, at, actor, action, detail, old_value, new_value) "
                 "VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                 [(customer_id, at, activity.ACTOR_SYSTEM, action, detail) for customer_id, action, detail in events])


def _mark_sent(results: list[Sent], rows: dict[int, _HeldRow], events: list[tuple[int, str, str]]) -> int:
    """All sent rows of a batch in one statement; each with its own Message-ID, route, refusals."""
    results = [r for r in results if r.email_id in rows]
    sent_at = OutboxRow.sent_at.db_value(clock.now())
    values = []
    for result in results:
        row = rows[result.email_id]
        refused = [address for address, _ in result.refused]
        values.append((
            OutboxStatus.sent.value, sent_at, result.message_id[:300], _cut(result.delivered_via),
            json.dumps(refused), redact_link(row.link_url),
            _cut("; ".join(f"{a}: {reply}" for a, reply in result.refused)) or None, row.id,
        ))
        to = [a for a in row.to if a not in refused]
        detail = f"{row.kind.type_name} (email {row.id}) to {', '.join(to)}"
        if result.refused:
            detail += "; refused for " + "; ".join(f"{a}: {_cut(reply, 120)}" for a, reply in result.refused)
        events.append((row.customer_id, "email sent", f"{detail} ({_cut(result.delivered_via, 120)})"))
    # The rows are held by this claimer and locked (_held_rows), so the id alone is enough here.
    _executemany(OutboxRow, "UPDATE {table} SET status = ?, sent_at = ?, claimed_by = NULL, claimed_at = NULL, "
                 "message_id = ?, delivered_via = ?, refused_addresses = ?, link_url = ?, last_error = ? "
                 "WHERE id = ?", values)
    return len(results)


def _fail(row: _HeldRow, error: str, events: list[tuple[int, str, str]], *, action: str = "email failed") -> None:
    """Mark a held row failed; its link is redacted and revoked (a retry mints a fresh one)."""
    OutboxRow.update(
        status=OutboxStatus.failed.value, claimed_by=None, claimed_at=None, last_error=_cut(error),
        link_url=redact_link(row.link_url),
    ).where(OutboxRow.id == row.id).execute()
    if row.link_id is not None:
        PortalLink.update(revoked_at=clock.now(), revoked_reason="its email was not delivered").where(
            (PortalLink.id == row.link_id) & PortalLink.revoked_at.is_null()).execute()
    events.append((row.customer_id, action, f"{row.kind.type_name} (email {row.id}): {_cut(error, 300)}"))


def _schedule_retry(result: Retry, row: _HeldRow, policy: RetryPolicy, rng: random.Random | None,
                    events: list[tuple[int, str, str]]) -> None:
    next_at = clock.now() + timedelta(seconds=policy.delay(row.attempts, rng))
    if row.attempts >= policy.max_attempts:
        _fail(row, f"Gave up after {row.attempts} attempts: {_cut(result.error)}", events)
    elif next_at >= row.link_expires_at:
        _fail(row, f"Not sent: its link expires before the next try ({_cut(result.error)}); "
                   "send the email again for a fresh link.", events)
    else:
        OutboxRow.update(
            status=OutboxStatus.queued.value, next_attempt_at=next_at, claimed_by=None, claimed_at=None,
            last_error=_cut(result.error),
        ).where(OutboxRow.id == row.id).execute()
        events.append((row.customer_id, "email retry scheduled",
                       f"{row.kind.type_name} (email {row.id}), attempt {row.attempts} failed: "
                       f"{_cut(result.error, 200)}; next try at {next_at:%Y-%m-%d %H:%M:%S} UTC"))


def _record(outcomes: Sequence[Outcome], claimer: str, policy: RetryPolicy, rng: random.Random | None) -> int:
    rows = _held_rows([o.email_id for o in outcomes], claimer)
    events: list[tuple[int, str, str]] = []
    _mark_sent([o for o in outcomes if isinstance(o, Sent)], rows, events)
    for outcome in outcomes:
        row = rows.get(outcome.email_id)
        if row is None:
            continue
        if isinstance(outcome, Retry):
            _schedule_retry(outcome, row, policy, rng, events)
        elif isinstance(outcome, Failed):
            _fail(row, outcome.error, events)
    _record_events(events)
    return sum(o.email_id in rows for o in outcomes)


def record_outcomes(outcomes: Sequence[Outcome], claimer: str, policy: RetryPolicy = RetryPolicy(),
                    rng: random.Random | None = None) -> int:
    """Record a batch of outcomes in one transaction, each with its activity event.

    Only rows ``claimer`` still holds are written (a row whose lease passed belongs to
    whoever took it back). Returns how many that was.
    """
    if not outcomes:
        return 0
    with write():
        return _record(outcomes, claimer, policy, rng)


def mark_sent(result: Sent, claimer: str) -> bool:
    """Record a delivery: status sent, Message-ID, where it went, refused addresses, link redacted.
    False when ``claimer`` no longer held the row (its lease passed and another took it)."""
    return record_outcomes([result], claimer) == 1


def schedule_retry(result: Retry, claimer: str, policy: RetryPolicy = RetryPolicy(),
                   rng: random.Random | None = None) -> bool:
    """A transient failure: back to the queue after the back-off, or failed when out of tries."""
    return record_outcomes([result], claimer, policy, rng) == 1


def mark_failed(result: Failed, claimer: str) -> bool:
    """A permanent failure: status failed with the server's reply; the row stays visible for retry."""
    return record_outcomes([result], claimer) == 1

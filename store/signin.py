"""Signing in to the portal with a portal username and password (rule 7), and the limits on it.

Every attempt is counted in the database *before* its password is checked, in one
transaction that also reads the counts: however many requests arrive at once, in however
many portal processes, no more than the limit reach Argon2. A correct password then
removes the attempt (and the earlier failures from that address); a wrong one leaves it
counting.

The limits hurt whoever guesses, not the customer (SignInLimits):
- per username *and* address: SignInLimits.per_pair wrong passwords are free, then each
  further one must wait twice as long as the one before (1 min, 2, 4, ... at most 1 h);
  another address (the customer's own) is not slowed by them;
- per username across all addresses: a much higher ceiling (per_username), against guessing
  from many addresses; only that locks the customer out too, and a password reset or setup
  (or an agent's Unlock) clears it;
- per address across usernames (per_address), against trying one password on many accounts.

What was typed as a username is never kept: attempts hold the SHA-256 of its key.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from . import activity, clock
from .db import is_postgres, write
from .errors import InvalidLogin, TooManyAttempts
from .models import Customer, PortalAttempt, PortalLogin, SignInEvent
from .passwords import verify_password
from .records import customer_row, login_of
from .sessions import (
    end_customer_sessions, history, open_sessions, prune_sessions, record_event, start_session,
)
from .usernames import login_by_typed_name, username_key
from .portal_values import SessionEnd, SignInRecord, SignInStatus, SignedInCustomer

SIGN_IN = "sign-in"
PROMPT = "prompt"
# Old attempts are pruned on every PRUNE_EVERY-th attempt written (by its id): no timer
# needed, and a flood that writes many rows prunes as often.
PRUNE_EVERY = 100
# Attempts are kept this long, then pruned: no limit may look further back.
KEEP_ATTEMPTS = timedelta(days=1)
# Where a call from outside the portal (a test, a script) says it comes from.
STORE_ADDRESS = "store"


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` within ``window``."""

    attempts: int
    window: timedelta


@dataclass(frozen=True)
class SignInLimits:
    """The sign-in limits (see the module's docstring and SECURITY.md)."""

    per_pair: int = 5
    first_delay: timedelta = timedelta(minutes=1)
    longest_delay: timedelta = timedelta(hours=1)
    # Wrong passwords from one address for one username are remembered this long (or until a
    # correct password from that address, a reset, or Unlock); at most KEEP_ATTEMPTS.
    pair_memory: timedelta = timedelta(hours=24)
    per_username: Limit = Limit(100, timedelta(hours=1))
    per_address: Limit = Limit(30, timedelta(minutes=15))

    def delay_after(self, failures: int) -> timedelta | None:
        """How long after the last of ``failures`` wrong passwords (one address, one username)
        the next may be tried: None while they are fewer than per_pair."""
        if failures < self.per_pair:
            return None
        doublings = min(failures - self.per_pair, 30)
        return min(self.first_delay * 2 ** doublings, self.longest_delay)


@dataclass(frozen=True)
class SignInTicket:
    """A counted sign-in attempt, allowed to have its password checked once."""

    attempt_id: int
    key: str
    address: str
    typed: str  # as typed: a login that migration 0003 kept under its old key is found by it


def subject_of(key: str) -> str:
    """What attempts keep instead of a username key or identifier: its SHA-256."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def serialise_attempts() -> None:
    """Make counting-then-writing an attempt atomic; call first inside write().

    On SQLite the write transaction already holds the database's write lock (IMMEDIATE). On
    PostgreSQL two transactions would each count before seeing the other's row, so they take
    this table lock, which conflicts with itself (never with reads): counts queue for the
    few milliseconds each takes."""
    if is_postgres():
        PortalAttempt._meta.database.execute_sql(
            f'LOCK TABLE "{PortalAttempt._meta.table_name}" IN SHARE ROW EXCLUSIVE MODE')


def window_wait(kind: str, where, limit: Limit, now: datetime) -> timedelta | None:
    """How long until the attempts of ``kind`` matching ``where`` fall below ``limit`` in its
    sliding window, or None when one more may be tried now."""
    query = (PortalAttempt.select(PortalAttempt.at)
             .where((PortalAttempt.kind == kind) & where & (PortalAttempt.at > now - limit.window))
             .order_by(PortalAttempt.at.desc()).offset(limit.attempts - 1).limit(1))
    oldest_counted = query.scalar()
    if oldest_counted is None:
        return None
    return _moment(oldest_counted) + limit.window - now


def _moment(value) -> datetime:
    """An attempt's time as aware UTC, also where a backend hands back an aggregate unconverted."""
    return PortalAttempt.at.python_value(value)


def _pair_wait(subject: str, address: str, limits: SignInLimits, now: datetime) -> tuple[timedelta | None, datetime | None]:
    """The wait the wrong passwords from one address for one username impose, and until when."""
    failures, last = (PortalAttempt.select(fn.COUNT(PortalAttempt.id), fn.MAX(PortalAttempt.at))
                      .where((PortalAttempt.kind == SIGN_IN) & (PortalAttempt.subject == subject)
                             & (PortalAttempt.address == address)
                             & (PortalAttempt.at > now - limits.pair_memory))
                      .tuples().get())
    delay = limits.delay_after(failures)
    if delay is None or last is None:
        return None, None
    until = _moment(last) + delay
    return (until - now, until) if until > now else (None, None)


def sign_in_wait(subject: str, address: str, limits: SignInLimits, now: datetime) -> timedelta | None:
    """The longest wait any sign-in limit imposes on this username from this address, or None."""
    waits = [
        _pair_wait(subject, address, limits, now)[0],
        window_wait(SIGN_IN, PortalAttempt.subject == subject, limits.per_username, now),
        window_wait(SIGN_IN, PortalAttempt.address == address, limits.per_address, now),
    ]
    found = [w for w in waits if w is not None and w > timedelta(0)]
    return max(found) if found else None


def begin_sign_in(username: str, address: str, limits: SignInLimits = SignInLimits()) -> SignInTicket:
    """Count one sign-in attempt before its password is checked, or raise TooManyAttempts
    (nothing written) when a limit is reached. Atomic: of any number of attempts at once,
    only as many as the limits allow get a ticket."""
    key = username_key(username or "")
    subject, address = subject_of(key), address[:64]
    with write():
        serialise_attempts()
        now = clock.now()
        wait = sign_in_wait(subject, address, limits, now)
        if wait is not None:
            raise TooManyAttempts(wait)
        attempt = PortalAttempt.create(kind=SIGN_IN, subject=subject, address=address, at=now)
    if attempt.id % PRUNE_EVERY == 0:
        prune()
    return SignInTicket(attempt_id=attempt.id, key=key, address=address, typed=username or "")


def finish_sign_in(ticket: SignInTicket, password: str, *, limits: SignInLimits = SignInLimits(),
                   session: bool = True) -> SignedInCustomer:
    """Check the ticket's password (one Argon2 verification, outside any transaction). Right:
    the attempt and that address's earlier failures go, a session starts (when ``session``).
    Wrong, or no such username: one neutral InvalidLogin, and the attempt stays counted. A
    suspended login (rule 16) is refused with the same InvalidLogin, right password or not, so
    the answer tells nobody that the password was right or that the login is suspended."""
    login = login_by_typed_name(ticket.typed)
    verified = verify_password(login.password_hash if login else None, password or "")
    subject = subject_of(ticket.key)
    with write():
        suspended = False
        if verified:
            query = PortalLogin.select().where(PortalLogin.id == login.id)
            # Locked on PostgreSQL: a suspension committing meanwhile is seen, or waits for this
            # sign-in and then ends its session.
            current = (query.for_update() if is_postgres() else query).first()
            # A password set while this one was being checked wins: the old one no longer signs in.
            verified = current is not None and current.password_hash == login.password_hash
            suspended = verified and current.suspended_at is not None
        if suspended:
            # The attempt stays counted, as a wrong password's does: the same answer either way.
            record_event(login.customer_id, "refused", ticket.address, "portal access suspended")
        elif verified:
            # This attempt and the ones from this address counted before it are forgiven; those
            # counted after it (a burst still in flight) keep counting.
            PortalAttempt.delete().where(
                (PortalAttempt.kind == SIGN_IN) & (PortalAttempt.subject == subject)
                & (PortalAttempt.address == ticket.address) & (PortalAttempt.id <= ticket.attempt_id)
            ).execute()
            session_id = start_session(login.customer_id, ticket.address) if session else None
            record_event(login.customer_id, "signed in", ticket.address)
            customer = Customer.get_by_id(login.customer_id)
            return SignedInCustomer(reference=customer.reference, name=customer.name, username=login.username,
                                    session_id=session_id)
        elif login is not None:
            record_event(login.customer_id, "wrong password", ticket.address)
            wait = sign_in_wait(subject, ticket.address, limits, clock.now())
            if wait is not None:
                record_event(login.customer_id, "locked", ticket.address,
                             f"until {(clock.now() + wait):%Y-%m-%d %H:%M} UTC")
    raise InvalidLogin()


def authenticate(username: str, password: str, *, address: str = STORE_ADDRESS,
                 limits: SignInLimits = SignInLimits()) -> SignedInCustomer:
    """Check a username and password under the sign-in limits, starting no session: one
    neutral InvalidLogin for every wrong pair, TooManyAttempts past a limit."""
    return finish_sign_in(begin_sign_in(username, address, limits), password, limits=limits, session=False)


def clear_failures(key: str) -> int:
    """Forget every counted sign-in attempt for the username key, from every address: the
    customer proved who they are (a password set with a link) or an agent unlocked them.
    Call inside that change's transaction."""
    return PortalAttempt.delete().where(
        (PortalAttempt.kind == SIGN_IN) & (PortalAttempt.subject == subject_of(key))).execute()


def end_login_sessions(customer_id: int, key: str | None) -> None:
    """What a new password does to sign-in state: every session ends, the failures go."""
    end_customer_sessions(customer_id, SessionEnd.login_changed)
    if key is not None:
        clear_failures(key)


def signin_status(reference: str, limits: SignInLimits = SignInLimits()) -> SignInStatus:
    """The customer's portal sign-in for the console: last sign-in (when, from where), wrong
    passwords since, until when every address is refused, how many addresses must wait and
    until when, open sessions. A handful of indexed queries: the dashboard reads it with the
    customer."""
    customer = customer_row(reference)
    login = login_of(customer)
    last = (SignInEvent.select(SignInEvent.id, SignInEvent.at, SignInEvent.address)
            .where((SignInEvent.customer == customer.id) & (SignInEvent.event == "signed in"))
            .order_by(SignInEvent.at.desc(), SignInEvent.id.desc()).first())
    wrong = SignInEvent.select().where((SignInEvent.customer == customer.id)
                                       & (SignInEvent.event == "wrong password"))
    if last is not None:
        # By id, not time: events are written in order, and two can share a clock reading.
        wrong = wrong.where(SignInEvent.id > last.id)
    locked_until, waiting, waiting_until = None, 0, None
    if login is not None:
        now, subject = clock.now(), subject_of(login.username_key)
        ceiling = window_wait(SIGN_IN, PortalAttempt.subject == subject, limits.per_username, now)
        locked_until = now + ceiling if ceiling is not None and ceiling > timedelta(0) else None
        addresses = (PortalAttempt.select(PortalAttempt.address).distinct()
                     .where((PortalAttempt.kind == SIGN_IN) & (PortalAttempt.subject == subject)))
        for row in addresses:
            wait, until = _pair_wait(subject, row.address, limits, now)
            if wait is not None:
                waiting += 1
                waiting_until = until if waiting_until is None else max(waiting_until, until)
    return SignInStatus(last_signed_in_at=last.at if last else None, failures_since=wrong.count(),
                        locked_until=locked_until, addresses_waiting=waiting,
                        open_sessions=open_sessions(customer.id),
                        last_signed_in_from=(last.address or None) if last else None,
                        waiting_until=waiting_until)


def unlock(reference: str, *, actor: str) -> int:
    """An agent lets the customer sign in again at once: every counted failure for their
    username goes (from every address). Returns how many; recorded in the activity log."""
    with write():
        customer = customer_row(reference, lock=True)
        login = login_of(customer)
        cleared = clear_failures(login.username_key) if login is not None else 0
        activity.record(customer.id, actor, "sign-in unlocked",
                        f"{cleared} counted attempt{'' if cleared == 1 else 's'} cleared")
        record_event(customer.id, "unlocked", "", f"by {actor}")
        return cleared


def sign_in_history(reference: str, limit: int = 50) -> tuple[SignInRecord, ...]:
    """The customer's sign-in history, newest first: signed in, wrong password, locked,
    signed out, sessions ended, unlocked."""
    return history(customer_row(reference).id, limit)


def prune() -> int:
    """Delete what no limit looks at any more: attempts older than the longest window, ended
    sessions and old history (store.sessions). Runs on every PRUNE_EVERY-th attempt."""
    with write():
        gone = PortalAttempt.delete().where(PortalAttempt.at < clock.now() - KEEP_ATTEMPTS).execute()
        return gone + prune_sessions()

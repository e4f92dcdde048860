"""Portal sessions, kept in the database so that the server can end them: sign out, a password
set or reset, a username changed or deleted, or an agent's "sign out everywhere" ends a
session for every portal process at once, whatever a saved cookie still holds.

The browser's cookie holds the session id (256 random bits); the row keeps only its SHA-256.
A session ends after SESSION_HOURS whatever happens, and after IDLE_MINUTES without a page.
Also the customer's sign-in history (``record_event``), which the console shows.
"""
from __future__ import annotations

from datetime import timedelta

from . import activity, clock
from .db import write
from .models import Customer, PortalLogin, PortalSession, SignInEvent
from .records import customer_row
from .tokens import new_token, token_hash, well_formed
from .portal_values import SessionCheck, SessionEnd, SignInRecord, SignedInCustomer

# The absolute lifetime: a session signed in at 09:00 ends at 17:00, busy or not.
SESSION_HOURS = 8
# The idle lifetime: a session nobody used for this long ends (a forgotten shared computer).
IDLE_MINUTES = 30
# last_seen_at is written at most this often per session, so reading pages costs no write
# each time; the idle lifetime is therefore exact to within this much.
TOUCH_SECONDS = 60
# Ended sessions are kept this long (the console can still count them), then pruned.
KEEP_ENDED = timedelta(days=1)
# The sign-in history is kept this long, then pruned.
HISTORY_DAYS = 90
# How an address is kept: IPv6 text is at most 45 characters.
ADDRESS_CHARS = 64


def record_event(customer_id: int, event: str, address: str, detail: str = "") -> None:
    """One line of the customer's sign-in history; call inside the change's transaction."""
    SignInEvent.create(customer=customer_id, at=clock.now(), event=event, address=address[:ADDRESS_CHARS],
                       detail=detail[:200])


def start_session(customer_id: int, address: str) -> str:
    """A new session for the customer; returns its id for the cookie. Call inside a transaction."""
    session_id = new_token()
    now = clock.now()
    PortalSession.create(customer=customer_id, id_hash=token_hash(session_id), address=address[:ADDRESS_CHARS],
                         created_at=now, last_seen_at=now)
    return session_id


def _end(query_filter, ended: SessionEnd) -> int:
    return PortalSession.update(ended_at=clock.now(), ended_reason=ended.value).where(
        query_filter & PortalSession.ended_at.is_null()).execute()


def end_customer_sessions(customer_id: int, ended: SessionEnd) -> int:
    """End every open session of the customer; call inside the transaction of the change that
    requires it (a password set, a username changed or deleted). Returns how many ended."""
    return _end(PortalSession.customer == customer_id, ended)


def check_session(session_id: object) -> SessionCheck:
    """Who the session id is signed in as now, or why nobody is (ended, idle, expired)."""
    if not isinstance(session_id, str) or not well_formed(session_id):
        return SessionCheck(who=None)
    row = PortalSession.get_or_none(PortalSession.id_hash == token_hash(session_id))
    if row is None:
        return SessionCheck(who=None)
    if row.ended_at is not None:
        return SessionCheck(who=None, ended=SessionEnd(row.ended_reason))
    now = clock.now()
    lapsed = None
    if now >= row.created_at + timedelta(hours=SESSION_HOURS):
        lapsed = SessionEnd.expired
    elif now >= row.last_seen_at + timedelta(minutes=IDLE_MINUTES):
        lapsed = SessionEnd.idle
    if lapsed is not None:
        with write():
            _end(PortalSession.id == row.id, lapsed)
        return SessionCheck(who=None, ended=lapsed)
    login = PortalLogin.get_or_none(PortalLogin.customer == row.customer_id)
    if login is None or login.password_hash is None:  # ended with its login; never left open
        return SessionCheck(who=None, ended=SessionEnd.login_changed)
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        with write():
            PortalSession.update(last_seen_at=now).where(
                (PortalSession.id == row.id) & PortalSession.ended_at.is_null()).execute()
    customer = Customer.get_by_id(row.customer_id)
    return SessionCheck(who=SignedInCustomer(reference=customer.reference, name=customer.name,
                                             username=login.username))


def sign_out(session_id: object, address: str) -> bool:
    """The customer signed out: the session ends for good (a saved copy of the cookie no
    longer signs in). True when an open session ended."""
    if not isinstance(session_id, str) or not well_formed(session_id):
        return False
    with write():
        row = PortalSession.get_or_none(PortalSession.id_hash == token_hash(session_id))
        if row is None or not _end(PortalSession.id == row.id, SessionEnd.signed_out):
            return False
        record_event(row.customer_id, "signed out", address)
        return True


def end_sessions(reference: str, *, actor: str) -> int:
    """"Sign out everywhere": end every open session of the customer; returns how many ended.
    Recorded in the activity log and the sign-in history."""
    with write():
        customer = customer_row(reference, lock=True)
        ended = end_customer_sessions(customer.id, SessionEnd.ended_by_agent)
        activity.record(customer.id, actor, "signed out everywhere",
                        f"{ended} portal session{'' if ended == 1 else 's'} ended")
        record_event(customer.id, "sessions ended", "", f"{ended} by {actor}")
        return ended


def open_sessions(customer_id: int) -> int:
    """How many sessions of the customer still sign in (not ended, not lapsed)."""
    now = clock.now()
    return PortalSession.select().where(
        (PortalSession.customer == customer_id) & PortalSession.ended_at.is_null()
        & (PortalSession.created_at > now - timedelta(hours=SESSION_HOURS))
        & (PortalSession.last_seen_at > now - timedelta(minutes=IDLE_MINUTES))
    ).count()


def history(customer_id: int, limit: int) -> tuple[SignInRecord, ...]:
    """The customer's sign-in history, newest first."""
    rows = (SignInEvent.select().where(SignInEvent.customer == customer_id)
            .order_by(SignInEvent.at.desc(), SignInEvent.id.desc()).limit(limit))
    return tuple(SignInRecord(at=r.at, event=r.event, address=r.address, detail=r.detail) for r in rows)


def prune_sessions() -> int:
    """Delete sessions ended (or lapsed) more than KEEP_ENDED ago and history older than
    HISTORY_DAYS; returns the rows deleted. Called now and then by store.signin.prune."""
    now = clock.now()
    gone = PortalSession.delete().where(
        (PortalSession.ended_at < now - KEEP_ENDED)
        | (PortalSession.created_at < now - timedelta(hours=SESSION_HOURS) - KEEP_ENDED)
        | (PortalSession.last_seen_at < now - timedelta(minutes=IDLE_MINUTES) - KEEP_ENDED)
    ).execute()
    gone += SignInEvent.delete().where(SignInEvent.at < now - timedelta(days=HISTORY_DAYS)).execute()
    return gone

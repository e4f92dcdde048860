"""Plain, frozen values of the customer's side of the portal: links and their life, sessions,
sign-ins, and the emails the customer gets. The portal, the mailer and the PORTAL panel get
these; the console's search never needs them, so they are not on its way to its first frame."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from .errors import ActionNotAllowed
from .values import EmailKind, LinkPurpose, OutboxStatus, ago, span


@dataclass(frozen=True)
class SignedInCustomer:
    reference: str
    name: str
    username: str
    # The new portal session's id when the call started one: the browser's cookie holds it,
    # the database only its hash. Never shown.
    session_id: str | None = field(default=None, repr=False)


class SessionEnd(str, Enum):
    """Why a portal session is no longer signed in."""

    signed_out = "signed out"
    login_changed = "login changed"  # password set, username changed or deleted
    ended_by_agent = "ended by agent"  # "sign out everywhere"
    idle = "idle"
    expired = "expired"


@dataclass(frozen=True)
class SessionCheck:
    """What a session cookie's id stands for now: who is signed in, or why nobody is."""

    who: SignedInCustomer | None
    ended: SessionEnd | None = None


@dataclass(frozen=True)
class SignInStatus:
    """A customer's portal sign-in, for the console: when they last signed in, the wrong
    passwords since, and until when sign-in is refused."""

    last_signed_in_at: datetime | None
    failures_since: int
    # Until when every address is refused (the per-username ceiling), else None.
    locked_until: datetime | None
    # How many addresses must wait now (too many wrong passwords from each).
    addresses_waiting: int
    open_sessions: int
    # Where the last sign-in came from (the client's address), when there was one.
    last_signed_in_from: str | None = None
    # Until when the last of the waiting addresses must wait, else None.
    waiting_until: datetime | None = None

    def blocked_until(self, now: datetime) -> datetime | None:
        """Until when the portal's limits refuse this customer (every address, or at least one),
        or None when nothing refuses them at ``now``."""
        found = [t for t in (self.locked_until, self.waiting_until) if t is not None and t > now]
        return max(found) if found else None

    def lock_text(self, now: datetime) -> str | None:
        """"Locked until 09:05 UTC" and by what, or None when nothing refuses the customer at ``now``."""
        until = self.blocked_until(now)
        if until is None:
            return None
        if self.locked_until is not None and self.locked_until > now:
            why = "every address, too many wrong passwords"
        else:
            count = self.addresses_waiting
            why = f"{count} address{'es' if count != 1 else ''}, too many wrong passwords"
        return f"Locked until {until:%H:%M} UTC: {why}"

    def unlock_refusal(self, now: datetime) -> ActionNotAllowed | None:
        """Why Unlock does not apply at ``now`` (nothing refuses the customer), else None."""
        if self.blocked_until(now) is None:
            return ActionNotAllowed("Nothing to unlock: the portal refuses no sign-in of this customer now.")
        return None

    @property
    def sign_out_refusal(self) -> ActionNotAllowed | None:
        """Why Sign out everywhere does not apply (no session open), else None."""
        if self.open_sessions == 0:
            return ActionNotAllowed("Nothing to sign out: this customer has no open portal session.")
        return None

    def sign_in_text(self, now: datetime) -> str:
        """Last sign-in and the wrong passwords since, in words."""
        if self.last_signed_in_at is None:
            text = "Never signed in"
        else:
            where = f" from {self.last_signed_in_from}" if self.last_signed_in_from else ""
            text = f"Last signed in {ago(self.last_signed_in_at, now)}{where}"
        if self.failures_since:
            text += f", {self.failures_since} wrong password{'s' if self.failures_since != 1 else ''} since"
        if self.open_sessions:
            text += f", {self.open_sessions} open session{'s' if self.open_sessions != 1 else ''}"
        return text


class LinkPhase(str, Enum):
    """Where a setup or reset link stands in its life, seen from the customer's side."""

    queued = "queued"  # its email waits in the outbox
    failed = "failed"  # its email could not be delivered
    sent = "sent"  # delivered, not opened yet
    opened = "opened"  # opened (the form given), no password set with it yet
    used = "used"  # a password was set with it
    expired = "expired"  # never opened, past its expiry
    replaced = "replaced"  # a newer link of its kind was sent
    revoked = "revoked"  # stopped by a change: a new username, a new address, ...


@dataclass(frozen=True)
class LinkStatus:
    """The newest setup or reset link of a customer and its email: what happened to it."""

    purpose: LinkPurpose
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    # Its email: status, when it was delivered, to whom, and why not (None when there is none).
    email_status: OutboxStatus | None
    sent_at: datetime | None
    to: tuple[str, ...]
    email_error: str | None
    refused: tuple[str, ...]
    # How long an opened link's form stays open (store.links.GRANT_MINUTES).
    form_minutes: int
    # When the account uses links up on open (the default), used_at is when it was opened.
    used_on_open: bool

    def phase(self, now: datetime) -> LinkPhase:
        """The link's phase at ``now``; a pure function of the values."""
        if self.revoked_reason == PASSWORD_SET_REASON and self.used_at is not None:
            return LinkPhase.used
        if self.used_at is not None and self.revoked_at is None:
            return LinkPhase.opened
        if self.email_status is OutboxStatus.failed:
            return LinkPhase.failed
        if self.revoked_at is not None:
            reason = self.revoked_reason or ""
            return LinkPhase.replaced if reason.startswith("replaced") else LinkPhase.revoked
        if self.expires_at <= now:
            return LinkPhase.expired
        if self.email_status in (OutboxStatus.queued, OutboxStatus.sending):
            return LinkPhase.queued
        return LinkPhase.sent

    @property
    def recipients_text(self) -> str:
        if len(self.to) == 1:
            return self.to[0]
        return f"{len(self.to)} addresses"

    def text(self, now: datetime) -> str:
        """The link's life in one line: "Setup link sent 2 h ago to 2 addresses, not opened
        yet, expires in 70 h"."""
        name = f"{self.purpose.value.capitalize()} link"
        phase = self.phase(now)
        if phase is LinkPhase.queued:
            return (f"{name} queued {ago(self.created_at, now)} for {self.recipients_text}, "
                    f"not sent yet, expires in {span(self.expires_at - now)}")
        if phase is LinkPhase.failed:
            return f"{name} not delivered to {self.recipients_text}: {self.email_error or 'the email failed'}"
        sent = f"{name} sent {ago(self.sent_at or self.created_at, now)} to {self.recipients_text}"
        if self.refused:
            sent += f" ({len(self.refused)} refused: {', '.join(self.refused)})"
        if phase is LinkPhase.used:
            return f"{sent}, used {ago(self.revoked_at or self.used_at, now)}: password set"
        if phase is LinkPhase.opened:
            opened = "opened" if self.used_on_open else "used"
            closes = self.used_at + timedelta(minutes=self.form_minutes)
            if closes > now:
                return f"{sent}, {opened} {ago(self.used_at, now)}, no password set yet"
            return f"{sent}, {opened} {ago(self.used_at, now)}, closed without a password set"
        if phase is LinkPhase.expired:
            return f"{sent}, never opened, expired {ago(self.expires_at, now)}"
        if phase is LinkPhase.replaced:
            return f"{sent}, replaced by a newer link {ago(self.revoked_at, now)}"
        if phase is LinkPhase.revoked:
            return f"{sent}, stopped {ago(self.revoked_at, now)}: {self.revoked_reason or 'revoked'}"
        return f"{sent}, not opened yet, expires in {span(self.expires_at - now)}"


# Why a link stops when a password is set (store/credentials.py): on the link that set it, "used".
PASSWORD_SET_REASON = "password set"


@dataclass(frozen=True)
class CustomerSide:
    """What happened on the customer's side, for the PORTAL panel: the newest link and sign-in."""

    link: LinkStatus | None
    signin: SignInStatus
    # When it was read: the panel's words are derived from these values and the clock.
    read_at: datetime

    def link_text(self, now: datetime) -> str:
        return self.link.text(now) if self.link is not None else "No setup or reset link sent yet"


@dataclass(frozen=True)
class RenderedEmail:
    """An email's words: one-line subject, plain text, HTML."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class EmailPreview:
    """The email PORTAL's one action would send now, exactly as the customer would get it,
    with a placeholder where the link goes (its token is made only as the email is sent)."""

    reference: str
    kind: EmailKind
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    link_placeholder: str
    expires_at: datetime


@dataclass(frozen=True)
class SignInRecord:
    """One line of a customer's sign-in history."""

    at: datetime
    # signed in, wrong password, locked, signed out, sessions ended, unlocked; in the console's
    # history also link opened, link used and password set (store/customer_side.py)
    event: str
    address: str
    detail: str

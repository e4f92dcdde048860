"""Plain, frozen values the service layer returns. Widgets and views get these,
never Peewee models.

Here: the portal states and email kinds every part names, and what search returns. The
rest lies by who reads it, so the console's first frame (a search) imports only this:
customer_values.py (one customer: details, PORTAL view, emails, activity, links, settings),
portal_values.py (the customer's side), overview_values.py (on-call) and bulk_values.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum



class PortalState(str, Enum):
    """A customer's portal login state; derived from the data, never stored."""

    not_set_up = "not_set_up"
    awaiting_customer = "awaiting_customer"
    active = "active"
    # Stopped by an agent (rule 16): the username and password are kept, the portal refuses them.
    suspended = "suspended"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    PortalState.not_set_up: "Not set up",
    PortalState.awaiting_customer: "Awaiting customer setup",
    PortalState.active: "Active",
    PortalState.suspended: "Suspended",
}
# Why a suspended customer is sent no email, in the panel, the CLI and the activity log.
SUSPENDED_NO_EMAIL = "portal access is suspended; Resume it first"


class EmailKind(str, Enum):
    """The two portal email types of the source document."""

    credential_create = "credential_create"
    password_reset = "password_reset"

    @property
    def action_label(self) -> str:
        """The PORTAL button text, as the source document names it."""
        return _ACTION_LABELS[self]

    @property
    def type_name(self) -> str:
        """The email type's name under Settings > Email Notifications."""
        return _TYPE_NAMES[self]


_ACTION_LABELS = {
    EmailKind.credential_create: "Send Create Credentials Email",
    EmailKind.password_reset: "Send Reset Password Email",
}
_TYPE_NAMES = {
    EmailKind.credential_create: "Customer Credential Create",
    EmailKind.password_reset: "Customer Credential Password Reset",
}


class LinkPurpose(str, Enum):
    setup = "setup"  # from the Credential Create email
    reset = "reset"  # from the Password Reset email


class OutboxStatus(str, Enum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


@dataclass(frozen=True)
class CustomerSummary:
    """One row of the search results."""

    reference: str
    name: str
    company: str
    primary_email: str
    username: str | None
    state: PortalState


class CustomerOrder(str, Enum):
    """How search results are sorted (each breaks ties by the customer's id, so pages don't overlap)."""

    name = "name"
    reference = "reference"
    company = "company"


@dataclass(frozen=True)
class SearchCursor:
    """Where a page of search results ended: its rank tier, sort key and customer id.
    Only meaningful for the same words, state filter and order."""

    tier: int
    key: str
    customer_id: int


@dataclass(frozen=True)
class SearchPage:
    customers: tuple[CustomerSummary, ...]
    offset: int
    has_more: bool
    # Pass as ``after`` for the next page (None on the last). A page may hold fewer rows than
    # asked for and still have more: the store reads a bounded stretch of customers a call.
    next_after: SearchCursor | None = None
    # The cursor this page was asked for (None: the first page).
    after: SearchCursor | None = None
    # The query's words as the store matched them (folded: no case, no accents), for highlighting.
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchCount:
    """How many customers a search matches: exact, or at least ``count`` when ``more``."""

    count: int
    more: bool

    @property
    def text(self) -> str:
        noun = "customer" if self.count == 1 and not self.more else "customers"
        return f"{self.count:,}{'+' if self.more else ''} {noun}"


class LinkUse(str, Enum):
    """When a one-time link is used up."""

    # When it is opened: the source document's rule (clicked again, it leads to the login page).
    open = "open"
    # When its form is sent: for customers whose mail filters open links before they do.
    submit = "submit"


def span(delta: timedelta) -> str:
    """A length of time as people say it on a dashboard: 40 s, 5 min, 1 h 59 min, 70 h, 5 d.
    Minutes beside hours under 10 h, so a reset link of 2 hours sent a moment ago doesn't read
    "expires in 1 h"; from 10 h, hours to the nearest (a 72-hour setup link just sent reads
    72 h, not 71 h) and up to 99, so it reads as hours; below, rounded down."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 10 * 3600 and seconds % 3600 >= 60:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds < 100 * 3600:
        return f"{(seconds + 1800) // 3600} h"
    return f"{seconds // 86400} d"


def ago(moment: datetime, now: datetime) -> str:
    """'just now', '5 min ago', '2 h ago'."""
    return "just now" if now - moment < timedelta(minutes=1) else f"{span(now - moment)} ago"

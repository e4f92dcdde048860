"""Plain, frozen values the service layer returns. Widgets and views get these,
never Peewee models."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from .errors import ActionNotAllowed, InvalidUsername, NoPrimaryEmail, PortalError
from .usernames import clean_username


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
class PortalView:
    """Everything the PORTAL panel shows; every label and button derives from it."""

    reference: str
    version: int
    state: PortalState
    username: str | None
    password_set_at: datetime | None
    email_action: EmailKind
    addresses: tuple[str, ...]
    # Why the email action can't be used (no or invalid Primary Email Address), else None.
    email_blocked_reason: str | None
    email_type_enabled: bool
    # When the portal access was suspended (rule 16), else None; and why, as the agent said.
    suspended_at: datetime | None = None
    suspended_reason: str | None = None

    @property
    def state_text(self) -> str:
        if self.state is PortalState.active and self.password_set_at is not None:
            return f"Active since {self.password_set_at:%Y-%m-%d}"
        if self.state is PortalState.suspended and self.suspended_at is not None:
            why = f": {self.suspended_reason}" if self.suspended_reason else ""
            return f"Suspended since {self.suspended_at:%Y-%m-%d}{why}"
        return self.state.label

    @property
    def email_action_label(self) -> str:
        """The PORTAL button text; while suspended there is no email action."""
        if self.state is PortalState.suspended:
            return "No email while suspended"
        return self.email_action.action_label

    @property
    def can_send(self) -> bool:
        return self.email_blocked_reason is None

    @property
    def can_delete(self) -> bool:
        return self.username is not None

    @property
    def send_refusal(self) -> PortalError | None:
        """Why the one email action is refused now (suspended, or no valid Primary Email
        Address), else None."""
        if self.state is PortalState.suspended:
            return ActionNotAllowed(f"No email can be sent: {SUSPENDED_NO_EMAIL}.")
        if self.email_blocked_reason is None:
            return None
        return NoPrimaryEmail(f"No email can be sent: {self.email_blocked_reason}")

    @property
    def suspend_refusal(self) -> ActionNotAllowed | None:
        """Why Suspend is refused now (nothing to suspend, or already suspended), else None."""
        if self.username is None:
            return ActionNotAllowed("Nothing to suspend: this customer has no portal username.")
        if self.state is PortalState.suspended:
            return ActionNotAllowed(f"Portal access is already suspended ({self.state_text}).")
        return None

    @property
    def resume_refusal(self) -> ActionNotAllowed | None:
        """Why Resume is refused now (the portal access is not suspended), else None."""
        if self.state is PortalState.suspended:
            return None
        return ActionNotAllowed(f"Nothing to resume: portal access is not suspended ({self.state_text}).")

    @property
    def delete_refusal(self) -> ActionNotAllowed | None:
        """Why Delete is refused now (there is no username), else None."""
        return None if self.can_delete else ActionNotAllowed("This customer has no portal username to delete.")

    def update_changes_nothing(self, typed: str) -> bool:
        """True when Update with ``typed`` would leave the username exactly as stored: the same
        comparison the store makes (after NFKC and trimming; a change of case is a change)."""
        try:
            return self.username is not None and clean_username(typed) == self.username
        except InvalidUsername:
            return False

    @property
    def email_type_note(self) -> str | None:
        """Said when the email type is off in Settings: an explicit send still goes out."""
        if self.email_type_enabled:
            return None
        return (
            f"{self.email_action.type_name} emails are switched off in Settings; "
            "sending from here still goes out."
        )

    def username_edit_conflict(self, stored: PortalView) -> str | None:
        """Why an edit of the username begun on this view can no longer be saved now that
        ``stored`` is what the database holds, in words for beside the field; None when what
        the edit was based on (the username and the state) is unchanged, so the edit stands."""
        if stored.username != self.username:
            now = repr(stored.username) if stored.username else "nothing (deleted)"
            return (f"The stored username changed to {now} while you were typing; "
                    "Update will be refused. Esc shows the stored one.")
        if stored.state is not self.state:
            return (f"The portal state changed to {stored.state.label} while you were typing; "
                    "Update will be refused. Esc shows the stored one.")
        return None

    @property
    def delete_consequence(self) -> str:
        """What Delete does, in words, for the confirmation."""
        if self.state is PortalState.suspended:
            return (
                f"Delete the username {self.username!r}? Its password and the suspension go too; "
                "the customer is then Not set up, and the action becomes Send Create Credentials Email."
            )
        if self.state is PortalState.active:
            return (
                f"Delete the username {self.username!r}? The customer's password is removed too, "
                "their portal access stops, and the action becomes Send Create Credentials Email."
            )
        return (
            f"Delete the username {self.username!r}? The customer has not set a password yet; "
            "their open setup links stop working."
        )


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


@dataclass(frozen=True)
class CustomerDetail:
    reference: str
    name: str
    company: str
    primary_email: str
    addresses: tuple[str, ...]
    # Why the Primary Email Address field can't be used for email, else None.
    address_problem: str | None
    created_at: datetime
    version: int
    portal: PortalView


# The customer's details an agent edits, by the field names the store's errors use.
EDITABLE_DETAILS = ("name", "company", "primary_email")


def details_changed_since(base: CustomerDetail, stored: CustomerDetail) -> dict[str, str]:
    """The edited details (name, company, primary_email) that ``stored`` holds differently from
    ``base``, the values an open edit began from: each is a reason that edit can't be saved.
    Other changes (the username, an email sent) leave the edit's basis alone."""
    return {field: getattr(stored, field) for field in EDITABLE_DETAILS
            if getattr(stored, field) != getattr(base, field)}


@dataclass(frozen=True)
class CustomerUpdate:
    """What an edit of the customer did: the customer as saved, the fields that changed
    (name, company, primary_email) and how many open links a new address revoked."""

    detail: CustomerDetail
    changed: tuple[str, ...]
    links_revoked: int

    @property
    def links_revoked_text(self) -> str:
        """The revoked links counted in words: '1 open link', '2 open links'."""
        return f"{self.links_revoked} open link{'s' if self.links_revoked != 1 else ''}"


@dataclass(frozen=True)
class NewCustomer:
    """What adding a customer did: the reference and whether an email was queued."""

    reference: str
    credential_create_queued: bool
    # Why the automatic email was not queued (switch off, no valid address), else None.
    not_queued_reason: str | None
    # Where the Credential Create email goes, when it was queued.
    queued_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueuedEmail:
    """An email the service layer put in the outbox."""

    outbox_id: int
    kind: EmailKind
    to: tuple[str, ...]
    link_expires_at: datetime


class LinkUse(str, Enum):
    """When a one-time link is used up."""

    # When it is opened: the source document's rule (clicked again, it leads to the login page).
    open = "open"
    # When its form is sent: for customers whose mail filters open links before they do.
    submit = "submit"


@dataclass(frozen=True)
class AccountSettings:
    portal_url: str
    credential_create_email: bool
    password_reset_email: bool
    setup_link_hours: int
    reset_link_hours: int
    sender_name: str
    sender_address: str
    link_use: LinkUse

    @property
    def sender(self) -> str:
        return f"{self.sender_name} <{self.sender_address}>"


@dataclass(frozen=True)
class OutboxEmail:
    id: int
    customer_reference: str
    customer_name: str
    kind: EmailKind
    to: tuple[str, ...]
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    refused: tuple[str, ...]
    queued_by: str

    @property
    def can_retry(self) -> bool:
        """Whether this email may be offered for sending again: only a failed email can be.
        retry_email still refuses one that was overtaken since, or that no longer fits."""
        return self.status is OutboxStatus.failed


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    at: datetime
    actor: str
    action: str
    detail: str
    old_value: str | None
    new_value: str | None
    customer_reference: str | None


@dataclass(frozen=True)
class LinkGrant:
    """A setup or reset link that was opened: what the portal's form may do next.

    ``consumed`` is False only when the account uses links on submit; then the
    link is used up when the form is sent.
    """

    link_id: int
    customer_reference: str
    purpose: LinkPurpose
    username: str | None
    opened_at: datetime
    consumed: bool

    @property
    def asks_username(self) -> bool:
        """The form asks for a username on a setup link, or on a reset link of a login without
        one; a reset otherwise keeps the username (as complete_link does)."""
        return self.purpose is LinkPurpose.setup or self.username is None


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


# On-call at a glance (store/overview.py), bulk sends (store/bulk.py) and imports (store/importer.py).


@dataclass(frozen=True)
class StateCount:
    """How many customers are in one portal state."""

    state: PortalState
    count: int


@dataclass(frozen=True)
class OutboxHealth:
    """How the outbox stands: what waits, what failed lately, and what was delivered."""

    queued: int
    sending: int
    # Emails whose delivery failed (refused for good, out of tries) in the last 24 hours.
    failed_last_day: int
    oldest_queued_at: datetime | None
    # Emails delivered in each minute of the last hour, oldest minute first (60 values).
    sent_per_minute: tuple[int, ...]
    read_at: datetime

    @property
    def oldest_queued_age(self) -> timedelta | None:
        return None if self.oldest_queued_at is None else max(timedelta(0), self.read_at - self.oldest_queued_at)

    @property
    def sent_last_hour(self) -> int:
        return sum(self.sent_per_minute)

    @property
    def waiting(self) -> int:
        """Emails not yet delivered nor given up: queued or being sent."""
        return self.queued + self.sending


@dataclass(frozen=True)
class MailerBeat:
    """A dispatcher's last heartbeat: a console's thread or a `portal-console mailer` process."""

    name: str
    host: str
    pid: int
    role: str  # "console" or "mailer"
    started_at: datetime
    last_pass_at: datetime
    sent: int  # since it started
    failed: int


@dataclass(frozen=True)
class SignInFigures:
    """The portal's sign-ins: per hour over the last 24 hours (oldest hour first), and how many
    usernames are locked out now (at the per-username ceiling: every address refused)."""

    signed_in_per_hour: tuple[int, ...]
    failed_per_hour: tuple[int, ...]
    locked_out_now: int

    @property
    def signed_in_last_hour(self) -> int:
        return self.signed_in_per_hour[-1] if self.signed_in_per_hour else 0

    @property
    def failed_last_hour(self) -> int:
        return self.failed_per_hour[-1] if self.failed_per_hour else 0


class Trouble(str, Enum):
    """A kind of trouble on-call staff are paged for; each has its own exit status in
    `portal-console status` (0 means none), the most serious first."""

    database_unreachable = "database_unreachable"
    no_mailer = "no_mailer"
    failures = "failures"

    @property
    def exit_status(self) -> int:
        return _TROUBLE_EXIT[self]


_TROUBLE_EXIT = {Trouble.database_unreachable: 3, Trouble.no_mailer: 4, Trouble.failures: 5}


@dataclass(frozen=True)
class HealthProblem:
    trouble: Trouble
    text: str  # what is wrong and the usual cause, in words


@dataclass(frozen=True)
class Health:
    """The verdict: healthy, or each problem found (most serious first)."""

    problems: tuple[HealthProblem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_status(self) -> int:
        return min((p.trouble.exit_status for p in self.problems), default=0)


@dataclass(frozen=True)
class Overview:
    """Everything the overview screen and `portal-console status` show, read together."""

    database: str
    states: tuple[StateCount, ...]
    outbox: OutboxHealth
    mailers: tuple[MailerBeat, ...]
    signins: SignInFigures
    health: Health
    read_at: datetime

    @property
    def customers(self) -> int:
        return sum(s.count for s in self.states)


class BulkSkip(str, Enum):
    """Why a bulk send leaves a customer out."""

    no_valid_address = "no_valid_address"
    recent_link = "recent_link"
    suspended = "suspended"  # rule 16: no email while the portal access is suspended

    def text(self, recent_hours: int) -> str:
        if self is BulkSkip.no_valid_address:
            return "no valid Primary Email Address"
        if self is BulkSkip.suspended:
            return "portal access suspended"
        return f"a link sent in the last {recent_hours} h is still unused"


@dataclass(frozen=True)
class BulkSend:
    """What a bulk send did (or, as a dry run, would do): emails by kind, skips by reason."""

    matching: int
    queued: tuple[tuple[EmailKind, int], ...]
    skipped: tuple[tuple[BulkSkip, int], ...]
    recent_hours: int
    dry_run: bool = False
    # Stopped before every matching customer was looked at; what was queued stays queued.
    cancelled: bool = False

    @property
    def queued_total(self) -> int:
        return sum(n for _, n in self.queued)

    @property
    def skipped_total(self) -> int:
        return sum(n for _, n in self.skipped)

    @property
    def looked_at(self) -> int:
        """How many customers were looked at: each was queued or skipped (fewer than
        ``matching`` when the send was cancelled)."""
        return self.queued_total + self.skipped_total

    @property
    def summary(self) -> str:
        """One line: how many get which email, how many are skipped and why."""
        verb = "would be queued" if self.dry_run else "queued"
        kinds = ", ".join(f"{n:,} {kind.type_name}" for kind, n in self.queued if n) or "no email"
        line = f"{self.matching:,} matching: {kinds} {verb}"
        skips = "; ".join(f"{n:,} {reason.text(self.recent_hours)}" for reason, n in self.skipped if n)
        if skips:
            line += f"; skipped: {skips}"
        if self.cancelled:
            line += " (cancelled: the rest were not looked at)"
        return line + "."


@dataclass(frozen=True)
class RefusedRow:
    """A line of an import file that was not imported, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What importing a customer file did (or, as a dry run, would do)."""

    rows: int
    imported: int
    refused: tuple[RefusedRow, ...]
    dry_run: bool = False

"""Plain, frozen values of one customer and what hangs off them: details and their edits, the
PORTAL view (every label and button of the panel derives from it), the emails queued and
the activity, the links sent; and the account settings that shape those emails."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import ActionNotAllowed, InvalidUsername, NoPrimaryEmail, PortalError
from .usernames import clean_username
from .values import SUSPENDED_NO_EMAIL, EmailKind, LinkPurpose, LinkUse, OutboxStatus, PortalState


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

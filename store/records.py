"""The customer records every use case starts from: the customer row (found whatever the
case of its reference), its version claim (rule 9), its portal login and the state derived
from it, and the PORTAL view of it. The bottom of the store: it imports no use case."""
from __future__ import annotations

from peewee import fn

from . import clock
from .addresses import parse_primary_email
from .customer_values import PortalView
from .db import is_postgres
from .errors import CustomerNotFound, StaleEdit
from .models import ActivityEvent, Customer, PortalLogin
from .settings import get_settings
from .values import EmailKind, PortalState, SUSPENDED_NO_EMAIL

# The one email action each state offers (the lifecycle table of docs/design.md); a suspended
# customer is offered none (rule 16), so a path that forgets to ask fails rather than sends.
ACTION_OF_STATE = {
    PortalState.not_set_up: EmailKind.credential_create,
    PortalState.awaiting_customer: EmailKind.credential_create,
    PortalState.active: EmailKind.password_reset,
}


def customer_row(reference: str, *, lock: bool = False) -> Customer:
    """The customer with this reference, whatever its case (row-locked on PostgreSQL when ``lock``).

    Agents type c000002 as often as C000002; the exact spelling wins where two references
    differ only in case (the customer_reference_lower index keeps this one probe).
    """
    text = (reference or "").strip()
    query = (Customer.select().where(fn.LOWER(Customer.reference) == text.lower())
             .order_by(Customer.reference != text, Customer.id))
    if lock and is_postgres():
        query = query.for_update()
    row = query.first() if text else None
    if row is None:
        raise CustomerNotFound(f"There is no customer with reference {reference!r}.")
    return row


def bump_version(customer: Customer, expected_version: int | None) -> None:
    """Claim the customer for a change: refused with StaleEdit when someone changed it first.

    Runs first in every write transaction: on PostgreSQL the UPDATE holds the row
    lock until commit, so a concurrent writer waits and then sees the new version.
    """
    query = Customer.update(version=Customer.version + 1, updated_at=clock.now()).where(
        Customer.id == customer.id
    )
    if expected_version is not None:
        query = query.where(Customer.version == expected_version)
    if query.execute() != 1:
        raise StaleEdit()
    customer.version = (expected_version or customer.version) + 1


# The activity log's word for a suspension: its detail is the reason the agent gave.
SUSPENDED_ACTION = "portal suspended"
RESUMED_ACTION = "portal resumed"


def state_of(login: PortalLogin | None) -> PortalState:
    """The portal state, derived from the login row (never stored): a suspended login is
    Suspended whether or not its password is set (rule 16)."""
    if login is not None and login.suspended_at is not None:
        return PortalState.suspended
    return state_without_suspension(login)


def state_without_suspension(login: PortalLogin | None) -> PortalState:
    """The state the login is in apart from a suspension: what Resume returns it to."""
    if login is None:
        return PortalState.not_set_up
    if login.password_hash is None:
        return PortalState.awaiting_customer
    return PortalState.active


def suspension_reason(customer: Customer) -> str | None:
    """The reason the agent gave for the customer's newest suspension ("" or None: none given)."""
    event = (ActivityEvent.select(ActivityEvent.detail)
             .where((ActivityEvent.customer == customer.id) & (ActivityEvent.action == SUSPENDED_ACTION))
             .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc()).first())
    return (event.detail or None) if event is not None else None


def login_of(customer: Customer) -> PortalLogin | None:
    return PortalLogin.get_or_none(PortalLogin.customer == customer.id)


def portal_view_of(customer: Customer) -> PortalView:
    """The PORTAL panel's whole state for a customer row."""
    login = login_of(customer)
    state = state_of(login)
    suspended = state is PortalState.suspended
    # While suspended: the action Resume would bring back, which the view refuses (rule 16).
    action = ACTION_OF_STATE[state_without_suspension(login)]
    parsed = parse_primary_email(customer.primary_email)
    settings = get_settings()
    enabled = settings.credential_create_email if action is EmailKind.credential_create else settings.password_reset_email
    return PortalView(
        reference=customer.reference, version=customer.version, state=state,
        username=login.username if login else None,
        password_set_at=login.password_set_at if login else None,
        email_action=action, addresses=parsed.addresses,
        email_blocked_reason=SUSPENDED_NO_EMAIL if suspended else parsed.problem, email_type_enabled=enabled,
        suspended_at=login.suspended_at if suspended else None,
        suspended_reason=suspension_reason(customer) if suspended else None,
    )


def portal_view(reference: str) -> PortalView:
    """The PORTAL panel's whole state for a customer."""
    return portal_view_of(customer_row(reference))

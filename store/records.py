"""The customer records every use case starts from: the customer row (found whatever the
case of its reference), its version claim (rule 9), its portal login and the state derived
from it, and the PORTAL view of it. The bottom of the store: it imports no use case."""
from __future__ import annotations

from peewee import fn

from . import clock
from .addresses import parse_primary_email
from .db import is_postgres
from .errors import CustomerNotFound, StaleEdit
from .models import Customer, PortalLogin
from .settings import get_settings
from .values import EmailKind, PortalState, PortalView

# The one email action each state offers (the lifecycle table of docs/design.md).
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


def state_of(login: PortalLogin | None) -> PortalState:
    """The portal state, derived from the login row (never stored)."""
    if login is None:
        return PortalState.not_set_up
    if login.password_hash is None:
        return PortalState.awaiting_customer
    return PortalState.active


def login_of(customer: Customer) -> PortalLogin | None:
    return PortalLogin.get_or_none(PortalLogin.customer == customer.id)


def portal_view_of(customer: Customer) -> PortalView:
    """The PORTAL panel's whole state for a customer row."""
    login = login_of(customer)
    state = state_of(login)
    action = ACTION_OF_STATE[state]
    parsed = parse_primary_email(customer.primary_email)
    settings = get_settings()
    enabled = settings.credential_create_email if action is EmailKind.credential_create else settings.password_reset_email
    return PortalView(
        reference=customer.reference, version=customer.version, state=state,
        username=login.username if login else None,
        password_set_at=login.password_set_at if login else None,
        email_action=action, addresses=parsed.addresses,
        email_blocked_reason=parsed.problem, email_type_enabled=enabled,
    )


def portal_view(reference: str) -> PortalView:
    """The PORTAL panel's whole state for a customer."""
    return portal_view_of(customer_row(reference))

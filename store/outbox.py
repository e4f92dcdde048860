"""Rule 10, the agent's side of the outbox: rows are written with the change that caused
them (store/links.py queue_portal_email); here they are listed and queued again after a
failure. The dispatcher's side (claims, leases, outcomes) is store/dispatch.py."""
from __future__ import annotations

import json

from . import activity, clock
from .addresses import parse_primary_email
from .customer_values import OutboxEmail
from .db import write
from .dispatch import locked_rows
from .errors import ActionNotAllowed, NoPrimaryEmail, OutboxEmailNotFound
from .links import mint_link
from .models import Customer, OutboxEmail as OutboxRow
from .records import customer_row, portal_view_of
from .values import EmailKind, OutboxStatus, PortalState, SUSPENDED_NO_EMAIL


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
    """One email of the outbox, or OutboxEmailNotFound."""
    row = OutboxRow.select(OutboxRow, Customer).join(Customer).where(OutboxRow.id == outbox_id).first()
    if row is None:
        raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
    return _value(row)


def retry_email(outbox_id: int, *, actor: str) -> OutboxEmail:
    """Queue a failed email again, with a fresh link (the old one was revoked or may have
    expired), to the addresses the Primary Email Address field holds now: the billing
    contact may have changed since the email failed."""

    with write():
        row = OutboxRow.get_or_none(OutboxRow.id == outbox_id)
        if row is None:
            raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
        customer = customer_row(row.customer.reference, lock=True)
        # Read again under the customer's lock: of two retries at once, one sees it failed.
        row = locked_rows(OutboxRow.select().where(OutboxRow.id == outbox_id), skip=False).get()
        if row.status != OutboxStatus.failed.value:
            raise ActionNotAllowed(f"Email {outbox_id} is {row.status}; only a failed email can be sent again.")
        parsed = parse_primary_email(customer.primary_email)
        if parsed.problem is not None:
            raise NoPrimaryEmail(f"Email {outbox_id} can't be sent again: {parsed.problem}")
        _refuse_overtaken_retry(row, customer)
        link, url = mint_link(customer.id, EmailKind(row.kind))
        changed = OutboxRow.update(
            status=OutboxStatus.queued.value, attempts=0, next_attempt_at=clock.now(), claimed_by=None,
            claimed_at=None, link=link.id, link_url=url, link_expires_at=link.expires_at,
            refused_addresses="[]", to_addresses=json.dumps(list(parsed.addresses)), customer_name=customer.name,
        ).where((OutboxRow.id == row.id) & (OutboxRow.status == OutboxStatus.failed.value)).execute()
        if changed != 1:
            raise ActionNotAllowed(f"Email {outbox_id} was queued again by someone else just now.")
        activity.record(customer.id, actor, "email queued again",
                        f"{EmailKind(row.kind).type_name} (email {outbox_id}) to {', '.join(parsed.addresses)} "
                        f"after: {row.last_error or 'failure'}")
    return get_email(outbox_id)


def _refuse_overtaken_retry(row: OutboxRow, customer: Customer) -> None:
    """A retry mints a fresh link and so revokes the customer's other links of its kind:
    refused when a newer email of that kind went out (its link would die), or when the
    customer's portal state no longer offers that email (a password set since a setup email;
    a username deleted since a reset email, whose link would let anyone holding it choose one)."""

    kind = EmailKind(row.kind)
    newer = OutboxRow.select(OutboxRow.id).where(
        (OutboxRow.customer == customer.id) & (OutboxRow.kind == row.kind) & (OutboxRow.id > row.id)
        & (OutboxRow.status != OutboxStatus.failed.value)
    ).order_by(OutboxRow.id.desc()).first()
    if newer is not None:
        raise ActionNotAllowed(
            f"A newer {kind.type_name} email (email {newer.id}) was sent to this customer after this one; "
            "sending this one again would stop that email's link working. "
            "Send from PORTAL if the customer needs another.")
    view = portal_view_of(customer)
    if view.state is PortalState.suspended:
        raise ActionNotAllowed(f"Email {row.id} can't be sent again: {SUSPENDED_NO_EMAIL}.")
    if view.email_action is not kind:
        raise ActionNotAllowed(
            f"The customer's portal login is {view.state_text} now, so a {kind.type_name} email no longer fits. "
            f"Use {view.email_action_label} on PORTAL instead.")


def pending_count() -> int:
    """Emails still waiting to go out (queued or being sent)."""
    return OutboxRow.select().where(OutboxRow.status.in_([OutboxStatus.queued.value, OutboxStatus.sending.value])).count()

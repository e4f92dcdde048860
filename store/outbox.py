"""Rule 10: the outbox. Rows are written with the change that caused them (see
portal.queue_portal_email); here they are listed and queued again after a failure."""
from __future__ import annotations

import json

from . import activity, clock
from .customers import customer_row
from .db import write
from .errors import ActionNotAllowed, OutboxEmailNotFound
from .models import Customer, OutboxEmail as OutboxRow
from .values import EmailKind, OutboxEmail, OutboxStatus


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
    row = OutboxRow.select(OutboxRow, Customer).join(Customer).where(OutboxRow.id == outbox_id).first()
    if row is None:
        raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
    return _value(row)


def retry_email(outbox_id: int, *, actor: str) -> OutboxEmail:
    """Queue a failed email again, with a fresh link: the old one was revoked or may have expired."""
    from .portal import mint_link

    with write():
        row = OutboxRow.get_or_none(OutboxRow.id == outbox_id)
        if row is None:
            raise OutboxEmailNotFound(f"There is no email with id {outbox_id}.")
        if row.status != OutboxStatus.failed.value:
            raise ActionNotAllowed(f"Email {outbox_id} is {row.status}; only a failed email can be sent again.")
        customer = customer_row(row.customer.reference, lock=True)
        link, url = mint_link(customer.id, EmailKind(row.kind))
        OutboxRow.update(
            status=OutboxStatus.queued.value, attempts=0, next_attempt_at=clock.now(), claimed_by=None,
            claimed_at=None, link=link.id, link_url=url, link_expires_at=link.expires_at,
            refused_addresses="[]",
        ).where(OutboxRow.id == row.id).execute()
        activity.record(customer.id, actor, "email queued again",
                        f"{EmailKind(row.kind).type_name} (email {outbox_id}) after: {row.last_error or 'failure'}")
    return get_email(outbox_id)


def pending_count() -> int:
    """Emails still waiting to go out (queued or being sent)."""
    return OutboxRow.select().where(OutboxRow.status.in_([OutboxStatus.queued.value, OutboxStatus.sending.value])).count()



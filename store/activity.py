"""Rule 8: the activity log. Every change and every email, who, what, when, from what to what."""
from __future__ import annotations

from peewee import JOIN, fn

from . import clock

from .customer_values import ActivityEntry
from .models import ActivityEvent, Customer

ACTOR_CUSTOMER = "customer"
ACTOR_SYSTEM = "system"


def record(
    customer_id: int | None,
    actor: str,
    action: str,
    detail: str = "",
    *,
    old: str | None = None,
    new: str | None = None,
) -> None:
    """Write one event; call inside the transaction of the change it describes."""
    ActivityEvent.create(
        customer=customer_id, at=clock.now(), actor=actor, action=action,
        detail=detail, old_value=old, new_value=new,
    )


def links_revoked(count: int) -> str:
    """How an event says that ``count`` open links stopped working ("" for none)."""
    if not count:
        return ""
    return f"{count} open link{'s' if count != 1 else ''} revoked"


def _of_customer(reference: str):
    """The customer's id, whatever case the reference was typed in (indexed on lower(reference))."""
    return Customer.select(Customer.id).where(fn.LOWER(Customer.reference) == reference.strip().lower())


def list_activity(reference: str | None, *, limit: int = 200) -> tuple[ActivityEntry, ...]:
    """Newest first. ``reference=None`` lists account-wide events (settings changes)."""
    query = (
        ActivityEvent.select(ActivityEvent, Customer.reference.alias("customer_reference"))
        .join(Customer, JOIN.LEFT_OUTER)
        .order_by(ActivityEvent.id.desc())
        .limit(limit)
    )
    if reference is None:
        query = query.where(ActivityEvent.customer.is_null())
    else:
        query = query.where(ActivityEvent.customer.in_(_of_customer(reference)))
    return tuple(
        ActivityEntry(
            id=e.id, at=e.at, actor=e.actor, action=e.action, detail=e.detail,
            old_value=e.old_value, new_value=e.new_value,
            customer_reference=e.customer_reference,
        )
        for e in query.objects()
    )

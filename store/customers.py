"""Customers: add, edit, look up; finding them is store/search.py. Every write checks the
customer's version (rule 9)."""
from __future__ import annotations

import re
import uuid

from peewee import IntegrityError

from . import activity, clock
from .addresses import MAX_FIELD_LENGTH, parse_primary_email, require_valid
from .customer_values import CustomerDetail, CustomerUpdate, NewCustomer
from .db import write
from .errors import InvalidInput, InvalidPrimaryEmail, StaleEdit
from .links import queue_portal_email, revoke_open_links
from .models import Customer
from .records import bump_version, customer_row, portal_view_of
from .settings import get_settings
from .text import joins_letters, unsafe_character

MAX_NAME = 200
_REFERENCE_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def clean_text(value: str | None, *, field: str, label: str, required: bool, limit: int = MAX_NAME) -> str:
    """Trim a one-line text input; refuse control characters (header injection) and over-long text."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"Enter the {label}.", field=field)
    if any(not ch.isprintable() and not joins_letters(text, i) for i, ch in enumerate(text)):
        raise InvalidInput(f"The {label} can't contain line breaks or control characters.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"The {label} can have at most {limit} characters.", field=field)
    return text


def _clean_reference(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _REFERENCE_SHAPE.match(text):
        raise InvalidInput(
            "A customer reference is 1 to 64 letters, digits, dots, dashes or underscores.",
            field="reference",
        )
    return text


def check_new_customer(*, name: str, company: str, reference: str | None, primary_email: str,
                       strict_email: bool = True) -> tuple[str, str, str | None, str]:
    """A new customer's fields as stored (name, company, reference or None, Primary Email
    Address), or InvalidInput/InvalidPrimaryEmail saying what is wrong. The rules of
    ``add_customer``, and of an import (store/importer.py), which checks every row first."""
    name = clean_text(name, field="name", label="customer name", required=True)
    company = clean_text(company, field="company", label="company", required=False)
    reference = _clean_reference(reference)
    field = (primary_email or "").strip()
    if strict_email:
        require_valid(field)
    elif len(field) > MAX_FIELD_LENGTH or unsafe_character(field) is not None:
        # Unchecked addresses still can't carry what forges lines on a terminal or in a header.
        raise InvalidPrimaryEmail(parse_primary_email(field).problem)
    return name, company, reference, field


def add_customer(
    *,
    name: str,
    primary_email: str,
    company: str = "",
    reference: str | None = None,
    actor: str,
    strict_email: bool = True,
) -> NewCustomer:
    """Create a customer; with Credential Create switched on, queue that email in the same transaction.

    ``strict_email=False`` accepts an unusable Primary Email Address as it comes from
    the billing system (imports, demo data): the email actions then show why they are off.
    """
    name, company, reference, field = check_new_customer(
        name=name, company=company, reference=reference, primary_email=primary_email, strict_email=strict_email)
    parsed = parse_primary_email(field)
    settings = get_settings()
    now = clock.now()
    try:
        with write():
            row = Customer.create(
                reference=reference or f"pending-{uuid.uuid4().hex}", name=name, company=company,
                primary_email=field, created_at=now, updated_at=now,
            )
            if reference is None:
                row.reference = f"C{row.id:06d}"
                Customer.update(reference=row.reference).where(Customer.id == row.id).execute()
            activity.record(row.id, actor, "customer created", f"{name} <{field}>" if field else name)
            queued, reason = False, None
            if not settings.credential_create_email:
                reason = "Customer Credential Create emails are switched off in Settings."
                activity.record(row.id, activity.ACTOR_SYSTEM, "email not sent",
                                f"Customer Credential Create for a new customer: {reason}")
            elif parsed.problem is not None:
                reason = parsed.problem
                activity.record(row.id, activity.ACTOR_SYSTEM, "email not sent",
                                f"Customer Credential Create for a new customer: {reason}")
            else:
                queue_portal_email(row, parsed.addresses, actor=activity.ACTOR_SYSTEM,
                                   why="new customer, Customer Credential Create is on")
                queued = True
    except IntegrityError:
        raise InvalidInput(f"The reference {reference!r} is already used by another customer.",
                           field="reference") from None
    return NewCustomer(reference=row.reference, credential_create_queued=queued, not_queued_reason=reason,
                       queued_to=parsed.addresses if queued else ())


def update_customer(
    reference: str,
    *,
    expected_version: int | None,
    actor: str,
    name: str | None = None,
    company: str | None = None,
    primary_email: str | None = None,
) -> CustomerUpdate:
    """Change name, company or Primary Email Address; each change is logged from old to new.

    A changed Primary Email Address revokes every open setup and reset link (and closes
    their half-filled forms): when the billing contact changes, a link in the old contact's
    mailbox must stop working. Emails still waiting in the outbox then fail with that reason
    instead of delivering a dead link; the agent sends a new one to the new address.
    """
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = clean_text(name, field="name", label="customer name", required=True)
    if company is not None:
        changes["company"] = clean_text(company, field="company", label="company", required=False)
    if primary_email is not None:
        require_valid(primary_email)
        changes["primary_email"] = primary_email.strip()
    revoked = 0
    with write():
        row = customer_row(reference, lock=True)
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if changed:
            bump_version(row, expected_version)
            Customer.update(**changed).where(Customer.id == row.id).execute()
            for key, value in changed.items():
                detail = ""
                if key == "primary_email":
                    revoked = revoke_open_links(row.id, "Primary Email Address changed", forms_too=True)
                    detail = activity.links_revoked(revoked)
                activity.record(row.id, actor, f"{key.replace('_', ' ')} changed", detail,
                                old=getattr(row, key), new=value)
        elif expected_version is not None and row.version != expected_version:
            raise StaleEdit()
    return CustomerUpdate(detail=get_customer(row.reference), changed=tuple(changed), links_revoked=revoked)


def get_customer(reference: str) -> CustomerDetail:
    """The customer's details and PORTAL view."""
    row = customer_row(reference)
    parsed = parse_primary_email(row.primary_email)
    return CustomerDetail(
        reference=row.reference, name=row.name, company=row.company,
        primary_email=row.primary_email, addresses=parsed.addresses,
        address_problem=parsed.problem, created_at=row.created_at, version=row.version,
        portal=portal_view_of(row),
    )

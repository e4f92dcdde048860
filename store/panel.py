"""The PORTAL panel's actions: Update (set or change the portal username), Delete, the
one email the state offers (Create Credentials or Reset Password), and Suspend / Resume.
Rules 1, 3, 5, 6 and 16 of docs/design.md. Built on store.links and store.records."""
from __future__ import annotations

from peewee import IntegrityError

from . import activity, clock
from .customer_values import PortalView, QueuedEmail
from .db import write
from .errors import StaleEdit, UsernameTaken
from .links import queue_portal_email, revoke_open_links
from .models import PortalLogin
from .records import (
    RESUMED_ACTION, SUSPENDED_ACTION, bump_version, customer_row, login_of, portal_view_of,
)
from .portal_values import SessionEnd
from .sessions import end_customer_sessions, record_event
from .text import refuse_unsafe_characters
from .usernames import clean_username, username_key
from .values import PortalState


def send_portal_email(reference: str, *, expected_version: int | None = None, actor: str) -> QueuedEmail:
    """The PORTAL panel's one email action: Create Credentials or Reset Password, by state.

    An agent's explicit send goes out even when that email type is switched off.
    """
    with write():
        customer = customer_row(reference, lock=True)
        if expected_version is not None and customer.version != expected_version:
            raise StaleEdit()
        view = portal_view_of(customer)
        if view.send_refusal is not None:
            raise view.send_refusal
        return queue_portal_email(customer, view.addresses, actor=actor, why="sent from PORTAL")


def set_username(reference: str, username: str, *, expected_version: int | None, actor: str) -> PortalView:
    """Update: set or change the portal username. Changing it revokes every open link and
    ends every portal session (signed in under the old name), in the same transaction."""
    name = clean_username(username)
    key = username_key(name)
    try:
        with write():
            customer = customer_row(reference, lock=True)
            login = login_of(customer)
            if login is not None and login.username == name:
                if expected_version is not None and customer.version != expected_version:
                    raise StaleEdit()
                return portal_view_of(customer)
            taken = PortalLogin.get_or_none((PortalLogin.username_key == key) & (PortalLogin.customer != customer.id))
            if taken is not None:
                raise UsernameTaken()
            bump_version(customer, expected_version)
            now = clock.now()
            if login is None:
                PortalLogin.create(customer=customer.id, username=name, username_key=key, created_at=now)
                activity.record(customer.id, actor, "username set", old=None, new=name)
            else:
                PortalLogin.update(username=name, username_key=key).where(PortalLogin.id == login.id).execute()
                revoked = revoke_open_links(customer.id, "username changed", forms_too=True)
                end_customer_sessions(customer.id, SessionEnd.login_changed)
                activity.record(customer.id, actor, "username changed",
                                activity.links_revoked(revoked), old=login.username, new=name)
            return portal_view_of(customer)
    except IntegrityError:
        # Another customer took the same name at the same instant: the unique index decided.
        raise UsernameTaken() from None


def delete_username(reference: str, *, expected_version: int | None, actor: str) -> PortalView:
    """Delete: the username and the password go, every open link is revoked and every portal
    session ends, in one transaction; state NOT SET UP."""
    with write():
        customer = customer_row(reference, lock=True)
        bump_version(customer, expected_version)
        login = login_of(customer)
        refusal = portal_view_of(customer).delete_refusal
        if refusal is not None:
            raise refusal
        PortalLogin.delete().where(PortalLogin.id == login.id).execute()
        revoked = revoke_open_links(customer.id, "username deleted", forms_too=True)
        end_customer_sessions(customer.id, SessionEnd.login_changed)
        detail = "password removed" if login.password_hash else "no password had been set"
        if login.suspended_at is not None:
            detail += "; the suspension ends with it"
        if revoked:
            detail += f"; {activity.links_revoked(revoked)}"
        activity.record(customer.id, actor, "username deleted", detail, old=login.username, new=None)
        return portal_view_of(customer)


# The longest reason a suspension keeps (it is the activity event's detail).
MAX_SUSPEND_REASON = 200


def suspend_portal(reference: str, reason: str = "", *, expected_version: int | None = None,
                   actor: str) -> PortalView:
    """Suspend: a reversible stop of the customer's portal access (rule 16). The username and
    password stay; every open link is revoked and every portal session ends, in the same
    transaction. Refused, with the reason, for a customer without a username or one already
    suspended."""
    refuse_unsafe_characters(reason, "reason", field="reason")
    why = " ".join((reason or "").split())[:MAX_SUSPEND_REASON]
    with write():
        customer = customer_row(reference, lock=True)
        bump_version(customer, expected_version)
        before = portal_view_of(customer)
        if before.suspend_refusal is not None:
            raise before.suspend_refusal
        login = login_of(customer)
        PortalLogin.update(suspended_at=clock.now()).where(PortalLogin.id == login.id).execute()
        revoked = revoke_open_links(customer.id, "portal access suspended", forms_too=True)
        ended = end_customer_sessions(customer.id, SessionEnd.ended_by_agent)
        # The detail is the reason alone (the panel shows it); what stopped goes to the history.
        activity.record(customer.id, actor, SUSPENDED_ACTION, why, old=before.state.label,
                        new=PortalState.suspended.label)
        stopped = [f"by {actor}"] + ([activity.links_revoked(revoked)] if revoked else [])
        if ended:
            stopped.append(f"{ended} session{'s' if ended != 1 else ''} ended")
        record_event(customer.id, "suspended", "", "; ".join(stopped))
        return portal_view_of(customer)


def resume_portal(reference: str, *, expected_version: int | None = None, actor: str) -> PortalView:
    """Resume: the suspended customer's portal access comes back as it was (Active, or Awaiting
    customer setup when no password was set). Refused, with the reason, when not suspended."""
    with write():
        customer = customer_row(reference, lock=True)
        bump_version(customer, expected_version)
        before = portal_view_of(customer)
        if before.resume_refusal is not None:
            raise before.resume_refusal
        PortalLogin.update(suspended_at=None).where(PortalLogin.customer == customer.id).execute()
        after = portal_view_of(customer)
        activity.record(customer.id, actor, RESUMED_ACTION, "", old=before.state.label, new=after.state.label)
        record_event(customer.id, "resumed", "", f"by {actor}")
        return after

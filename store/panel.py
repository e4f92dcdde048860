"""The PORTAL panel's actions: Update (set or change the portal username), Delete, and the
one email the state offers (Create Credentials or Reset Password). Rules 1, 3, 5 and 6 of
docs/design.md. Built on store.links and store.records."""
from __future__ import annotations

from peewee import IntegrityError

from . import activity, clock
from .db import write
from .errors import StaleEdit, UsernameTaken
from .links import queue_portal_email, revoke_open_links
from .models import PortalLogin
from .records import bump_version, customer_row, login_of, portal_view_of
from .sessions import end_customer_sessions
from .usernames import clean_username, username_key
from .values import PortalView, QueuedEmail, SessionEnd


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
        if revoked:
            detail += f"; {activity.links_revoked(revoked)}"
        activity.record(customer.id, actor, "username deleted", detail, old=login.username, new=None)
        return portal_view_of(customer)

"""What the customer does with a setup or reset link in the portal: open it, then send the
form that sets the username (when needed) and the password. Rules 4-7 of docs/design.md."""
from __future__ import annotations

from peewee import IntegrityError

from . import activity, clock
from .addresses import parse_primary_email
from .customer_values import LinkGrant
from .db import write
from .errors import FormExpired, FormTriesUsedUp, InvalidUsername, LinkUnusable, UsernameTaken
from .links import FORM_TRIES, form_still_open, revoke_open_links, take_form_try, use_up, usable
from .models import Customer, PortalLink, PortalLogin
from .passwords import check_password, hash_password
from .portal_values import SignedInCustomer
from .records import bump_version, customer_row, login_of
from .sessions import record_event, start_session
from .settings import get_settings
from .signin import end_login_sessions
from .tokens import token_hash, well_formed
from .usernames import clean_username, username_key
from .values import LinkPurpose, LinkUse


def open_link(token: str, purpose: LinkPurpose) -> LinkGrant:
    """A customer opened a setup or reset link. Raises LinkUnusable (one neutral sentence)
    for malformed, unknown, used, expired and revoked links, and for every link of a
    customer whose portal access is suspended (rule 16).

    With link use "open" (the source document's rule) the link is used up here,
    atomically: of two opens at the same instant exactly one gets the grant.
    """
    if not well_formed(token):
        raise LinkUnusable()
    consume = get_settings().link_use is LinkUse.open
    now = clock.now()
    with write():
        link = PortalLink.get_or_none((PortalLink.token_hash == token_hash(token)) & (PortalLink.purpose == purpose.value))
        if link is None or not usable(link, now) or _suspended(link.customer_id):
            raise LinkUnusable()
        if consume:
            if not use_up(link, now):
                raise LinkUnusable()
            activity.record(link.customer_id, activity.ACTOR_CUSTOMER, f"{purpose.value} link opened", "link used up")
        customer = Customer.get_by_id(link.customer_id)
        login = login_of(customer)
        return LinkGrant(
            link_id=link.id, customer_reference=customer.reference, purpose=purpose,
            username=login.username if login else None, opened_at=now, consumed=consume,
        )


def check_grant(grant: LinkGrant) -> None:
    """Whether the form an opened link gave may still be shown and sent: FormExpired after
    GRANT_MINUTES, FormTriesUsedUp once sent FORM_TRIES times, LinkUnusable when the link was
    revoked since (a new username, a new address, a password set)."""
    if not form_still_open(grant):
        raise FormExpired()
    link = PortalLink.get_or_none(PortalLink.id == grant.link_id)
    if link is None or link.revoked_at is not None:
        raise LinkUnusable()
    if link.form_tries >= FORM_TRIES:
        raise FormTriesUsedUp(FORM_TRIES)
    if _suspended(link.customer_id):
        raise LinkUnusable()
    if not grant.consumed and not usable(link, clock.now()):
        raise LinkUnusable()


def complete_link(grant: LinkGrant, *, username: str | None, password: str,
                  address: str | None = None) -> SignedInCustomer:
    """The customer sent the setup or reset form: set the username (when needed) and password.

    Each sending counts against the form's FORM_TRIES first, whatever its outcome. Setting a
    password revokes every open link, ends every portal session and clears the username's
    counted sign-in failures, in the same transaction. With ``address`` the customer is then
    signed in: a new session starts in that transaction too. A taken username raises
    UsernameTaken; the grant stays good for another try until GRANT_MINUTES after the link
    was opened, or until its tries are used up.
    """
    now = clock.now()
    if not form_still_open(grant):
        raise FormExpired()
    with write():
        counted = take_form_try(grant.link_id)
    if not counted:
        raise FormTriesUsedUp(FORM_TRIES)
    customer = customer_row(grant.customer_reference)
    login = login_of(customer)
    if login is not None and grant.purpose is LinkPurpose.reset:
        name = login.username  # a reset keeps the username; it only sets one when none is set
    elif username is None or not username.strip():
        if login is None:
            raise InvalidUsername("Choose a username.")
        name = login.username
    else:
        name = clean_username(username)
    check_password(password, user_inputs=[name, customer.name, customer.company, *parse_primary_email(customer.primary_email).addresses])
    # Argon2 runs before the transaction so the write lock is held for milliseconds only.
    password_hash = hash_password(password)
    try:
        with write():
            link = PortalLink.get_or_none(PortalLink.id == grant.link_id)
            if link is None or link.customer_id != customer.id or _suspended(customer.id):
                raise LinkUnusable()
            if grant.consumed:
                if link.used_at is None or link.revoked_at is not None:
                    raise LinkUnusable()
            elif not use_up(link, now):
                raise LinkUnusable()
            bump_version(customer, None)
            login = login_of(customer)
            if login is not None and login.suspended_at is not None:
                # Suspended while the form was filled in (bump_version waited for it).
                raise LinkUnusable()
            # A login that migration 0003 kept under its old key keeps it while its name stays.
            key = login.username_key if login is not None and login.username == name else username_key(name)
            if login is None:
                PortalLogin.create(customer=customer.id, username=name, username_key=key,
                                   password_hash=password_hash, password_set_at=now, created_at=now)
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "username set", "in the portal", old=None, new=name)
            else:
                if login.username != name:
                    activity.record(customer.id, activity.ACTOR_CUSTOMER, "username changed", "in the portal",
                                    old=login.username, new=name)
                PortalLogin.update(username=name, username_key=key, password_hash=password_hash,
                                   password_set_at=now).where(PortalLogin.id == login.id).execute()
            revoke_open_links(customer.id, "password set", forms_too=True)
            end_login_sessions(customer.id, key)
            activity.record(customer.id, activity.ACTOR_CUSTOMER, "password set",
                            f"with the {grant.purpose.value} link")
            session_id = None
            if address is not None:
                session_id = start_session(customer.id, address)
                record_event(customer.id, "signed in", address, f"after setting a password ({grant.purpose.value} link)")
    except IntegrityError:
        raise UsernameTaken() from None
    return SignedInCustomer(reference=customer.reference, name=customer.name, username=name, session_id=session_id)


def _suspended(customer_id: int) -> bool:
    """Whether the customer's portal access is suspended: no link of theirs works meanwhile."""
    return PortalLogin.select().where((PortalLogin.customer == customer_id)
                                      & PortalLogin.suspended_at.is_null(False)).exists()

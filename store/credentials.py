"""What the customer does with a setup or reset link in the portal: open it, then send the
form that sets the username (when needed) and the password. Rules 4-7 of docs/design.md."""
from __future__ import annotations

from peewee import IntegrityError

from . import activity, clock
from .addresses import parse_primary_email
from .db import write
from .errors import FormExpired, InvalidUsername, LinkUnusable, UsernameTaken
from .links import form_still_open, revoke_open_links, use_up, usable
from .models import Customer, PortalLink, PortalLogin
from .passwords import check_password, hash_password
from .records import bump_version, customer_row, login_of
from .settings import get_settings
from .tokens import token_hash, well_formed
from .usernames import clean_username, username_key
from .values import LinkGrant, LinkPurpose, LinkUse, SignedInCustomer


def open_link(token: str, purpose: LinkPurpose) -> LinkGrant:
    """A customer opened a setup or reset link. Raises LinkUnusable (one neutral sentence)
    for malformed, unknown, used, expired and revoked links.

    With link use "open" (the source document's rule) the link is used up here,
    atomically: of two opens at the same instant exactly one gets the grant.
    """
    if not well_formed(token):
        raise LinkUnusable()
    consume = get_settings().link_use is LinkUse.open
    now = clock.now()
    with write():
        link = PortalLink.get_or_none((PortalLink.token_hash == token_hash(token)) & (PortalLink.purpose == purpose.value))
        if link is None or not usable(link, now):
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


def complete_link(grant: LinkGrant, *, username: str | None, password: str) -> SignedInCustomer:
    """The customer sent the setup or reset form: set the username (when needed) and password.

    Setting a password revokes every open link. A taken username raises UsernameTaken;
    the grant stays good for another try until GRANT_MINUTES after the link was opened.
    """
    now = clock.now()
    if not form_still_open(grant):
        raise FormExpired()
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
            if link is None or link.customer_id != customer.id:
                raise LinkUnusable()
            if grant.consumed:
                if link.used_at is None or link.revoked_at is not None:
                    raise LinkUnusable()
            elif not use_up(link, now):
                raise LinkUnusable()
            bump_version(customer, None)
            login = login_of(customer)
            key = username_key(name)
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
            activity.record(customer.id, activity.ACTOR_CUSTOMER, "password set",
                            f"with the {grant.purpose.value} link")
    except IntegrityError:
        raise UsernameTaken() from None
    return SignedInCustomer(reference=customer.reference, name=customer.name, username=name)

"""The credential lifecycle's use cases: the PORTAL panel's actions (Update, Delete, the one
email), what the customer does with a link in the portal, the login page's prompts and
sign-in. Rules 1 and 3-7 of docs/design.md. Built on store.links and store.records."""
from __future__ import annotations

from datetime import timedelta

from peewee import IntegrityError

from . import activity, clock
from .addresses import parse_primary_email
from .db import write
from .errors import FormExpired, InvalidLogin, InvalidUsername, LinkUnusable, StaleEdit, UsernameTaken
from .links import form_still_open, queue_portal_email, revoke_open_links, use_up, usable
from .models import Customer, OutboxEmail, PortalLink, PortalLogin
from .passwords import check_password, hash_password, verify_password
from .records import bump_version, customer_row, login_of, portal_view_of
from .settings import get_settings
from .tokens import token_hash, well_formed
from .usernames import clean_username, username_key
from .values import EmailKind, LinkGrant, LinkPurpose, LinkUse, PortalView, QueuedEmail, SignedInCustomer

# Customer-initiated reset emails (Forgot Password, Create Credential) per customer per hour.
PROMPT_EMAILS_PER_HOUR = 3
# A prompt naming an address shared by many customers sends to at most this many of them.
PROMPT_MAX_CUSTOMERS = 10



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
    """Update: set or change the portal username. Changing it revokes every open link."""
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
                activity.record(customer.id, actor, "username changed",
                                activity.links_revoked(revoked), old=login.username, new=name)
            return portal_view_of(customer)
    except IntegrityError:
        # Another customer took the same name at the same instant: the unique index decided.
        raise UsernameTaken() from None


def delete_username(reference: str, *, expected_version: int | None, actor: str) -> PortalView:
    """Delete: the username and the password go, every open link is revoked; state NOT SET UP."""
    with write():
        customer = customer_row(reference, lock=True)
        bump_version(customer, expected_version)
        login = login_of(customer)
        refusal = portal_view_of(customer).delete_refusal
        if refusal is not None:
            raise refusal
        PortalLogin.delete().where(PortalLogin.id == login.id).execute()
        revoked = revoke_open_links(customer.id, "username deleted", forms_too=True)
        detail = "password removed" if login.password_hash else "no password had been set"
        if revoked:
            detail += f"; {activity.links_revoked(revoked)}"
        activity.record(customer.id, actor, "username deleted", detail, old=login.username, new=None)
        return portal_view_of(customer)


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


def request_password_reset(identifier: str, *, prompt: str) -> None:
    """The portal's "Forgot Password" or "Create Credential" prompt.

    Queues the Password Reset email for each customer whose portal username or
    Primary Email Address matches, when that email type is switched on. Returns
    nothing either way: the caller answers the same whether or not anything matched.
    """
    text = (identifier or "").strip()
    if not text or len(text) > 320 or any(not ch.isprintable() for ch in text):
        return
    settings = get_settings()
    for customer in _customers_matching(text):
        with write():
            customer = customer_row(customer.reference, lock=True)
            parsed = parse_primary_email(customer.primary_email)
            why = f"asked for with {prompt}"
            if not settings.password_reset_email:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: switched off in Settings")
            elif parsed.problem is not None:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: {parsed.problem}")
            elif _recent_prompt_emails(customer.id) >= PROMPT_EMAILS_PER_HOUR:
                activity.record(customer.id, activity.ACTOR_CUSTOMER, "email not sent",
                                f"Customer Credential Password Reset {why}: more than "
                                f"{PROMPT_EMAILS_PER_HOUR} in an hour")
            else:
                queue_portal_email(customer, parsed.addresses, actor=activity.ACTOR_CUSTOMER, why=why,
                                   kind=EmailKind.password_reset)


def _customers_matching(text: str) -> list[Customer]:
    found: dict[int, Customer] = {}
    login = PortalLogin.get_or_none(PortalLogin.username_key == username_key(text))
    if login is not None:
        found[login.customer_id] = Customer.get_by_id(login.customer_id)
    if "@" in text:
        wanted = text.casefold()
        candidates = Customer.select().where(Customer.primary_email.contains(text)).limit(100)
        for customer in candidates:
            if wanted in (a.casefold() for a in parse_primary_email(customer.primary_email).addresses):
                found.setdefault(customer.id, customer)
    return list(found.values())[:PROMPT_MAX_CUSTOMERS]


def _recent_prompt_emails(customer_id: int) -> int:
    since = clock.now() - timedelta(hours=1)
    return OutboxEmail.select().where(
        (OutboxEmail.customer == customer_id) & (OutboxEmail.queued_by == activity.ACTOR_CUSTOMER)
        & (OutboxEmail.created_at > since)
    ).count()


def authenticate(username: str, password: str) -> SignedInCustomer:
    """The portal's login: one neutral InvalidLogin for every wrong pair."""
    key = username_key(username or "")
    login = PortalLogin.get_or_none(PortalLogin.username_key == key) if 0 < len(key) <= 256 else None
    if not verify_password(login.password_hash if login else None, password or ""):
        raise InvalidLogin()
    customer = Customer.get_by_id(login.customer_id)
    return SignedInCustomer(reference=customer.reference, name=customer.name, username=login.username)

"""Account settings: Email Notifications switches, portal URL, link lifetimes, sender, link use."""
from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit, urlunsplit

import idna
from peewee import IntegrityError

from . import activity
from .customer_values import AccountSettings
from .db import write
from .errors import InvalidSetting, StaleSetting
from .models import AccountSetting
from .values import LinkUse

KEYS = (
    "portal_url", "credential_create_email", "password_reset_email",
    "setup_link_hours", "reset_link_hours", "sender", "link_use",
)
MAX_LINK_HOURS = 24 * 30
_DEFAULTS = dict(
    portal_url="http://127.0.0.1:8080",
    # The source document has the account switch these on; a new account starts with them off.
    credential_create_email=False,
    password_reset_email=False,
    setup_link_hours=72,
    reset_link_hours=2,
    sender_name="Billing",
    sender_address="billing@example.com",
    link_use=LinkUse.open.value,
)
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


def _row() -> AccountSetting:
    row = AccountSetting.get_or_none(AccountSetting.id == 1)
    if row is None:
        try:
            with write():
                row = AccountSetting.create(id=1, **_DEFAULTS)
        except IntegrityError:  # another process created it first
            row = AccountSetting.get_by_id(1)
    return row


def _value(row: AccountSetting) -> AccountSettings:
    return AccountSettings(
        portal_url=row.portal_url,
        credential_create_email=row.credential_create_email,
        password_reset_email=row.password_reset_email,
        setup_link_hours=row.setup_link_hours,
        reset_link_hours=row.reset_link_hours,
        sender_name=row.sender_name,
        sender_address=row.sender_address,
        link_use=LinkUse(row.link_use),
    )


def get_settings() -> AccountSettings:
    """The account's settings (created with defaults on first use)."""
    return _value(_row())


def setting_text(settings: AccountSettings, key: str) -> str:
    """A setting as `settings show` prints it and `settings set` takes it."""
    value = settings.sender if key == "sender" else getattr(settings, key)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, LinkUse):
        return value.value  # str() of a str enum is 'LinkUse.open' in Python 3.11
    return str(value)


def parse_setting(key: str, text: str) -> dict[str, object]:
    """Turn the typed text into column values, or raise InvalidSetting naming the key."""
    text = (text or "").strip()
    if key not in KEYS:
        raise InvalidSetting(f"Unknown setting {key!r}; settings are: {', '.join(KEYS)}.", field=key)
    if any(not ch.isprintable() for ch in text):
        raise InvalidSetting("Settings can't contain line breaks or control characters.", field=key)
    if key in ("credential_create_email", "password_reset_email"):
        if text.lower() in _TRUE:
            return {key: True}
        if text.lower() in _FALSE:
            return {key: False}
        raise InvalidSetting(f"{key} is on or off, not {text!r}.", field=key)
    if key in ("setup_link_hours", "reset_link_hours"):
        # ASCII digits only: "²" and "٣" are digits to str.isdigit, not to an agent reading it back.
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LINK_HOURS:
            raise InvalidSetting(f"A link lifetime is a whole number of hours from 1 to {MAX_LINK_HOURS}.", field=key)
        return {key: int(text)}
    if key == "portal_url":
        return {key: _portal_url(text)}
    if key == "sender":
        return _sender(text)
    if text not in {use.value for use in LinkUse}:
        raise InvalidSetting("link_use is open (used up when opened) or submit (used up when the form is sent).", field=key)
    return {key: LinkUse(text).value}


def _portal_url(text: str) -> str:
    """The base of every link emailed: it must stay one clickable URL in any mail client."""
    if any(ch.isspace() for ch in text):
        raise InvalidSetting("The portal URL can't contain spaces.", field="portal_url")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSetting("The portal URL must start with https:// or http:// and name a host.", field="portal_url")
    if parts.query or parts.fragment or len(text) > 400:
        raise InvalidSetting("The portal URL can't have a query or a fragment, or be over 400 characters.", field="portal_url")
    host = parts.hostname
    if not host.isascii():
        # An international host name is kept in its ASCII (IDNA) form, which every mail
        # client links and no look-alike letter can hide in.
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise InvalidSetting(f"The portal URL's host {host!r} is not a valid domain name.", field="portal_url") from None
        netloc = parts.netloc.lower().replace(host, ascii_host)
        parts = parts._replace(netloc=netloc)
        text = urlunsplit(parts)
    if not text.isascii():
        raise InvalidSetting("The portal URL's path must be plain ASCII (percent-encode other characters).",
                             field="portal_url")
    return text.rstrip("/")


def _sender(text: str) -> dict[str, object]:
    from email_validator import EmailNotValidError, validate_email  # loads slowly: on first use

    name, address = parseaddr(text)
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidSetting(f"The sender needs a valid address, as in Billing <billing@example.com>: {error}", field="sender") from None
    if len(name) > 200:
        raise InvalidSetting("The sender name can have at most 200 characters.", field="sender")
    return {"sender_name": name.strip() or _DEFAULTS["sender_name"], "sender_address": address}


def update_setting(key: str, text: str, *, actor: str, expected: str | None = None) -> AccountSettings:
    """Change one setting from its text form; the change is recorded in the activity log.

    ``expected`` is the value the edit began from: when the stored one differs (someone
    saved it meanwhile), the edit is refused rather than silently overwriting theirs.
    """
    values = parse_setting(key, text)
    with write():
        row = _row()
        before = setting_text(_value(row), key)
        if expected is not None and before != expected:
            raise StaleSetting(f"Changed elsewhere to {before!r} while you were editing; nothing was saved. "
                               "Enter again saves yours over it.", field=key)
        AccountSetting.update(**values).where(AccountSetting.id == 1).execute()
        after_settings = _value(AccountSetting.get_by_id(1))
        after = setting_text(after_settings, key)
        if before != after:
            activity.record(None, actor, "setting changed", key, old=before, new=after)
    return after_settings

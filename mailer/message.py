"""The two portal emails: their words rendered by store.email_text (the templates the console's
preview shows too), built here as one MIME multipart/alternative message (plain text and HTML)
to every address at once.

The MIME skeleton is assembled here from the standard library's encoders (RFC 2047 headers,
quoted-printable bodies) rather than with ``email.message.EmailMessage``: its generator costs
0.3-0.9 ms a message, more than the whole SMTP exchange on a local relay. Every header value
goes through ``_header_value``, which refuses line breaks and control characters, so no header
can be injected through a customer's name, an address or the sender.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.header import Header
from email.utils import format_datetime, make_msgid, quote

import idna

from store.customer_values import AccountSettings
from store.dispatch import ClaimedEmail
from store.email_text import render_email
from store.portal_values import RenderedEmail

# What a mailbox may hold once it is on the wire: no spaces, quotes, brackets, commas or
# control characters, one @. The store validated it; this guards rows edited by hand.
_ADDRESS = re.compile(r"^[^\s\"(),:;<>@\[\]\\\x00-\x1f\x7f]+@[^\s\"(),:;<>@\[\]\\\x00-\x1f\x7f]+$")
_CRLF = "\r\n"
# Words a display name may show unquoted (RFC 5322 atext and spaces).
_ATOMS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$")
# RFC 5322 allows 998 octets a line; leave room for the header's name.
_PLAIN_HEADER_MAX = 900
_PLAIN_LINE_MAX = 998


class UnsendableMessage(ValueError):
    """The row can't become a safe message (an address or a header value is malformed)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message ready for a transport: envelope and the bytes of the whole message."""

    email_id: int
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    # True when an address or the sender is not ASCII: the relay must offer SMTPUTF8.
    smtputf8: bool


def render(email: ClaimedEmail, settings: AccountSettings) -> RenderedEmail:
    """Subject, plain text and HTML of a claimed email, from its kind's templates."""
    return render_email(email.kind, name=email.customer_name, account=settings.sender_name,
                        link=email.link_url, expires_at=email.link_expires_at)


def _header_value(value: str, what: str) -> str:
    if not value.isprintable():
        raise UnsendableMessage(f"The {what} holds a line break or a control character; not sent.")
    return value


def _address(value: str, what: str) -> str:
    """The address as it goes on the wire: an international domain in its ASCII (IDNA) form,
    so only a non-ASCII local part needs a relay with SMTPUTF8."""
    _header_value(value, what)
    if not _ADDRESS.match(value):
        raise UnsendableMessage(f"The {what} {value[:80]!r} is not a single valid address; not sent.")
    local, _, domain = value.rpartition("@")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise UnsendableMessage(f"The {what} {value[:80]!r} has a domain that can't be encoded; not sent.") from None
    return f"{local}@{domain}"


def _display_name(name: str) -> str:
    """A display name as RFC 5322 wants it: bare, quoted, or RFC 2047-encoded (as formataddr does)."""
    if not name:
        return ""
    if not name.isascii():
        return Header(name, "utf-8").encode(maxlinelen=_PLAIN_HEADER_MAX, linesep=_CRLF)
    if _ATOMS.match(name):
        return name
    return f'"{quote(name)}"'


def _encoded(text: str) -> str:
    """A header value as is when it is short ASCII, else as RFC 2047 words folded at 76 characters."""
    if text.isascii() and len(text) <= _PLAIN_HEADER_MAX:
        return text
    charset = "us-ascii" if text.isascii() else "utf-8"
    return Header(text, charset).encode(maxlinelen=76, linesep=_CRLF)


def _body(text: str) -> tuple[str, str]:
    """The part's Content-Transfer-Encoding and body: 7bit when the text allows it (the
    templates' usual case, and free), else quoted-printable. Lines end in CRLF."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if text.isascii() and max(map(len, lines)) <= _PLAIN_LINE_MAX:
        return "7bit", _CRLF.join(lines)
    # quoprimime works on octets held in a str: UTF-8 bytes, one character each (as email.charset does).
    octets = _CRLF.join(lines).encode("utf-8").decode("latin-1")
    return "quoted-printable", quoprimime.body_encode(octets, maxlinelen=76, eol=_CRLF)


def build_message(email: ClaimedEmail, settings: AccountSettings, now: datetime) -> OutgoingMessage:
    """One message to every address of the row, From the account's sender, dated ``now``."""
    recipients = tuple(_address(a, "recipient address") for a in email.to)
    if not recipients:
        raise UnsendableMessage("The email has no recipient address; not sent.")
    sender = _address(settings.sender_address, "sender address")
    sender_name = _header_value(settings.sender_name, "sender name")
    _header_value(email.customer_name, "customer name")
    rendered = render(email, settings)
    smtputf8 = not (sender.isascii() and all(a.isascii() for a in recipients))
    domain = sender.rpartition("@")[2]
    message_id = make_msgid(domain=domain if domain.isascii() else "localhost")
    boundary = f"=_portal_{secrets.token_hex(12)}"
    headers = [
        f"From: {_display_name(sender_name)} <{sender}>" if sender_name else f"From: {sender}",
        # One address a line: a To of twenty long addresses stays under the 998-octet limit.
        "To: " + ("," + _CRLF + " ").join(recipients),
        f"Subject: {_encoded(_header_value(rendered.subject, 'subject'))}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    parts = ""
    for subtype, content in (("plain", rendered.text), ("html", rendered.html)):
        encoding, body = _body(content)
        parts += (f"--{boundary}{_CRLF}Content-Type: text/{subtype}; charset=\"utf-8\"{_CRLF}"
                  f"Content-Transfer-Encoding: {encoding}{_CRLF}{_CRLF}{body}{_CRLF}")
    text = _CRLF.join(headers) + _CRLF + _CRLF + parts + f"--{boundary}--{_CRLF}"
    return OutgoingMessage(
        email_id=email.id, sender=sender, recipients=recipients, message_id=message_id,
        data=text.encode("utf-8" if smtputf8 else "ascii"), smtputf8=smtputf8,
    )


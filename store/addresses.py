"""Rule 2: the Primary Email Address field. Free text holding one or more
addresses separated by commas, semicolons or spaces; each must be valid.

Tabs, line breaks and every other control or invisible character are refused, not
taken as separators: printed raw, they forge lines in the console, the CLI's output and
logs ("a@x.com\nC999999 ...") and hide what an address really is. International
domains are accepted as typed (the mailer sends them in their ASCII IDNA form).
Comments ("(x)") and quoted local parts ('"a b"@x.com') are refused: billing contacts
don't need them and most relays and mailboxes mishandle them."""
from __future__ import annotations

import re
from dataclasses import dataclass


from .errors import InvalidPrimaryEmail
from .text import unsafe_character

MAX_FIELD_LENGTH = 2000
MAX_ADDRESSES = 20
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class ParsedAddresses:
    addresses: tuple[str, ...]
    # Why the field can't be used for email (empty, invalid address), else None.
    problem: str | None


def parse_primary_email(field: str) -> ParsedAddresses:
    """Split and validate every address; duplicates (case-insensitive) are kept once."""
    text = (field or "").strip()
    if not text:
        return ParsedAddresses((), "The Primary Email Address field is empty.")
    if len(text) > MAX_FIELD_LENGTH:
        return ParsedAddresses((), f"The Primary Email Address field is longer than {MAX_FIELD_LENGTH} characters.")
    unsafe = unsafe_character(text)
    if unsafe is not None:
        return ParsedAddresses((), "The Primary Email Address field can't contain line breaks, tabs, control or "
                                   f"invisible characters (found: {unsafe}); separate addresses with commas, "
                                   "semicolons or spaces.")
    # Imported here: the library builds its tables as it loads (~20 ms), which the console's
    # start-up need not pay before the first address is checked.
    from email_validator import EmailNotValidError, validate_email

    addresses: list[str] = []
    seen: set[str] = set()
    for part in _SEPARATORS.split(text):
        if not part:
            continue
        try:
            valid = validate_email(part, check_deliverability=False)
        except EmailNotValidError as error:
            return ParsedAddresses((), f"{_shown(part)} is not a valid email address: {error}")
        address = valid.normalized
        if address.casefold() not in seen:
            seen.add(address.casefold())
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        return ParsedAddresses((), f"The Primary Email Address field holds more than {MAX_ADDRESSES} addresses.")
    return ParsedAddresses(tuple(addresses), None)


def require_valid(field: str, *, allow_empty: bool = True) -> ParsedAddresses:
    """Parse the field for saving: raise InvalidPrimaryEmail when any address is invalid."""
    parsed = parse_primary_email(field)
    if parsed.problem is not None and not (allow_empty and not (field or "").strip()):
        raise InvalidPrimaryEmail(parsed.problem)
    return parsed


def _shown(part: str) -> str:
    """Quote user text safely in a message: no control characters, bounded length."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in part)
    return repr(clean[:80] + ("…" if len(clean) > 80 else ""))

"""Rule 1: portal usernames. Unique across customers, compared case-insensitively
after Unicode NFKC normalisation and trimming."""
from __future__ import annotations

import unicodedata

from .errors import InvalidUsername

MIN_LENGTH = 3
MAX_LENGTH = 64
# Beside letters and digits: what email-style and dotted usernames need, nothing
# that could be confused with whitespace or break out of a URL or a header.
ALLOWED_SYMBOLS = frozenset("._-@+'")


def clean_username(raw: str) -> str:
    """The username as it will be shown and stored: NFKC-normalised and trimmed.

    Raises InvalidUsername with a sentence saying what is wrong.
    """
    if raw is None or not raw.strip():
        raise InvalidUsername("Enter a username.")
    if any(unicodedata.category(ch).startswith("C") for ch in raw.strip()):
        raise InvalidUsername("A username can't contain line breaks or control characters.")
    name = unicodedata.normalize("NFKC", raw).strip()
    if len(name) < MIN_LENGTH:
        raise InvalidUsername(f"A username needs at least {MIN_LENGTH} characters.")
    if len(name) > MAX_LENGTH:
        raise InvalidUsername(
            f"A username can have at most {MAX_LENGTH} characters (this one has {len(name)})."
        )
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in ALLOWED_SYMBOLS)})
    if bad:
        shown = " ".join("space" if ch.isspace() else ch for ch in bad)
        raise InvalidUsername(
            f"A username can hold letters, digits and . _ - @ + ' only, not: {shown}"
        )
    return name


def username_key(name: str) -> str:
    """The comparison key the UNIQUE index holds: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())

"""Rule 6: link tokens. 256 random bits, URL-safe; the database keeps only SHA-256."""
from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    """A fresh link token (256 bits from the OS's CSPRNG)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    """True when the token has the shape new_token() makes; malformed ones never reach SQL."""
    return isinstance(token, str) and bool(_TOKEN_SHAPE.match(token))

"""Rule 7: passwords. Argon2id hashes; 8 to 128 characters; no composition rules;
common and guessable passwords refused with a reason (zxcvbn's estimate)."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from .errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from offline attacks".
MIN_SCORE = 3
# Past this, extra characters only add strength, and zxcvbn refuses longer input.
_ESTIMATE_CHARS = 72

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified when no such user exists, so a wrong username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


def check_password(password: str, *, user_inputs: list[str] | tuple[str, ...] = ()) -> None:
    """Raise WeakPassword with the reason when the password must be refused."""
    if password is None or len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise WeakPassword("A password can't contain control characters.")
    words = _guessable_words(user_inputs)
    result = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=words)
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        reason = feedback.get("warning") or "This password is too easy to guess."
        hints = " ".join(feedback.get("suggestions") or [])
        raise WeakPassword(f"{reason.rstrip('.')}. {hints}".strip())


def _guessable_words(user_inputs: list[str] | tuple[str, ...]) -> list[str]:
    """The customer's own words (names, username, address parts), whole and split apart,
    so that "adalovelace1" counts as guessable for Ada Lovelace."""
    words: set[str] = set()
    for text in user_inputs:
        if text:
            words.add(text.lower())
            words.update(w for w in re.split(r"[^\w]+", text.lower()) if len(w) >= 3)
    return sorted(words)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends one Argon2 verification."""
    if len(password) > MAX_LENGTH:
        password_hash = None  # no stored password is that long; don't hash megabytes
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

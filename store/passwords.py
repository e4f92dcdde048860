"""Rule 7: passwords. Argon2id hashes; 8 to 128 characters; no composition rules;
the customer's own name, company, username or address with digits or symbols added
refused; common and guessable passwords refused with a reason (zxcvbn's estimate)."""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from offline attacks".
MIN_SCORE = 3
# Past this, extra characters only add strength, and zxcvbn refuses longer input.
_ESTIMATE_CHARS = 72
OWN_WORDS_MESSAGE = "Don't use your own name, company, username or email address in your password."
# Invisible format characters that still belong in a password: the zero-width joiner and
# non-joiner shape letters in Persian, the Indic scripts and emoji sequences, and a
# passphrase typed in those must keep working. Every other format character (the bidi
# overrides and isolates, zero-width space, soft hyphen, word joiner, BOM, tags) only
# hides what was typed, so it is refused with the control characters.
_FORMAT_ALLOWED = frozenset("\u200c\u200d")
# Simple substitutions people make for letters ("p@ssw0rd"); '1', '!' and '|' stand for
# i in one reading and l in the other.
_LOOKS_LIKE = (str.maketrans("4@30$571!|", "aaeosstiii"), str.maketrans("4@30$571!|", "aaeosstlll"))

_END_CUTS = 6
_NOT_LETTERS = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified when no such user exists, so a wrong username costs the same time as a wrong
    password. Made on first use, not at import: a hash costs the console's start-up ~0.1 s."""
    return _hasher.hash("not-a-real-password-only-for-timing")


def normalize_password(password: str) -> str:
    """The form a password is checked, hashed and verified in: NFKC.

    The same passphrase arrives composed (NFC) from one keyboard or browser and decomposed
    (NFD) from another (macOS, some phones), or with full-width letters from an IME; NFKC
    makes them one password, as NIST SP 800-63B recommends for Unicode passwords. NFC alone
    would keep compatibility forms (full-width, ligatures) apart, which only locks people
    out; what NFKC folds together never made a password stronger.
    """
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, user_inputs: list[str] | tuple[str, ...] = ()) -> None:
    """Raise WeakPassword with the reason when the password must be refused."""
    if password is None:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    unsafe = _unsafe_character(password)
    if unsafe is not None:
        raise WeakPassword(f"A password can't contain control or invisible formatting characters ({unsafe}).")
    password = normalize_password(password)
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    own = own_word_forms(user_inputs)
    if _is_own_words(password, own):
        raise WeakPassword(OWN_WORDS_MESSAGE)
    # Imported here: its word lists load with it (~20 ms), which start-up need not pay.
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=sorted(own | _guessable_words(user_inputs)))
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        reason = feedback.get("warning") or "This password is too easy to guess."
        hints = " ".join(feedback.get("suggestions") or [])
        raise WeakPassword(f"{reason.rstrip('.')}. {hints}".strip())


def _unsafe_character(password: str) -> str | None:
    """The code point of the first character a password can't hold, as U+XXXX, else None.

    Refused: every Unicode "C" category but private use (Cc: C0, DEL and C1 such as U+0085;
    Cs: lone surrogates; Cn: unassigned, whose normalisation may change in a later Unicode
    version and lock the customer out) and the format characters (Cf) but ZWJ and ZWNJ.
    Private-use characters stay: some keyboards type them (the Apple logo, U+F8FF).
    """
    for ch in password:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Cn") or (category == "Cf" and ch not in _FORMAT_ALLOWED):
            return f"U+{ord(ch):04X}"
    return None


def own_word_forms(user_inputs: list[str] | tuple[str, ...]) -> set[str]:
    """The customer's own words as a guesser would try them: each of name, company,
    username and address local part alone, its words joined ("adalovelace") and one
    by one, lower case, accents and symbols left out."""
    forms: set[str] = set()
    for text in user_inputs:
        if not text:
            continue
        text = _letters_only_words(text.split("@", 1)[0] if "@" in text else text)
        words = [w for w in text.split() if w]
        if not words:
            continue
        forms.add("".join(words))
        forms.update(w for w in words if len(w) >= 3)
        if len(words) > 1:
            forms.add("".join(reversed(words)))  # "lovelaceada"
    return {f for f in forms if len(f) >= 3}


def _is_own_words(password: str, own: set[str]) -> bool:
    """True when the password is nothing but the customer's own words (one or two of them)
    with digits, symbols or years around them, or with digits and symbols standing in for
    letters ("Ad4L0velace!")."""
    if not own:
        return False
    cores = {_letters_only_words(password).replace(" ", "")}
    # Digits and symbols at the ends are either additions ("1990", "!") or stand for
    # letters ("...l4c3"): every cut of up to _END_CUTS of them is tried both ways.
    text = password.casefold()
    lead = len(text) - len(text.lstrip(_NOT_LETTERS))
    trail = len(text) - len(text.rstrip(_NOT_LETTERS))
    for i in range(min(lead, _END_CUTS) + 1):
        for j in range(min(trail, _END_CUTS) + 1):
            middle = text[i:len(text) - j]
            for table in _LOOKS_LIKE:
                cores.add(_letters_only_words(middle.translate(table)).replace(" ", ""))
    for core in cores:
        if core in own or any(core == a + b for a in own for b in own):
            return True
    return False


def _letters_only_words(text: str) -> str:
    """Lower case, accents dropped, every run of non-letters one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return re.sub(r"[\W\d_]+", " ", letters).strip()


def _guessable_words(user_inputs: list[str] | tuple[str, ...]) -> set[str]:
    """The customer's own texts whole and split apart, for zxcvbn's dictionary."""
    words: set[str] = set()
    for text in user_inputs:
        if text:
            words.add(text.lower())
            words.update(w for w in re.split(r"[^\w]+", text.lower()) if len(w) >= 3)
    return words


def hash_password(password: str) -> str:
    return _hasher.hash(normalize_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends the same Argon2 verifications for the
    same typed password, whether or not the login exists.

    Hashes made before passwords were normalised hold the password as it was typed: when the
    normalised form fails and the typed one differs from it, the typed one is tried once.
    """
    if len(password) > MAX_LENGTH:
        password_hash = None  # no stored password is that long; don't hash megabytes
    candidates = [normalize_password(password)]
    if candidates[0] != password:
        candidates.append(password)
    matched = False
    for candidate in candidates:
        try:
            matched = _hasher.verify(password_hash or _dummy_hash(), candidate) and password_hash is not None
        except (VerificationError, InvalidHashError):
            matched = False
        if matched:
            break
    return matched

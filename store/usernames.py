"""Rule 1: portal usernames. Unique across customers: two usernames that look alike
(after Unicode NFKC, trimming, case-folding and the Unicode TS #39 confusable
skeleton) are the same username, and a username's letters come from one script."""
from __future__ import annotations

import unicodedata
from functools import cache

from .errors import InvalidUsername
from .models import PortalLogin

MIN_LENGTH = 3
MAX_LENGTH = 64
# portal_login.username_key's column width: a longer key can name no login.
MAX_KEY_LENGTH = 256
# Beside letters and digits: what email-style and dotted usernames need, nothing
# that could be confused with whitespace or break out of a URL or a header.
ALLOWED_SYMBOLS = frozenset("._-@+'")
# Characters of no script of their own (digits, punctuation; combining marks take their
# base letter's) go with any script.
_NO_SCRIPT = frozenset({"COMMON", "INHERITED"})
# TS #39's "highly restrictive" level: one script, or Latin with the scripts Chinese,
# Japanese and Korean writing mix with it.
_SCRIPT_MIXES_ALLOWED = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Scripts whose accents the key leaves out (see username_key).
_ACCENTED_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "COMMON"})
# Vietnamese puts two marks on one letter (ệ); no spelling needs more.
_MAX_MARKS = 2
# Enough for every chain in the data (checked by tests/store/test_usernames_confusable.py).
_MAX_ROUNDS = 6
# The confusables data marks right-to-left examples with these; they are not part of them.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


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
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in ALLOWED_SYMBOLS or _is_mark(ch))})
    if bad:
        shown = " ".join("space" if ch.isspace() else ch for ch in bad)
        raise InvalidUsername(
            f"A username can hold letters, digits and . _ - @ + ' only, not: {shown}"
        )
    _refuse_stacked_marks(name)
    _refuse_mixed_scripts(name)
    return name


def username_key(name: str) -> str:
    """The comparison key the UNIQUE index holds: the TS #39 confusable skeleton of the
    NFKC, trimmed, case-folded name, accents on Latin, Greek and Cyrillic letters left out.
    So 'ada.lovelace', 'ADA.LOVELACE', full-width 'ａｄａ.ｌｏｖｅｌａｃｅ', 'аda.lovelace'
    (Cyrillic а) and 'ada.lovelacė' have one key.

    Case is folded first: 'Ada' and 'ada' are one username, as they always were. Accents
    go because an agent tells the username to the customer (often by phone), and 'josé'
    beside 'jose' is a trap either way; a dot above a letter is a look-alike trick.
    Never raises: sign-in and the prompts look up whatever was typed.
    """
    key = legacy_username_key(name)
    for _ in range(_MAX_ROUNDS):
        # Again until nothing changes: some prototypes are capitals ('0' looks like 'O'),
        # and a key must be its own key.
        folded = skeleton(_without_accents(legacy_username_key(key)))
        if folded == key:
            break
        key = folded
    return key


def legacy_username_key(name: str) -> str:
    """The key before look-alikes were compared (NFKC, trimmed, case-folded). Logins whose
    name looked like an older login's when the skeleton came in keep this key (migration
    0003), so sign-in tries it first: see login_lookup_keys."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def login_lookup_keys(typed: str) -> tuple[str, ...]:
    """The keys to look a typed username up by, best first: its own pre-skeleton key (a login
    kept under it by migration 0003), then its skeleton. For every other login both give
    the same row, because a skeleton is its own skeleton."""
    legacy = legacy_username_key(typed or "")
    key = username_key(typed or "")
    return (legacy,) if key == legacy else (legacy, key)


def login_by_typed_name(typed: str):
    """The PortalLogin a typed username names, or None: looked up by login_lookup_keys, best first."""
    keys = [key for key in login_lookup_keys(typed) if 0 < len(key) <= MAX_KEY_LENGTH]
    if not keys:
        return None
    found = {login.username_key: login for login in PortalLogin.select().where(PortalLogin.username_key.in_(keys))}
    return next((found[key] for key in keys if key in found), None)


def skeleton(text: str) -> str:
    """TS #39 skeleton: NFD, each character replaced by its confusables prototype, NFD.

    Repeated until nothing changes (at most a few rounds): the data this reads shows some
    prototypes composed (Hangul, Arabic forms) and their NFD parts map again; the key
    must be its own skeleton, or sign-in by a stored key would miss.
    """
    prototypes = _prototypes()
    current = unicodedata.normalize("NFD", text)
    for _ in range(_MAX_ROUNDS):
        mapped = unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in current))
        if mapped == current:
            break
        current = mapped
    return current


def scripts_of(name: str) -> list[str]:
    """The scripts a name's letters come from (Common and Inherited left out), in order."""
    seen: dict[str, None] = {}
    for ch in name:
        script = _script(ch)
        if script not in _NO_SCRIPT:
            seen.setdefault(script, None)
    return list(seen)


def _refuse_mixed_scripts(name: str) -> None:
    scripts = scripts_of(name)
    if len(scripts) <= 1 or any(set(scripts) <= allowed for allowed in _SCRIPT_MIXES_ALLOWED):
        return
    shown = " and ".join(_script_name(s) for s in scripts[:2])
    raise InvalidUsername(f"This username mixes alphabets ({shown}); use one.")


def _refuse_stacked_marks(name: str) -> None:
    """A combining mark repeated on one letter, more than two on one letter, or one with no
    letter: stacked marks only serve to hide or imitate (zalgo text), never to spell."""
    marks: list[str] | None = None  # None: no letter yet
    for ch in unicodedata.normalize("NFD", name):
        if not _is_mark(ch):
            marks = []
            continue
        if marks is None or ch in marks or len(marks) >= _MAX_MARKS:
            raise InvalidUsername(
                f"A username can't stack accents or marks ({unicodedata.name(ch, 'mark').title()}); "
                "type the accented letter itself."
            )
        marks.append(ch)


def _without_accents(text: str) -> str:
    """NFD with the combining marks on Latin, Greek, Cyrillic and Common characters left out
    (those scripts spell with precomposed letters; others, such as Devanagari or Thai,
    write vowels as marks, which stay)."""
    kept: list[str] = []
    base_script = "COMMON"
    for ch in unicodedata.normalize("NFD", text):
        if _is_mark(ch):
            if base_script in _ACCENTED_SCRIPTS:
                continue
        else:
            base_script = _script(ch)
        kept.append(ch)
    return "".join(kept)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _script_name(alias: str) -> str:
    return alias.replace("_", " ").title()


def _script(ch: str) -> str:
    # Imported on first use: the library reads its data files as it loads (tens of ms), a
    # cost the console's start-up should not pay before a username is ever checked.
    from confusable_homoglyphs import categories

    return categories.alias(ch)


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype, from the Unicode confusables data that
    confusable_homoglyphs ships.

    That data lists every pair both ways (source to prototype and prototype to its
    sources), so the direction is read back: a prototype is never a source, a source has
    exactly one prototype, and only single characters are sources. In a pair of two single
    characters that only look like each other either could be the prototype; the lower
    code point is taken, which gives the same equal-or-not answer as the standard's choice.
    """
    from confusable_homoglyphs import confusables

    data: dict[str, list[str]] = {}
    for key, entries in confusables.confusables_data.items():
        clean_key = key.translate(_DIRECTION_MARKS)
        data.setdefault(clean_key, []).extend(e["c"].translate(_DIRECTION_MARKS) for e in entries)
    prototypes: dict[str, str] = {}
    for key, others in data.items():
        if len(key) != 1:
            continue  # sequences are only ever prototypes
        if len(others) != 1:
            continue  # with several look-alikes listed, the key is their prototype
        other = others[0]
        if len(other) != 1 or len(data.get(other, ())) > 1:
            prototypes[key] = other  # a sequence, or a character with other sources: the prototype
        elif data.get(other) == [key] and other < key:
            prototypes[key] = other  # two characters alike: the lower code point stands for both
    return prototypes

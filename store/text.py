"""Characters no stored one-line text may hold: they break lines in the console, the CLI's
output, logs and email headers, or hide and reorder what a person reads.

Refused: every control character (C0 such as tab, line feed and carriage return, DEL, C1
such as U+0085), the line and paragraph separators, the bidirectional overrides, embeddings,
isolates and marks (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C: "evil\u202etxt.exe"
shows as "evilexe.txt"), and the zero-width characters (U+200B-200D, U+2060, U+FEFF,
U+180E) that make two different texts look the same, except a ZWNJ or ZWJ between two
letters of a script that spells with them (Persian, Arabic, Indic).
"""
from __future__ import annotations

import unicodedata

from .errors import InvalidInput

_INVISIBLE = frozenset(
    "\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_NAMES = {"\t": "tab", "\n": "line break", "\r": "carriage return", "\0": "NUL"}


# The joiners Persian, Arabic and Indic scripts spell with (Persian writes "می‌خواهم" with a
# ZWNJ inside the word): kept between two letters of such a script. Anywhere else (between
# Latin letters, at either end, beside another invisible character) they would only hide a
# difference between two texts, and are refused as before.
_JOINERS = frozenset("\u200c\u200d")
# Letters up to here are Latin (Basic Latin to Latin Extended-B), where no word needs a joiner.
_LAST_LATIN = 0x024F


def joins_letters(value: str, index: int) -> bool:
    """Whether ``value[index]`` is a ZWNJ or ZWJ between two letters of a script that uses them."""
    if value[index] not in _JOINERS or index == 0 or index == len(value) - 1:
        return False
    return all(unicodedata.category(ch)[0] in "LM" and ord(ch) > _LAST_LATIN
               for ch in (value[index - 1], value[index + 1]))


def unsafe_character(value: str) -> str | None:
    """How to name the first refused character of ``value`` ("tab", "U+202E"), else None."""
    for index, ch in enumerate(value):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or (ch in _INVISIBLE and not joins_letters(value, index)):
            return _NAMES.get(ch) or f"U+{ord(ch):04X}"
    return None


def refuse_unsafe_characters(value: str | None, label: str, *, field: str | None = None) -> None:
    """Raise InvalidInput ("The company can't contain a tab ...") when ``value`` holds a
    character listed above; ``label`` names the field in the sentence, ``field`` lets a
    form show the message under it."""
    found = unsafe_character(value or "")
    if found is not None:
        raise InvalidInput(
            f"The {label} can't contain line breaks, tabs, control or invisible characters (found: {found}).",
            field=field,
        )

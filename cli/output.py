"""How the command line prints: every stored value made safe for a terminal, JSON for scripts."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any


def shown(value: Any, *, none: str = "(none)") -> str:
    """A value as the CLI prints it: plain text, safe on a terminal.

    Every character that doesn't print (\\r, \\n, \\t, ESC and the other controls, bidi
    overrides and other format characters) appears as its escape, so a stored value
    can't forge a row or a column, move the cursor or rewrite the line. ``None`` reads
    as ``none``. Every stored value the CLI prints as text goes through here.
    """
    if value is None:
        return none
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value))


def old_new(old: str | None, new: str | None) -> str:
    """A change as `old -> new`, each side shown safely; (none) and (empty) for no value."""
    return " -> ".join("(empty)" if v == "" else shown(v) for v in (old, new))


def plain(value: Any) -> Any:
    """Make service-layer values JSON-ready."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    text = json.dumps(plain(value), indent=2, ensure_ascii=False)
    # json escapes the C0 controls itself, but leaves DEL, the C1 controls and format
    # characters raw: those get their \\u escape too, so the JSON stays the same data.
    print("".join(ch if ch.isprintable() or ch == "\n" else json.dumps(ch)[1:-1] for ch in text))

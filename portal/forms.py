"""Reading the portal's forms strictly: UTF-8 url-encoded bodies of bounded size only.

Anything else becomes a FormError whose message the page shows on the form,
never a 500.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

# The largest legitimate form (a 128-character password twice, percent-encoded) is far below this.
MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 10


class FormError(Exception):
    """The form could not be read; ``message`` tells the person what to do."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each name), or FormError."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("The form could not be read. Please reload the page and try again.", 415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FormError("What you typed is far too long. Please shorten it and try again.", 413)
    try:
        pairs = parse_qsl(bytes(body).decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FormError("The form held characters that could not be read (not UTF-8 text). "
                        "Please type it again.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def has_control_characters(text: str) -> bool:
    """True for line breaks, tabs, NUL and other non-printable characters."""
    return any(not ch.isprintable() for ch in text)

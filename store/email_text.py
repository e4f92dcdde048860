"""The words of the two portal emails: subject, plain text and HTML, from the Jinja2 templates
in store/email_templates/ (`<kind>.subject.j2`, `<kind>.txt.j2`, `<kind>.html.j2`).

Here, not in the mailer, because two parts need the same words: the mailer renders them with
the link it issues as it sends, and the console previews them (with a placeholder for the link)
before the agent sends. The console may not import the mailer, and both may import the store,
so the one renderer lives here. Pure: no database, no clock.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .portal_values import RenderedEmail
from .values import EmailKind

TEMPLATES = Path(__file__).with_name("email_templates")
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    auto_reload=False,
)


def expiry_text(moment: datetime) -> str:
    """Until when the link works, as the email says it."""
    return f"{moment:%d %B %Y, %H:%M} UTC"


def render_email(kind: EmailKind, *, name: str, account: str, link: str, expires_at: datetime) -> RenderedEmail:
    """Subject (one line), plain text and HTML of an email of ``kind`` to the customer ``name``
    from the billing account ``account``, holding ``link`` that works until ``expires_at``."""
    values = dict(name=name, account=account, link=link, expires=expiry_text(expires_at))
    stem = kind.value
    subject = " ".join(_env.get_template(f"{stem}.subject.j2").render(values).split())
    return RenderedEmail(
        subject=subject,
        text=_env.get_template(f"{stem}.txt.j2").render(values),
        html=_env.get_template(f"{stem}.html.j2").render(subject=subject, **values),
    )

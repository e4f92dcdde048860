"""The working link of a queued email, issued the way the mailer issues it as it sends.

The database never holds a usable token (store/links.py: the mailer makes it when the email
goes out), so tests that play the customer get theirs here instead of reading a row.
Issuing again replaces the token: an earlier one stops working, as it would for a customer.
"""
from __future__ import annotations

from store.links import PURPOSE_OF_KIND, issue_token
from store.models import OutboxEmail
from store.settings import get_settings
from store.values import EmailKind


def live_link(outbox_id: int) -> str:
    """The URL the customer would find in email ``outbox_id``."""
    row = OutboxEmail.get_by_id(outbox_id)
    url = issue_token(row.link_id, PURPOSE_OF_KIND[EmailKind(row.kind)].value, get_settings().portal_url)
    assert url is not None, f"email {outbox_id}'s link was used or revoked"
    return url


def live_token(outbox_id: int) -> str:
    return live_link(outbox_id).rsplit("/", 1)[1]

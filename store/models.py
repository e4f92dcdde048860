"""Peewee models: short and explicit. Only the service layer imports them.

Times are stored as naive UTC and handed out as aware UTC (``UTCDateTimeField``).
A schema change goes in a new numbered file under store/migrations/.
"""
from __future__ import annotations

from datetime import datetime, timezone

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from .db import database


class UTCDateTimeField(DateTimeField):
    """Aware UTC in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    def db_value(self, value: datetime | None):  # type: ignore[override]
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):  # type: ignore[override]
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class AccountSetting(BaseModel):
    """The billing account's settings: a single row (id 1)."""

    portal_url = CharField(max_length=500)
    credential_create_email = BooleanField()
    password_reset_email = BooleanField()
    setup_link_hours = IntegerField()
    reset_link_hours = IntegerField()
    sender_name = CharField(max_length=200)
    sender_address = CharField(max_length=320)
    link_use = CharField(max_length=10)
    # Set by `portal-console demo` so that a refresh never wipes a real database.
    is_demo = BooleanField(default=False)


class Customer(BaseModel):
    reference = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    company = CharField(max_length=200)
    # As typed: free text that may hold several addresses.
    primary_email = CharField(max_length=2000)
    version = IntegerField(default=1)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class PortalLogin(BaseModel):
    """A customer's portal username and password; no row means NOT SET UP."""

    customer = ForeignKeyField(Customer, unique=True, on_delete="CASCADE")
    username = CharField(max_length=64)
    # NFKC, trimmed, case-folded: the UNIQUE index makes the database enforce rule 1.
    username_key = CharField(max_length=256, unique=True)
    password_hash = CharField(max_length=255, null=True)
    password_set_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    # Set while the portal access is suspended (rule 16): the username and password are kept.
    suspended_at = UTCDateTimeField(null=True)


class PortalLink(BaseModel):
    """A one-time setup or reset link. Only the SHA-256 of its token is kept."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    purpose = CharField(max_length=10)
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = CharField(max_length=200, null=True)
    # How many times the form this link opened was sent: limited, so that one opened link
    # can't be used to ask without end which usernames are taken.
    form_tries = IntegerField(default=0)

    class Meta:
        indexes = ((("customer", "purpose"), False),)


class OutboxEmail(BaseModel):
    """An email waiting for, in or past delivery; written with the change that caused it."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    kind = CharField(max_length=32)
    to_addresses = TextField()  # JSON list
    customer_name = CharField(max_length=200)
    link = ForeignKeyField(PortalLink, null=True, on_delete="SET NULL")
    # Always redacted: the mailer makes the token as it sends (store/links.py issue_token).
    link_url = TextField()
    link_expires_at = UTCDateTimeField()
    status = CharField(max_length=10, index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True, index=True)
    claimed_by = CharField(max_length=200, null=True)
    claimed_at = UTCDateTimeField(null=True)
    last_error = TextField(null=True)
    refused_addresses = TextField(default="[]")  # JSON list
    message_id = CharField(max_length=300, null=True)
    delivered_via = CharField(max_length=500, null=True)
    queued_by = CharField(max_length=64)
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True)
    # Claimed lowest first (store/dispatch.py): 0 for an email an agent, a customer or a new
    # customer caused, BULK_PRIORITY for bulk sends, so a hand-sent email never waits behind them.
    priority = IntegerField(default=0)


class ActivityEvent(BaseModel):
    """Who did what, when, from what to what. Never deleted."""

    customer = ForeignKeyField(Customer, null=True, on_delete="CASCADE")
    at = UTCDateTimeField(index=True)
    actor = CharField(max_length=64)
    action = CharField(max_length=64)
    detail = TextField(default="")
    old_value = TextField(null=True)
    new_value = TextField(null=True)


class PortalAttempt(BaseModel):
    """A sign-in attempt not known to have succeeded (counted before its password is checked),
    or a prompt request: what the portal's limits count. Shared by every portal process."""

    kind = CharField(max_length=10)  # "sign-in" or "prompt"
    # SHA-256 of the username key (or of the prompt's identifier): what was typed is never kept,
    # since people type passwords into the username field.
    subject = CharField(max_length=64)
    address = CharField(max_length=64)  # the client's IP address
    at = UTCDateTimeField()

    class Meta:
        indexes = ((("kind", "subject", "at"), False), (("kind", "address", "at"), False))


class PortalSession(BaseModel):
    """A signed-in portal session. The browser's cookie holds the session id; only its
    SHA-256 is kept here, so a copy of the database signs nobody in."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE", index=True)
    id_hash = CharField(max_length=64, unique=True)
    address = CharField(max_length=64)
    created_at = UTCDateTimeField()
    last_seen_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)
    ended_reason = CharField(max_length=20, null=True)


class SignInEvent(BaseModel):
    """The customer's sign-in history: signed in, wrong password, locked, signed out, ..."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    at = UTCDateTimeField(index=True)
    event = CharField(max_length=20)
    address = CharField(max_length=64)
    detail = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("customer", "at"), False),)


class MailerHeartbeat(BaseModel):
    """A running dispatcher (a console's thread or a `portal-console mailer` process), written
    every pass: what tells on-call staff whether anything sends the outbox."""

    name = CharField(max_length=200, unique=True)  # the dispatcher's claimer name
    host = CharField(max_length=200)
    pid = IntegerField()
    role = CharField(max_length=20)  # "console" or "mailer"
    started_at = UTCDateTimeField()
    last_pass_at = UTCDateTimeField(index=True)
    sent = IntegerField(default=0)  # since it started
    failed = IntegerField(default=0)


ALL_MODELS = [AccountSetting, Customer, PortalLogin, PortalLink, OutboxEmail, ActivityEvent,
              PortalAttempt, PortalSession, SignInEvent, MailerHeartbeat]

"""A real SMTP server (aiosmtpd on a free loopback port) whose replies a test can script,
and helpers to make outbox rows through the service layer and read what arrived."""
from __future__ import annotations

import asyncio
import email
import re
import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

import pytest
from aiosmtpd.controller import Controller

from store.config import Config
from tests.net import free_port
from store.customers import add_customer
from store.panel import send_portal_email
from store.settings import update_setting

AGENT = "alice"
PORTAL_URL = "https://billing.acme.example/portal"
LINK = re.compile(r"https://billing\.acme\.example/portal/(setup|reset)/([A-Za-z0-9_-]{43})")


@dataclass
class Received:
    """One message the server accepted: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        # From text, not bytes: an SMTPUTF8 message has raw UTF-8 headers.
        return email.message_from_string(self.data.decode("utf-8"), policy=policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()

    @property
    def links(self) -> list[tuple[str, str]]:
        return LINK.findall(self.part("plain"))


@dataclass
class ScriptedHandler:
    """aiosmtpd handler: accepts by default; a test queues refusals, drops and delays."""

    received: list[Received] = field(default_factory=list)
    # Replies for the next MAIL FROM commands, used up in order ("421 ...", "451 ...").
    mail_replies: list[str] = field(default_factory=list)
    # A reply for RCPT TO of an address, every time it is named.
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    # This many DATA transactions lose the connection after the message arrived, before the reply.
    drop_in_data: int = 0
    # Seconds the server waits before answering MAIL FROM.
    mail_delay: float = 0.0
    connections: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_delay:
            await asyncio.sleep(self.mail_delay)
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_in_data:
            self.drop_in_data -= 1
            server.transport.close()
            return "250 never seen"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"


@dataclass
class SmtpServer:
    handler: ScriptedHandler
    port: int
    controller: Controller | None = None

    def start(self) -> None:
        """(Re)start listening on the same port."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running aiosmtpd server on a free loopback port."""
    server = SmtpServer(ScriptedHandler(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def silent_relay() -> Iterator[int]:
    """A port that takes TCP connections and never says a word: a relay hung mid-conversation."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def smtp_config(database_url: str, port: int, tmp_path: Path, **overrides) -> Config:
    """Config for a dispatcher talking to the test server; short time-outs."""
    values = dict(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=2.0,
                  maildir=tmp_path / "maildir", mailer_poll_seconds=0.05, mailer_lease_seconds=60.0)
    values.update(overrides)
    return Config(**values)


@pytest.fixture
def account(store_db) -> str:
    """The account's settings as a real one has them: its portal URL, its sender."""
    update_setting("portal_url", PORTAL_URL, actor=AGENT)
    update_setting("sender", "Acme Billing <billing@acme.example>", actor=AGENT)
    return store_db


def queue_create_email(name: str = "Ada Lovelace",
                       addresses: str = "ada@engines.example; billing@engines.example; cfo@engines.example") -> tuple[str, int]:
    """A customer and its Credential Create email in the outbox; returns (reference, outbox id)."""
    reference = add_customer(name=name, primary_email=addresses, company="Analytical Engines", actor=AGENT).reference
    return reference, send_portal_email(reference, actor=AGENT).outbox_id

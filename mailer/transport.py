"""Where messages go: an SMTP relay (aiosmtplib, one connection reused across a batch) or,
with no PORTAL_SMTP_HOST, a local Maildir. Each turns one message into an outcome."""
from __future__ import annotations

import asyncio
import logging
import mailbox
import socket
from pathlib import Path
from typing import Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from store.config import Config, SmtpSecurity
from store.dispatch import Failed, Outcome, Retry, Sent

from .message import OutgoingMessage

log = logging.getLogger("mailer")


class TransportUnavailable(Exception):
    """The relay can't be reached at all: every message of the batch waits for a retry."""


class Transport(Protocol):
    async def send(self, message: OutgoingMessage) -> Outcome:
        """Deliver one message; raise TransportUnavailable when nothing can be sent now."""

    async def close(self) -> None:
        """Let go of the connection (or whatever the transport holds)."""


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(str(message).split())}"


def _permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpTransport:
    """An SMTP relay with PORTAL_SMTP_* settings: none/STARTTLS/TLS, optional login,
    a time-out on the connection and on every command."""

    def __init__(self, config: Config) -> None:
        assert config.smtp_host is not None
        self._config = config
        self._smtp: aiosmtplib.SMTP | None = None
        self.via = f"smtp {config.smtp_host}:{config.smtp_port}"

    def _client(self) -> aiosmtplib.SMTP:
        config = self._config
        password = config.smtp_password.get_secret_value() if config.smtp_password else None
        return aiosmtplib.SMTP(
            hostname=config.smtp_host, port=config.smtp_port, timeout=config.smtp_timeout,
            use_tls=config.smtp_security is SmtpSecurity.tls,
            start_tls=True if config.smtp_security is SmtpSecurity.starttls else False,
            username=config.smtp_username, password=password,
            cert_bundle=str(config.smtp_ca_file) if config.smtp_ca_file else None,
            # getfqdn() may wait on DNS; the host name is enough for EHLO.
            local_hostname=socket.gethostname() or "localhost",
        )

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        smtp = self._client()
        try:
            await smtp.connect()
        except SMTPResponseException as error:
            smtp.close()
            raise TransportUnavailable(f"{self.via} refused the connection: {_reply(error.code, error.message)}") from None
        except (SMTPException, OSError, asyncio.TimeoutError) as error:
            smtp.close()
            raise TransportUnavailable(f"{self.via} unreachable: {error or type(error).__name__}") from None
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        """Clear a half-made envelope so the connection can carry the next message."""
        try:
            await smtp.rset()
        except (SMTPException, OSError):
            self._drop()

    async def send(self, message: OutgoingMessage) -> Outcome:
        """MAIL, RCPT for each address, DATA; the replies decide sent, retry or failed."""
        smtp = await self._connection()
        try:
            return await self._transaction(smtp, message)
        except SMTPResponseException as error:
            # 421 means the server is closing the connection; any 4xx is worth another try.
            if error.code == 421:
                self._drop()
            else:
                await self._reset(smtp)
            reply = _reply(error.code, error.message)
            if _permanent(error.code):
                return Failed(message.email_id, f"{self.via} refused the message: {reply}")
            return Retry(message.email_id, f"{self.via}: {reply}")
        except (SMTPServerDisconnected, SMTPTimeoutError, SMTPException, OSError, asyncio.TimeoutError) as error:
            self._drop()
            return Retry(message.email_id, f"{self.via}: {type(error).__name__}: {error}")

    async def _transaction(self, smtp: aiosmtplib.SMTP, message: OutgoingMessage) -> Outcome:
        options: list[str] = []
        if message.smtputf8:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            if not smtp.supports_extension("smtputf8"):
                return Failed(message.email_id, f"{self.via} can't take international addresses (no SMTPUTF8).")
            options.append("SMTPUTF8")
        await smtp.mail(message.sender, options=options, encoding="utf-8" if message.smtputf8 else "ascii")
        accepted: list[str] = []
        refused: list[tuple[str, str]] = []
        transient: list[str] = []
        for address in message.recipients:
            try:
                await smtp.rcpt(address, encoding="utf-8" if message.smtputf8 else "ascii")
                accepted.append(address)
            except SMTPRecipientRefused as error:
                if error.code == 421:
                    raise
                reply = _reply(error.code, error.message)
                if _permanent(error.code):
                    refused.append((address, reply))
                else:
                    transient.append(f"{address}: {reply}")
        if transient:
            # Nobody has the message yet: the whole email waits, so no address gets it twice.
            await self._reset(smtp)
            return Retry(message.email_id, f"{self.via} deferred " + "; ".join(transient))
        if not accepted:
            await self._reset(smtp)
            return Failed(message.email_id, f"{self.via} refused every address: "
                          + "; ".join(f"{a}: {r}" for a, r in refused))
        response = await smtp.data(message.data)
        return Sent(message.email_id, message.message_id, f"{self.via}: {_reply(response.code, response.message)}",
                    tuple(refused))

    async def close(self) -> None:
        """QUIT politely when the connection is still up."""
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit()
        except (SMTPException, OSError, asyncio.TimeoutError):
            smtp.close()


class MaildirTransport:
    """The embedded default: each message becomes a file in PORTAL_MAILDIR/new."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self.via = f"maildir {self._path}"

    def _deliver(self, data: bytes) -> str:
        box = mailbox.Maildir(self._path, factory=None, create=True)
        return box.add(data)

    async def send(self, message: OutgoingMessage) -> Outcome:
        """Write the message with the Maildir's tmp-then-rename, off the event loop."""
        try:
            key = await asyncio.to_thread(self._deliver, message.data)
        except OSError as error:
            return Retry(message.email_id, f"{self.via}: {error}")
        return Sent(message.email_id, message.message_id, f"{self.via}/new/{key}")

    async def close(self) -> None:
        """Nothing is held between messages."""


def transport_for(config: Config) -> Transport:
    """SMTP when PORTAL_SMTP_HOST is set, else the local Maildir."""
    if config.smtp_host:
        return SmtpTransport(config)
    return MaildirTransport(config.maildir)

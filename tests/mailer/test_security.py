"""PORTAL_SMTP_SECURITY and the optional login, against a real relay that demands them."""
from __future__ import annotations

import ssl
from typing import Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from store.config import SmtpSecurity
from store.outbox import get_email
from store.values import OutboxStatus

from mailer.dispatcher import dispatch_once

from .conftest import ScriptedHandler, free_port, queue_create_email, smtp_config

USER, PASSWORD = "portal-mailer", "relay-secret-2026"
# aiosmtpd warns that AUTH is allowed without STARTTLS: with implicit TLS the whole connection is TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Login:
    """aiosmtpd authenticator: one account; remembers who logged in."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535 itself


@pytest.fixture
def ca(tmp_path) -> trustme.CA:
    return trustme.CA()


@pytest.fixture(params=[SmtpSecurity.starttls, SmtpSecurity.tls])
def secure_relay(request, ca, tmp_path) -> Iterator[tuple[SmtpSecurity, int, ScriptedHandler, Login]]:
    """A relay on 127.0.0.1 with a certificate from a test CA, login required, over STARTTLS or TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    handler, login, port = ScriptedHandler(), Login(), free_port()
    if request.param is SmtpSecurity.tls:
        # The whole connection is TLS; aiosmtpd's auth_require_tls only knows about STARTTLS.
        tls = dict(ssl_context=context, auth_require_tls=False)
    else:
        tls = dict(tls_context=context, require_starttls=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=login,
                            auth_required=True, **tls)
    controller.start()
    yield request.param, port, handler, login
    controller.stop()


def _config(account, port, tmp_path, ca, security, **overrides):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    values = dict(smtp_security=security, smtp_username=USER, smtp_password=PASSWORD, smtp_ca_file=ca_file)
    values.update(overrides)
    return smtp_config(account, port, tmp_path, **values)


async def test_the_relays_security_and_login_are_honoured(account, secure_relay, ca, tmp_path):
    """STARTTLS or TLS with a verified certificate, then the login: the email goes out."""
    security, port, handler, login = secure_relay
    _, email_id = queue_create_email()
    report = await dispatch_once(_config(account, port, tmp_path, ca, security))
    assert report.sent == 1 and len(handler.received) == 1 and login.logins == [USER]
    assert get_email(email_id).status is OutboxStatus.sent


async def test_a_wrong_password_keeps_the_email_queued_with_the_relays_reply(account, secure_relay, ca, tmp_path):
    """The twin: the relay refuses the login; nothing is sent, nothing lost, the reply is shown."""
    security, port, handler, login = secure_relay
    _, email_id = queue_create_email()
    report = await dispatch_once(_config(account, port, tmp_path, ca, security, smtp_password="wrong"))
    assert report.retried == 1 and handler.received == [] and login.logins == []
    email = get_email(email_id)
    assert email.status is OutboxStatus.queued and "535" in email.last_error


async def test_a_certificate_from_an_unknown_ca_is_refused(account, secure_relay, tmp_path):
    """Without the CA the relay's certificate can't be verified: no login is sent over it."""
    security, port, handler, login = secure_relay
    _, email_id = queue_create_email()
    report = await dispatch_once(_config(account, port, tmp_path, trustme.CA(), security))
    assert report.retried == 1 and handler.received == [] and login.logins == []
    assert "CERTIFICATE_VERIFY_FAILED" in get_email(email_id).last_error

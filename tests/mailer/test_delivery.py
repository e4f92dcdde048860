"""The two portal emails delivered by a real SMTP server: once, to every address, with a
working one-time link that the database no longer holds after the send."""
from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

import pytest

from store import db
from store.activity import list_activity
from store.outbox import get_email
from store.credentials import complete_link, open_link
from store.panel import send_portal_email
from store.values import EmailKind, LinkPurpose, OutboxStatus

from mailer.dispatcher import dispatch_once

from .conftest import AGENT, PORTAL_URL, queue_create_email, smtp_config

THREE = ["ada@engines.example", "billing@engines.example", "cfo@engines.example"]


def _raw(email_id: int, column: str):
    placeholder = "%s" if db.is_postgres() else "?"
    return db.database.execute_sql(f"SELECT {column} FROM outbox_email WHERE id = {placeholder}", (email_id,)).fetchone()[0]


async def test_both_emails_reach_three_addresses_once_with_a_working_link(account, smtp_server, tmp_path, fixed_clock):
    """Rule 2 and the source document: one message to every Primary Email Address, each with its link."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    reference, create_id = queue_create_email()

    report = await dispatch_once(config)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [create] = smtp_server.received
    assert sorted(create.rcpt_tos) == sorted(THREE)
    message = create.message
    assert message.get_content_type() == "multipart/alternative"
    assert [a.addr_spec for a in message["To"].addresses] == THREE
    assert message["From"].addresses[0].display_name == "Acme Billing"
    assert message["From"].addresses[0].addr_spec == "billing@acme.example"
    assert parsedate_to_datetime(message["Date"]) == fixed_clock.now()
    assert message["Message-ID"] == _raw(create_id, "message_id") and message["Message-ID"].endswith("@acme.example>")
    assert "Hello Ada Lovelace," in create.part("plain") and "Acme Billing" in create.part("plain")
    assert "works once" in create.part("plain") and "27 November 2026, 09:00 UTC" in create.part("plain")
    [(purpose, token)] = create.links
    assert purpose == "setup" and f'href="{PORTAL_URL}/setup/{token}"' in create.part("html")

    grant = open_link(token, LinkPurpose.setup)
    complete_link(grant, username="ada.lovelace", password="Analytical-Engine-Notes-1843")
    reset_id = send_portal_email(reference, actor=AGENT).outbox_id
    report = await dispatch_once(config)
    assert report.sent == 1 and len(smtp_server.received) == 2
    reset = smtp_server.received[1]
    assert sorted(reset.rcpt_tos) == sorted(THREE)
    assert "reset your billing portal password" in reset.message["Subject"]
    [(purpose, token)] = reset.links
    assert purpose == "reset"
    assert open_link(token, LinkPurpose.reset).customer_reference == reference
    assert [get_email(i).status for i in (create_id, reset_id)] == [OutboxStatus.sent, OutboxStatus.sent]

    assert (await dispatch_once(config)).claimed == 0
    assert len(smtp_server.received) == 2


def dump_of_every_table() -> str:
    """What a backup of the database would hold, as text."""
    from store.models import ALL_MODELS

    return "\n".join(json.dumps(db.database.execute_sql(f'SELECT * FROM "{m._meta.table_name}"').fetchall(),
                                default=str) for m in ALL_MODELS)


async def test_the_database_never_holds_a_usable_token(account, smtp_server, tmp_path):
    """A backup taken while the email waits, or after it went, must not let anyone open the
    customer's link: the token is made as the email is sent, and only its hash is kept."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    reference, email_id = queue_create_email()
    assert _raw(email_id, "link_url") == f"{PORTAL_URL}/setup/[redacted]"
    waiting = dump_of_every_table()

    await dispatch_once(config)
    [(_, token)] = smtp_server.received[0].links
    assert len(token) == 43
    assert _raw(email_id, "link_url") == f"{PORTAL_URL}/setup/[redacted]"
    assert token not in waiting and token not in dump_of_every_table()
    assert open_link(token, LinkPurpose.setup).customer_reference == reference


async def test_only_the_token_the_mailer_sent_works(account, smtp_server, tmp_path):
    """The twin: the link the row was queued with works for no one; the one in the email works."""
    from store.errors import LinkUnusable

    config = smtp_config(account, smtp_server.port, tmp_path)
    reference, email_id = queue_create_email()
    await dispatch_once(config)
    [(_, token)] = smtp_server.received[0].links
    with pytest.raises(LinkUnusable):
        open_link("[redacted]", LinkPurpose.setup)
    assert open_link(token, LinkPurpose.setup).customer_reference == reference


async def test_every_send_is_recorded_on_the_row_and_in_the_activity_log(account, smtp_server, tmp_path, fixed_clock):
    """Rule 8: the activity log says what was sent, to whom and how; the row says where it went."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    reference, email_id = queue_create_email()
    await dispatch_once(config)
    assert _raw(email_id, "delivered_via").startswith(f"smtp 127.0.0.1:{smtp_server.port}: 250")
    assert _raw(email_id, "message_id") == smtp_server.received[0].message["Message-ID"]
    assert _raw(email_id, "attempts") == 1 and _raw(email_id, "claimed_by") is None
    assert get_email(email_id).sent_at == fixed_clock.now()
    sent = list_activity(reference)[0]
    assert (sent.actor, sent.action, sent.at) == ("system", "email sent", fixed_clock.now())
    assert EmailKind.credential_create.type_name in sent.detail and all(a in sent.detail for a in THREE)


async def test_international_addresses_go_out_with_smtputf8_and_idna_domains(account, smtp_server, tmp_path):
    """A Primary Email Address like zoë@... or ...@bücher.example is valid; it is delivered as such."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    _, email_id = queue_create_email(name="Zoë Ñúñez", addresses="zoë@engines.example; ada@bücher.example")
    assert (await dispatch_once(config)).sent == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ["zoë@engines.example", "ada@xn--bcher-kva.example"]
    message = received.message
    assert [a.addr_spec for a in message["To"].addresses] == received.rcpt_tos
    assert "Hello Zoë Ñúñez," in received.part("plain")


async def test_a_relay_without_smtputf8_fails_an_international_address_with_the_reason(account, tmp_path):
    """The twin: a relay that can't take a non-ASCII mailbox; the email fails visibly instead of garbling it."""
    from .conftest import ScriptedHandler, SmtpServer, free_port

    from aiosmtpd.controller import Controller

    server = SmtpServer(ScriptedHandler(), free_port())
    server.controller = Controller(server.handler, hostname="127.0.0.1", port=server.port, enable_SMTPUTF8=False)
    server.controller.start()
    try:
        _, email_id = queue_create_email(addresses="zoë@engines.example")
        _, plain_id = queue_create_email(name="Ada", addresses="ada@bücher.example")
        report = await dispatch_once(smtp_config(account, server.port, tmp_path))
        assert (report.sent, report.failed) == (1, 1)
        assert "no SMTPUTF8" in get_email(email_id).last_error
        assert server.received[0].rcpt_tos == ["ada@xn--bcher-kva.example"]
    finally:
        server.stop()

"""Message building: the right headers and parts, and no header injected through a
customer's name, an address or the sender, whatever reached the outbox row."""
from __future__ import annotations

import email
from datetime import datetime, timezone
from email import policy

import pytest

from store import db
from store.customer_values import AccountSettings
from store.customers import add_customer
from store.dispatch import ClaimedEmail
from store.errors import InvalidInput, InvalidPrimaryEmail
from store.outbox import get_email
from store.values import EmailKind, LinkUse, OutboxStatus

from mailer.dispatcher import dispatch_once
from mailer.message import UnsendableMessage, build_message, render

from .conftest import AGENT, queue_create_email, smtp_config

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
SETTINGS = AccountSettings(
    portal_url="https://billing.acme.example/portal", credential_create_email=True, password_reset_email=True,
    setup_link_hours=72, reset_link_hours=2, sender_name="Acme Billing", sender_address="billing@acme.example",
    link_use=LinkUse.open,
)
TOKEN = "A" * 43


def _claimed(name: str = "Ada Lovelace", to: tuple[str, ...] = ("ada@engines.example",),
             kind: EmailKind = EmailKind.credential_create) -> ClaimedEmail:
    purpose = "setup" if kind is EmailKind.credential_create else "reset"
    return ClaimedEmail(
        id=7, customer_id=1, customer_reference="C000001", customer_name=name, kind=kind, to=to,
        link_url=f"https://billing.acme.example/portal/{purpose}/{TOKEN}",
        link_expires_at=datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc), attempt=1,
    )


def _parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


class TestBuild:
    @pytest.mark.parametrize("kind, path, subject", [
        (EmailKind.credential_create, "/setup/", "Acme Billing: set up your billing portal login"),
        (EmailKind.password_reset, "/reset/", "Acme Billing: reset your billing portal password"),
    ])
    def test_each_kind_has_its_subject_link_and_both_parts(self, kind, path, subject):
        """Both portal emails: the subject names the account, both parts hold the kind's link and expiry."""
        message = _parse(build_message(_claimed(kind=kind), SETTINGS, NOW).data)
        assert message["Subject"] == subject
        assert message["MIME-Version"] == "1.0" and message.get_content_type() == "multipart/alternative"
        plain, html = (message.get_body((t,)).get_content() for t in ("plain", "html"))
        link = f"https://billing.acme.example/portal{path}{TOKEN}"
        assert link in plain and f'href="{link}"' in html
        assert "Hello Ada Lovelace," in plain and "27 November 2026, 09:00 UTC" in plain and "works once" in html

    def test_lines_stay_within_smtp_limits_for_twenty_long_addresses(self):
        """RFC 5322: no line over 998 octets, even with the Primary Email Address field full."""
        to = tuple(f"{'x' * 60}{i}@{'d' * 40}.example" for i in range(20))
        built = build_message(_claimed(to=to), SETTINGS, NOW)
        assert max(len(line) for line in built.data.split(b"\r\n")) <= 998
        assert [a.addr_spec for a in _parse(built.data)["To"].addresses] == list(to)
        assert built.recipients == to

    def test_a_non_ascii_name_is_encoded_and_read_back_intact(self):
        """Names like Zoë Ñúñez reach the customer as typed, in 7-bit safe encodings."""
        built = build_message(_claimed(name="Zoë Ñúñez – 東京"), SETTINGS, NOW)
        built.data.decode("ascii")
        assert "Hello Zoë Ñúñez – 東京," in _parse(built.data).get_body(("plain",)).get_content()

    def test_html_special_characters_in_a_name_are_escaped_in_the_html_part(self):
        """A name is text, never markup: <script> in a name can't run in a mail reader."""
        html = render(_claimed(name="Eve <script>alert(1)</script> & Co"), SETTINGS).html
        assert "<script>" not in html and "Eve &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
        plain = render(_claimed(name="Eve <b> & Co"), SETTINGS).text
        assert "Hello Eve <b> & Co," in plain

    def test_every_message_has_its_own_message_id_and_boundary(self):
        """Two sends of one email are two messages: mail readers must not merge or drop one."""
        first, second = (build_message(_claimed(), SETTINGS, NOW) for _ in range(2))
        assert first.message_id != second.message_id and first.data != second.data


class TestHeaderInjection:
    @pytest.mark.parametrize("name", [
        "Ada\r\nBcc: victim@evil.example", "Ada\nSubject: free money", "Ada\rX-Evil: 1", "Ada\x00",
    ])
    def test_a_name_with_line_breaks_is_refused_not_sent(self, name):
        """A header injected through the name could add Bcc recipients; the message is never built."""
        with pytest.raises(UnsendableMessage, match="customer name"):
            build_message(_claimed(name=name), SETTINGS, NOW)

    @pytest.mark.parametrize("address", [
        "ada@engines.example\r\nBcc: victim@evil.example", "ada@engines.example, victim@evil.example",
        "Ada <ada@engines.example>", "ada@engines.example\nvictim@evil.example", "no-at-sign", "a@b@c",
    ])
    def test_an_address_that_is_not_one_plain_address_is_refused(self, address):
        """Every recipient must be exactly one mailbox: no extra header, no extra recipient."""
        with pytest.raises(UnsendableMessage, match="recipient address"):
            build_message(_claimed(to=("ok@engines.example", address)), SETTINGS, NOW)

    def test_a_sender_name_with_a_line_break_is_refused(self):
        """The sender from Settings goes into From: it gets the same check as the customer's name."""
        evil = AccountSettings(**{**SETTINGS.__dict__, "sender_name": "Billing\r\nBcc: victim@evil.example"})
        with pytest.raises(UnsendableMessage, match="sender name"):
            build_message(_claimed(), evil, NOW)

    def test_punctuation_in_names_is_quoted_not_interpreted(self):
        """The twin: a name with commas, quotes and angle brackets is kept as one display name."""
        odd = AccountSettings(**{**SETTINGS.__dict__, "sender_name": 'Acme, "Billing" <Dept>'})
        message = _parse(build_message(_claimed(name="O'Brien, Ada <CFO>"), odd, NOW).data)
        [sender] = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ('Acme, "Billing" <Dept>', "billing@acme.example")
        assert [a.addr_spec for a in message["To"].addresses] == ["ada@engines.example"]
        assert "Hello O'Brien, Ada <CFO>," in message.get_body(("plain",)).get_content()

    @pytest.mark.parametrize("sender_name", ["Acme Billing", "Zürich Billing – Accounts", "Billing; Dept. (EU)", ""])
    def test_the_sender_name_reads_back_as_set_in_settings(self, sender_name):
        """Plain, international or punctuated, the From display name is the one in Settings."""
        settings = AccountSettings(**{**SETTINGS.__dict__, "sender_name": sender_name})
        [sender] = _parse(build_message(_claimed(), settings, NOW).data)["From"].addresses
        assert (sender.display_name, sender.addr_spec) == (sender_name, "billing@acme.example")

    def test_the_service_layer_refuses_injection_at_the_source(self, store_db):
        """Where the name and addresses are typed, line breaks are refused with a message for that field."""
        with pytest.raises(InvalidInput) as caught:
            add_customer(name="Ada\r\nBcc: victim@evil.example", primary_email="ada@x.example", actor=AGENT)
        assert caught.value.field == "name"
        with pytest.raises(InvalidPrimaryEmail):
            add_customer(name="Ada", primary_email="ada@x.example\r\nBcc: victim@evil.example", actor=AGENT)

    async def test_a_row_tampered_in_the_database_fails_visibly_and_nothing_is_sent(self, account, smtp_server, tmp_path):
        """Defence in depth: a row edited by hand with a header in it is failed with the reason, not sent."""
        _, email_id = queue_create_email()
        placeholder = "%s" if db.is_postgres() else "?"
        db.database.execute_sql(
            f"UPDATE outbox_email SET to_addresses = {placeholder} WHERE id = {placeholder}",
            ('["ada@engines.example\\r\\nBcc: victim@evil.example"]', email_id))
        report = await dispatch_once(smtp_config(account, smtp_server.port, tmp_path))
        assert report.failed == 1 and smtp_server.received == []
        email = get_email(email_id)
        assert email.status is OutboxStatus.failed and "recipient address holds a line break" in email.last_error

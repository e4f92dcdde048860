"""The embedded default: with no PORTAL_SMTP_HOST, delivery goes to a local Maildir."""
from __future__ import annotations

import mailbox

from store import db
from store.outbox import get_email
from store.credentials import open_link
from store.values import LinkPurpose, OutboxStatus

from mailer.dispatcher import dispatch_once
from mailer.transport import MaildirTransport, transport_for

from .conftest import LINK, queue_create_email, smtp_config


async def test_no_smtp_host_delivers_to_the_maildir_and_records_where(account, tmp_path):
    """A fresh machine with no relay: the email is a file in PORTAL_MAILDIR/new, recorded on the row."""
    config = smtp_config(account, 25, tmp_path, smtp_host=None)
    assert isinstance(transport_for(config), MaildirTransport)
    reference, email_id = queue_create_email()

    report = await dispatch_once(config)
    assert report.sent == 1
    box = mailbox.Maildir(config.maildir, create=False)
    [(key, message)] = list(box.items())
    assert message["To"].count("@") == 3 and "set up your billing portal login" in message["Subject"]
    [(purpose, token)] = LINK.findall(message.get_payload()[0].get_payload(decode=True).decode())
    assert open_link(token, LinkPurpose.setup).customer_reference == reference
    email = get_email(email_id)
    assert email.status is OutboxStatus.sent
    placeholder = "%s" if db.is_postgres() else "?"
    via, link = db.database.execute_sql(
        f"SELECT delivered_via, link_url FROM outbox_email WHERE id = {placeholder}", (email_id,)).fetchone()
    assert via == f"maildir {config.maildir}/new/{key}" and (config.maildir / "new" / key).is_file()
    assert link.endswith("/setup/[redacted]")


async def test_an_unwritable_maildir_keeps_the_email_queued_for_a_retry(account, tmp_path):
    """The twin: a Maildir that can't be written is a transient failure, not a lost email."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the Maildir should be")
    config = smtp_config(account, 25, tmp_path, smtp_host=None, maildir=blocker / "maildir")
    _, email_id = queue_create_email()
    report = await dispatch_once(config)
    assert report.retried == 1
    email = get_email(email_id)
    assert email.status is OutboxStatus.queued and "maildir" in email.last_error

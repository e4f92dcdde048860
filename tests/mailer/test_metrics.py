"""The mailer's Prometheus metrics, read from the registry's text after real sends to a real
SMTP server (aiosmtpd): sent and to-retry by kind, the send latency, the queue's depth."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from mailer.dispatcher import Dispatcher
from mailer.metrics import MailerMetrics

from .conftest import queue_create_email, smtp_config


def samples(metrics: MailerMetrics) -> dict[tuple[str, tuple], float]:
    """Every sample of the registry's text format, by name and labels."""
    text = metrics.text().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def _pass(config, metrics: MailerMetrics):
    dispatcher = Dispatcher(config, metrics=metrics)
    try:
        return await dispatcher.run_once()
    finally:
        await dispatcher.close()


async def test_a_real_send_is_counted_by_kind_and_timed(account, smtp_server, tmp_path, fixed_clock):
    config = smtp_config(account, smtp_server.port, tmp_path)
    queue_create_email("Ada Lovelace", "ada@engines.example")
    queue_create_email("Charles Babbage", "charles@engines.example")
    metrics = MailerMetrics()
    assert samples(metrics)[("portal_emails_sent_total", (("kind", "credential_create"),))] == 0
    report = await _pass(config, metrics)
    assert report.sent == 2 and len(smtp_server.received) == 2
    seen = samples(metrics)
    create = (("kind", "credential_create"),)
    assert seen[("portal_emails_sent_total", create)] == 2
    assert seen[("portal_emails_sent_total", (("kind", "password_reset"),))] == 0
    assert seen[("portal_emails_failed_total", create)] == 0
    assert seen[("portal_email_send_seconds_count", create)] == 2
    assert seen[("portal_email_send_seconds_sum", create)] > 0
    assert seen[("portal_email_send_seconds_bucket", (("kind", "credential_create"), ("le", "+Inf")))] == 2
    assert seen[("portal_outbox_queue_depth", ())] == 0
    # Each MailerMetrics has its own registry: a second one starts at nothing.
    assert samples(MailerMetrics())[("portal_emails_sent_total", create)] == 0


async def test_a_refused_send_is_counted_to_retry_and_the_queue_depth_says_it_waits(
        account, smtp_server, tmp_path, fixed_clock):
    config = smtp_config(account, smtp_server.port, tmp_path)
    queue_create_email("Ada Lovelace", "ada@engines.example")
    smtp_server.handler.mail_replies.append("421 4.3.2 Too busy, try later")
    metrics = MailerMetrics()
    report = await _pass(config, metrics)
    assert report.retried == 1
    seen = samples(metrics)
    create = (("kind", "credential_create"),)
    assert seen[("portal_emails_retried_total", create)] == 1
    assert seen[("portal_emails_sent_total", create)] == 0
    assert seen[("portal_outbox_queue_depth", ())] == 1

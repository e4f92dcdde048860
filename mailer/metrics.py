"""The mailer's Prometheus metrics (docs/operations.md lists them).

One registry per MailerMetrics, never prometheus_client's global default: a process
(`portal-console mailer --metrics-port N`) has one, and each test its own, so no count
leaks from one to another.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds from handing a message to the relay (or the Maildir) to its reply.
SEND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MailerMetrics:
    """What a dispatcher counts: emails sent, failed, to retry (by kind), those not sent
    because their link died while they waited, the queue's depth after each pass, and how
    long each send took."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.sent = Counter("portal_emails_sent", "Emails the relay (or the Maildir) accepted, by kind.",
                            ["kind"], registry=self.registry)
        self.failed = Counter("portal_emails_failed", "Emails given up for good (refused, out of tries), by kind.",
                              ["kind"], registry=self.registry)
        self.retried = Counter("portal_emails_retried", "Sends that failed for now and wait to be tried again, by kind.",
                               ["kind"], registry=self.registry)
        self.not_sent = Counter("portal_emails_not_sent",
                                "Emails not sent: their link was replaced, revoked or expired while they waited.",
                                registry=self.registry)
        self.queue_depth = Gauge("portal_outbox_queue_depth",
                                 "Emails queued or being sent, read after each dispatch pass.",
                                 registry=self.registry)
        self.send_seconds = Histogram("portal_email_send_seconds", "How long one send took, by kind.",
                                      ["kind"], buckets=SEND_BUCKETS, registry=self.registry)
        for kind in ("credential_create", "password_reset"):
            # Every series from the start, at 0: a rate() over a fresh process has a base.
            for metric in (self.sent, self.failed, self.retried, self.send_seconds):
                metric.labels(kind=kind)

    def text(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

"""Mailer heartbeats: every running dispatcher (a console's thread, a `portal-console mailer`
process) writes one row, refreshed as it passes over the outbox, and removes it when it stops.
They are how on-call staff see whether anything sends the outbox (store/overview.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from . import clock
from .db import write
from .models import MailerHeartbeat
from .overview_values import MailerBeat

# A dispatcher writes its heartbeat at most this often while it has nothing to send (one small
# write per dispatcher, not one per 2-second poll), and after every pass that sent something.
BEAT_SECONDS = 10.0
# No heartbeat this recent while email waits: nothing is sending it.
QUIET = timedelta(seconds=60)
# A heartbeat this old belongs to a dispatcher that was killed without stopping: it goes.
KEEP = timedelta(hours=1)
# Dispatcher names are cut to the claimer's column width.
_NAME_MAX = 200


def beat(name: str, *, host: str, pid: int, role: str, started_at: datetime, sent: int, failed: int) -> None:
    """Record that the dispatcher ``name`` just passed over the outbox (totals since it started),
    and forget the heartbeats of dispatchers gone for longer than KEEP."""
    now = clock.now()
    name = name[:_NAME_MAX]
    with write():
        updated = MailerHeartbeat.update(last_pass_at=now, sent=sent, failed=failed).where(
            MailerHeartbeat.name == name).execute()
        if not updated:
            MailerHeartbeat.create(name=name, host=host[:200], pid=pid, role=role[:20], started_at=started_at,
                                   last_pass_at=now, sent=sent, failed=failed)
        MailerHeartbeat.delete().where(MailerHeartbeat.last_pass_at < now - KEEP).execute()


def stopped(name: str) -> None:
    """The dispatcher stopped: it no longer counts as running."""
    with write():
        MailerHeartbeat.delete().where(MailerHeartbeat.name == name[:_NAME_MAX]).execute()


def recent_mailers(now: datetime | None = None) -> tuple[MailerBeat, ...]:
    """The dispatchers heard from within KEEP, the most recently heard first."""
    now = now or clock.now()
    rows = (MailerHeartbeat.select().where(MailerHeartbeat.last_pass_at >= now - KEEP)
            .order_by(MailerHeartbeat.last_pass_at.desc(), MailerHeartbeat.name))
    return tuple(MailerBeat(name=r.name, host=r.host, pid=r.pid, role=r.role, started_at=r.started_at,
                            last_pass_at=r.last_pass_at, sent=r.sent, failed=r.failed) for r in rows)

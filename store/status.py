"""What every console screen's status line shows: which database, and how the outbox stands."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from . import clock
from .db import describe_database
from .models import OutboxEmail
from .values import OutboxStatus


@dataclass(frozen=True)
class ConsoleStatus:
    """The status line's figures, read in one small query."""

    database: str
    queued: int  # waiting or being sent
    failed: int
    read_at: datetime


def console_status() -> ConsoleStatus:
    """The database's name (never a password) and the outbox counts; indexed, one round trip."""
    wanted = [OutboxStatus.queued.value, OutboxStatus.sending.value, OutboxStatus.failed.value]
    counts = dict(OutboxEmail.select(OutboxEmail.status, fn.COUNT(OutboxEmail.id))
                  .where(OutboxEmail.status.in_(wanted)).group_by(OutboxEmail.status).tuples())
    return ConsoleStatus(
        database=describe_database(),
        queued=counts.get(OutboxStatus.queued.value, 0) + counts.get(OutboxStatus.sending.value, 0),
        failed=counts.get(OutboxStatus.failed.value, 0),
        read_at=clock.now(),
    )

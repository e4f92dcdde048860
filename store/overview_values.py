"""Plain, frozen values of on-call at a glance (store/overview.py): customers by portal state,
the outbox, the mailers' heartbeats, the portal's sign-ins, and the health verdict that
`portal-console status` exits with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from .values import PortalState


@dataclass(frozen=True)
class StateCount:
    """How many customers are in one portal state."""

    state: PortalState
    count: int


@dataclass(frozen=True)
class OutboxHealth:
    """How the outbox stands: what waits, what failed lately, and what was delivered."""

    queued: int
    sending: int
    # Emails whose delivery failed (refused for good, out of tries) in the last 24 hours.
    failed_last_day: int
    oldest_queued_at: datetime | None
    # Emails delivered in each minute of the last hour, oldest minute first (60 values).
    sent_per_minute: tuple[int, ...]
    read_at: datetime

    @property
    def oldest_queued_age(self) -> timedelta | None:
        return None if self.oldest_queued_at is None else max(timedelta(0), self.read_at - self.oldest_queued_at)

    @property
    def sent_last_hour(self) -> int:
        return sum(self.sent_per_minute)

    @property
    def waiting(self) -> int:
        """Emails not yet delivered nor given up: queued or being sent."""
        return self.queued + self.sending


@dataclass(frozen=True)
class MailerBeat:
    """A dispatcher's last heartbeat: a console's thread or a `portal-console mailer` process."""

    name: str
    host: str
    pid: int
    role: str  # "console" or "mailer"
    started_at: datetime
    last_pass_at: datetime
    sent: int  # since it started
    failed: int


@dataclass(frozen=True)
class SignInFigures:
    """The portal's sign-ins: per hour over the last 24 hours (oldest hour first), and how many
    usernames are locked out now (at the per-username ceiling: every address refused)."""

    signed_in_per_hour: tuple[int, ...]
    failed_per_hour: tuple[int, ...]
    locked_out_now: int

    @property
    def signed_in_last_hour(self) -> int:
        return self.signed_in_per_hour[-1] if self.signed_in_per_hour else 0

    @property
    def failed_last_hour(self) -> int:
        return self.failed_per_hour[-1] if self.failed_per_hour else 0


class Trouble(str, Enum):
    """A kind of trouble on-call staff are paged for; each has its own exit status in
    `portal-console status` (0 means none), the most serious first."""

    database_unreachable = "database_unreachable"
    no_mailer = "no_mailer"
    failures = "failures"

    @property
    def exit_status(self) -> int:
        return _TROUBLE_EXIT[self]


_TROUBLE_EXIT = {Trouble.database_unreachable: 3, Trouble.no_mailer: 4, Trouble.failures: 5}


@dataclass(frozen=True)
class HealthProblem:
    trouble: Trouble
    text: str  # what is wrong and the usual cause, in words


@dataclass(frozen=True)
class Health:
    """The verdict: healthy, or each problem found (most serious first)."""

    problems: tuple[HealthProblem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_status(self) -> int:
        return min((p.trouble.exit_status for p in self.problems), default=0)


@dataclass(frozen=True)
class Overview:
    """Everything the overview screen and `portal-console status` show, read together."""

    database: str
    states: tuple[StateCount, ...]
    outbox: OutboxHealth
    mailers: tuple[MailerBeat, ...]
    signins: SignInFigures
    health: Health
    read_at: datetime

    @property
    def customers(self) -> int:
        return sum(s.count for s in self.states)

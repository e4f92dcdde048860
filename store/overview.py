"""On-call at a glance: customers by portal state, the outbox's health, the running mailers,
the portal's sign-ins, and a verdict (healthy, or each kind of trouble in words). Read by the
console's overview screen and by `portal-console status`; every figure is a small indexed query."""
from __future__ import annotations

from datetime import datetime, timedelta

from peewee import Case, fn

from . import clock
from .activity import ACTOR_SYSTEM
from .db import database, describe_database, is_postgres
from .heartbeats import QUIET, recent_mailers
from .models import ActivityEvent, Customer, OutboxEmail, PortalAttempt, PortalLogin, SignInEvent
from .signin import SIGN_IN, SignInLimits
from .overview_values import (
    Health, HealthProblem, MailerBeat, OutboxHealth, Overview, SignInFigures, StateCount, Trouble,
)
from .values import OutboxStatus, PortalState

# More failed emails than this in 24 hours is trouble (`portal-console status --max-failed`).
FAILURE_THRESHOLD = 10
# The dispatcher's activity event for an email that could not be delivered (refused for good,
# out of tries). Its "email not sent" (a link revoked while the email waited: overtaken by a
# newer one, a new address) is no delivery trouble, and is also what a switched-off type logs.
FAILED_ACTIONS = ("email failed",)


def state_counts() -> tuple[StateCount, ...]:
    """How many customers are in each portal state (the state is derived: no login row means
    Not set up, a suspended login Suspended, a login without a password Awaiting customer setup)."""
    total = Customer.select().count()
    logins, suspended, awaiting = (PortalLogin.select(
        fn.COUNT(PortalLogin.id), fn.COUNT(PortalLogin.suspended_at),
        fn.SUM(Case(None, [((PortalLogin.password_hash.is_null() & PortalLogin.suspended_at.is_null()), 1)], 0)))
        .tuples().get())
    logins, suspended, awaiting = int(logins or 0), int(suspended or 0), int(awaiting or 0)
    return (StateCount(PortalState.not_set_up, max(0, total - logins)),
            StateCount(PortalState.awaiting_customer, awaiting),
            StateCount(PortalState.active, logins - suspended - awaiting),
            StateCount(PortalState.suspended, suspended))


def _seconds(column: str) -> str:
    """SQL for the whole seconds from ``column`` to the parameter (a moment), on either backend."""
    if is_postgres():
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM (CAST(%s AS TIMESTAMP) - {column}))) AS INTEGER)"
    return f"(CAST(strftime('%s', ?) AS INTEGER) - CAST(strftime('%s', {column}) AS INTEGER))"


def _buckets(table: str, column: str, where: str, params: tuple, now: datetime, width: int, count: int) -> tuple[int, ...]:
    """Rows of ``table`` whose ``column`` falls in each of the ``count`` spans of ``width``
    seconds up to ``now``, oldest span first; counted by the database, grouped by span."""
    param = database.param
    moment = OutboxEmail.sent_at.db_value(now)
    start = OutboxEmail.sent_at.db_value(now - timedelta(seconds=width * count))
    sql = (f"SELECT {_seconds(column)} / {width} AS span, COUNT(*) FROM {table} "
           f"WHERE {column} > {param} AND {column} <= {param} AND {where} GROUP BY span")
    spans = [0] * count
    for span, n in database.execute_sql(sql, (moment, start, moment, *params)).fetchall():
        if span is not None and 0 <= int(span) < count:
            spans[count - 1 - int(span)] += int(n)
    return tuple(spans)


def outbox_health(now: datetime | None = None) -> OutboxHealth:
    """Queued and sending now, failures in the last 24 h, the oldest queued email, and the
    deliveries of each minute of the last hour."""
    now = now or clock.now()
    counts = dict(OutboxEmail.select(OutboxEmail.status, fn.COUNT(OutboxEmail.id))
                  .where(OutboxEmail.status.in_([OutboxStatus.queued.value, OutboxStatus.sending.value]))
                  .group_by(OutboxEmail.status).tuples())
    oldest = (OutboxEmail.select(OutboxEmail.created_at).where(OutboxEmail.status == OutboxStatus.queued.value)
              .order_by(OutboxEmail.created_at).limit(1).scalar())
    failed = ActivityEvent.select().where((ActivityEvent.at > now - timedelta(hours=24))
                                          & ActivityEvent.action.in_(FAILED_ACTIONS)
                                          & (ActivityEvent.actor == ACTOR_SYSTEM)).count()
    per_minute = _buckets(OutboxEmail._meta.table_name, "sent_at", f"status = {database.param}",
                          (OutboxStatus.sent.value,), now, 60, 60)
    return OutboxHealth(
        queued=counts.get(OutboxStatus.queued.value, 0), sending=counts.get(OutboxStatus.sending.value, 0),
        failed_last_day=failed, oldest_queued_at=OutboxEmail.created_at.python_value(oldest),
        sent_per_minute=per_minute, read_at=now)


def signin_figures(now: datetime | None = None, limits: SignInLimits = SignInLimits()) -> SignInFigures:
    """Sign-ins and wrong passwords of each hour of the last 24, and how many usernames are at
    the per-username ceiling now (every address refused until the window passes)."""
    now = now or clock.now()
    table, param = SignInEvent._meta.table_name, database.param

    def hourly(event: str) -> tuple[int, ...]:
        return _buckets(table, "at", f"event = {param}", (event,), now, 3600, 24)

    window = limits.per_username
    locked = (PortalAttempt.select(PortalAttempt.subject)
              .where((PortalAttempt.kind == SIGN_IN) & (PortalAttempt.at > now - window.window))
              .group_by(PortalAttempt.subject).having(fn.COUNT(PortalAttempt.id) >= window.attempts).count())
    return SignInFigures(signed_in_per_hour=hourly("signed in"), failed_per_hour=hourly("wrong password"),
                         locked_out_now=locked)


def waited(delta: timedelta) -> str:
    """How long, as the overview and `status` say it: 45 s, 12 min, 3 h (seconds up to two
    minutes, minutes up to two hours: on-call reads ages of a mailer's silence here)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def judge(outbox: OutboxHealth, mailers: tuple[MailerBeat, ...], now: datetime,
          failure_threshold: int = FAILURE_THRESHOLD) -> Health:
    """The verdict on what was read: each kind of trouble found, in words, most serious first."""
    problems: list[HealthProblem] = []
    alive = [m for m in mailers if m.last_pass_at >= now - QUIET]
    if outbox.waiting and not alive:
        waiting = f"{outbox.waiting:,} email{'s' if outbox.waiting != 1 else ''} waiting"
        if outbox.oldest_queued_age is not None:
            waiting += f", the oldest for {waited(outbox.oldest_queued_age)}"
        if mailers:
            last = mailers[0]
            heard = (f"the last mailer ({last.role} on {last.host}, pid {last.pid}) passed "
                     f"{waited(now - last.last_pass_at)} ago")
        else:
            heard = "no mailer has run in the last hour"
        problems.append(HealthProblem(Trouble.no_mailer, (
            f"No mailer is sending: {waiting}; {heard}. Usually the consoles run with "
            "PORTAL_MAILER_IN_CONSOLE=false and no `portal-console mailer` process is running: start one.")))
    if outbox.failed_last_day > failure_threshold:
        problems.append(HealthProblem(Trouble.failures, (
            f"{outbox.failed_last_day:,} emails failed in the last 24 h (more than {failure_threshold}); "
            "`portal-console outbox list --status failed` says why.")))
    return Health(tuple(problems))


def unreachable(error: BaseException) -> Health:
    """The verdict when the database could not be read at all."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Health((HealthProblem(Trouble.database_unreachable, f"The database is unreachable: {first}"),))


def read_overview(*, failure_threshold: int = FAILURE_THRESHOLD) -> Overview:
    """Every figure of the overview, read at one moment, and the verdict on them."""
    now = clock.now()
    outbox = outbox_health(now)
    mailers = recent_mailers(now)
    return Overview(database=describe_database(), states=state_counts(), outbox=outbox, mailers=mailers,
                    signins=signin_figures(now), health=judge(outbox, mailers, now, failure_threshold),
                    read_at=now)

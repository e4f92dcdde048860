"""`portal-console status [--json]`: on-call's figures in one look, and an exit status a cron
job or a monitoring agent can page on.

Exit status: 0 healthy; 3 the database is unreachable; 4 email waits and no mailer has run
for a minute; 5 more emails failed in the last 24 h than --max-failed. With several troubles,
the lowest of these (the most serious) is returned; every one is printed. (1 and 2 keep their
meaning for every command: a configuration or domain error, a usage error.)
"""
from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from .output import plain, print_json, shown


# The store's modules are imported by the commands that run, not when the parser is built:
# `portal-console` with no command opens the console, whose start-up should not pay for them.

def _ago(now: datetime, then: datetime) -> str:
    from store.overview import waited

    return waited(now - then)


def _age(age: timedelta | None) -> str:
    from store.overview import waited

    return "none queued" if age is None else f"oldest queued {waited(age)} ago"


def _print_text(overview, health) -> None:
    verdict = "healthy" if health.healthy else f"TROUBLE (exit status {health.exit_status})"
    if overview is None:
        print(f"portal-console status: {verdict}")
    else:
        print(f"portal-console status at {overview.read_at:%Y-%m-%d %H:%M:%S} UTC, "
              f"{shown(overview.database)}: {verdict}")
    for problem in health.problems:
        print(f"  ! {shown(problem.text)}")
    if overview is None:
        return
    states = ", ".join(f"{s.state.label} {s.count:,}" for s in overview.states)
    print(f"Customers: {overview.customers:,} ({states})")
    box = overview.outbox
    print(f"Outbox:    {box.queued:,} queued, {box.sending:,} sending, {box.failed_last_day:,} failed in 24 h, "
          f"{_age(box.oldest_queued_age)}; {box.sent_last_hour:,} delivered in the last hour")
    if not overview.mailers:
        print("Mailers:   none heard from in the last hour")
    for m in overview.mailers:
        print(f"Mailer:    {shown(m.role)} on {shown(m.host)}, pid {m.pid}: last pass "
              f"{_ago(overview.read_at, m.last_pass_at)} ago, {m.sent:,} sent, {m.failed:,} failed since "
              f"{m.started_at:%Y-%m-%d %H:%M} UTC")
    s = overview.signins
    print(f"Portal:    {s.signed_in_last_hour:,} sign-ins and {s.failed_last_hour:,} wrong passwords in the "
          f"last hour ({sum(s.signed_in_per_hour):,} and {sum(s.failed_per_hour):,} in 24 h); "
          f"{s.locked_out_now:,} usernames locked out now")


def cmd_status(args: argparse.Namespace) -> int:
    from peewee import DatabaseError, InterfaceError

    from store import db
    from store.config import load_config
    from store.overview import read_overview, unreachable

    overview = None
    try:
        db.init(load_config().database_url)
        overview = read_overview(failure_threshold=args.max_failed)
        health = overview.health
    except (DatabaseError, InterfaceError) as error:
        health = unreachable(error)
    finally:
        db.close()
    if args.json:
        result: dict[str, Any] = {"healthy": health.healthy, "exit_status": health.exit_status,
                                  "problems": plain(health.problems), "overview": None}
        if overview is not None:
            result["overview"] = {k: v for k, v in plain(overview).items() if k != "health"}
        print_json(result)
    else:
        _print_text(overview, health)
    return health.exit_status


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a number of emails, 0 or more, not {text!r}")
    return int(text)


def add_commands(sub: argparse._SubParsersAction) -> None:
    from store.overview import FAILURE_THRESHOLD

    status = sub.add_parser(
        "status", help="are portal emails going out, can customers sign in? (exit 0: healthy)",
        description="The overview's figures, and an exit status to page on: 0 healthy, 3 database "
                    "unreachable, 4 email waiting and no mailer heard for a minute, 5 more failed emails "
                    "in 24 h than --max-failed (with several, the lowest).")
    status.add_argument("--json", action="store_true", help="the same figures as JSON, for scripts")
    status.add_argument("--max-failed", type=_count, default=FAILURE_THRESHOLD, metavar="N",
                        help=f"failed emails in 24 h that are still healthy (default {FAILURE_THRESHOLD})")
    # The command opens the database itself: an unreachable one is a finding (exit 3), not an error.
    status.set_defaults(handler=cmd_status, needs_db=False)

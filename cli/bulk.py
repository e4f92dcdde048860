"""`portal-console portal send-all`: the one email each customer's state allows, to every
customer of a state or a search, queued in batches; progress on a terminal, one summary line
(or --json for scripts). A dry run counts without writing. Ctrl+C stops after the batch in
hand: what was queued stays queued, and the summary says so."""
from __future__ import annotations

import argparse
import sys

from store.bulk import RECENT_HOURS
from store.values import PortalState

from .output import print_json, shown


def _hours(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a number of hours, 0 or more, not {text!r}")
    return int(text)


def cmd_send_all(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from store.bulk import send_all
    from store.config import load_config

    stop = {"asked": False}
    options = dict(actor=load_config().agent, state=PortalState(args.state) if args.state else None,
                   match=args.match, recent_hours=args.skip_recent_hours, dry_run=args.dry_run,
                   cancelled=lambda: stop["asked"])
    if sys.stderr.isatty() and not args.json:
        with Progress(transient=True) as bar:
            task = bar.add_task("Checking" if args.dry_run else "Queueing", total=None)
            result = _run(send_all, stop, progress=lambda done, total: bar.update(task, completed=done, total=total),
                          **options)
    else:
        result = _run(send_all, stop, **options)
    if args.json:
        print_json({**_json(result), "summary": result.summary})
    else:
        print(shown(result.summary))
    return 130 if result.cancelled else 0


def _run(send_all, stop: dict, **options):
    """Ctrl+C asks the send to stop after its current batch (a batch is whole or absent)."""
    import signal

    previous = signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("asked", True))
    try:
        return send_all(**options)
    finally:
        signal.signal(signal.SIGINT, previous)


def _json(result) -> dict:
    return {"matching": result.matching, "dry_run": result.dry_run, "cancelled": result.cancelled,
            "queued": {kind.value: n for kind, n in result.queued},
            "skipped": {reason.value: n for reason, n in result.skipped},
            "skip_recent_hours": result.recent_hours}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """`send-all` joins the `portal` actions (cli/portal_actions.py registers that group first)."""
    portal = sub.choices["portal"]
    actions = next(a for a in portal._actions if isinstance(a, argparse._SubParsersAction))
    send = actions.add_parser(
        "send-all", help="queue the one email each customer's state allows, to many customers",
        description="Queue, for every customer of --state and --match (default: all), the one email "
                    "its state allows. Skipped and counted: customers without a valid Primary Email "
                    "Address, and those with an unused link sent in the last --skip-recent-hours. "
                    "Queued in transactions of 500; Ctrl+C stops after the one in hand (exit 130), "
                    "keeping what was queued. Bulk emails go after any email sent by hand.")
    send.add_argument("--state", choices=[state.value for state in PortalState])
    send.add_argument("--match", metavar="TEXT", help="only customers the search finds for TEXT")
    send.add_argument("--dry-run", action="store_true", help="count what would be sent; write nothing")
    send.add_argument("--skip-recent-hours", type=_hours, default=RECENT_HOURS, metavar="N",
                      help=f"skip customers with an unused link sent in the last N hours "
                           f"(default {RECENT_HOURS}; 0: none)")
    send.add_argument("--json", action="store_true", help="the counts as JSON")
    send.set_defaults(handler=cmd_send_all)

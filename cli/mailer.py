"""The `portal-console mailer [--once]` subcommand: the dispatcher as its own process."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from .metrics import port_number, start_metrics_server

if TYPE_CHECKING:
    from store.config import Config

# On SIGINT/SIGTERM the message being sent gets this long to finish before it is cancelled
# and its claim released.
STOP_GRACE_SECONDS = 5.0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this part's subcommands on the main parser."""
    mailer = sub.add_parser(
        "mailer", help="send queued emails (runs until SIGINT/SIGTERM; --once: one pass)",
        description="Deliver the outbox: to PORTAL_SMTP_HOST, or to PORTAL_MAILDIR when no host is set.")
    mailer.add_argument("--once", action="store_true", help="send what is due now, print a summary and exit")
    mailer.add_argument("--metrics-port", type=port_number, metavar="N",
                        help="serve Prometheus metrics at http://PORTAL_METRICS_HOST:N/metrics "
                             "(default host 127.0.0.1; docs/operations.md lists them)")
    mailer.set_defaults(handler=cmd_mailer)


def cmd_mailer(args: argparse.Namespace) -> int:
    """Run the dispatcher: one pass with --once, else until a signal stops it."""
    from store.config import load_config

    from mailer.dispatcher import dispatch_once

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    config = load_config()
    if args.once:
        if args.metrics_port is not None:
            print("portal-console mailer: --metrics-port serves a running mailer; not with --once", file=sys.stderr)
            return 2
        report = asyncio.run(dispatch_once(config))
        print(report.summary())
        return 0
    metrics = None
    if args.metrics_port is not None:
        from mailer.metrics import MailerMetrics

        metrics = MailerMetrics()
        start_metrics_server(metrics.registry, config.metrics_host, args.metrics_port, "mailer")
    asyncio.run(_serve(config, metrics))
    return 0


async def _serve(config: Config, metrics=None) -> None:
    from mailer.dispatcher import Dispatcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    dispatcher = Dispatcher(config, metrics=metrics)
    dispatcher.stop_grace = STOP_GRACE_SECONDS
    where = f"{config.smtp_host}:{config.smtp_port}" if config.smtp_host else f"the Maildir {config.maildir}"
    logging.getLogger("mailer").info("%s: delivering to %s, polling every %g s",
                                     dispatcher.name, where, config.mailer_poll_seconds)
    try:
        await dispatcher.serve(stop)
    finally:
        await dispatcher.close()
        logging.getLogger("mailer").info("%s: stopped", dispatcher.name)

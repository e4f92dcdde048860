"""`portal-console` (the console) and `portal-console demo`: the program builds the
configuration, logging and the console's background mailer, then hands them to the
Textual app, which knows nothing of where they came from."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from store.config import Config, load_config

if TYPE_CHECKING:
    from mailer.background import BackgroundMailer


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `demo` (the console itself is the command with no subcommand)."""
    demo = sub.add_parser("demo", help="create or refresh a demo database, then open the console")
    demo.add_argument("--customers", type=int, default=60, metavar="N")
    demo.add_argument("--seed-only", action="store_true", help="fill the database but don't open the console")
    demo.set_defaults(handler=cmd_demo)


def console_mailer(config: Config) -> BackgroundMailer | None:
    """The dispatcher that runs beside the console, or None with PORTAL_MAILER_IN_CONSOLE off
    (then a `portal-console mailer` process sends)."""
    if not config.mailer_in_console:
        return None
    from mailer.background import BackgroundMailer

    return BackgroundMailer(config)


def cmd_console(args: argparse.Namespace) -> int:
    """Open the console for the configured agent (the store is already initialised)."""
    from store import db
    from tui.app import PortalConsoleApp

    config = load_config()
    log_to_file(config)
    warnings = (db.search_index_problem,) if db.search_index_problem else ()
    PortalConsoleApp(agent=config.agent, mailer=console_mailer(config), warnings=warnings).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from store import demo

    from .progress import stage_progress

    with stage_progress() as progress:
        count = demo.seed(args.customers, progress=progress)
    print(f"Demo database ready: {count} customers. Active demo customers sign in to the portal "
          f"with the password {demo.DEMO_PASSWORD!r}.", file=sys.stderr)
    if args.seed_only:
        return 0
    return cmd_console(args)


def log_to_file(config: Config) -> None:
    """Warnings and errors (the mailer's, the tracebacks of unexpected ones) go to
    PORTAL_LOG_FILE: the terminal belongs to the console."""
    root = logging.getLogger()
    try:
        config.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(config.log_file, encoding="utf-8")
    except OSError:
        root.addHandler(logging.NullHandler())  # a log we can't write must not stop the console
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)

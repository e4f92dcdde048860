"""`portal-console`: the console, and commands for on-call staff and scripts.

Every command goes through the same service layer as the console. Exit codes:
0 success, 1 a domain error (one line on stderr), 2 a usage error.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from peewee import InterfaceError, OperationalError

from store.config import ConfigError, load_config
from store.errors import PortalError, StaleEdit

from .output import shown

DESCRIPTION = "portal-console: the console, and commands for on-call staff and scripts."


class _Parser(argparse.ArgumentParser):
    """The parser of `portal-console` and, through add_subparsers, of every subcommand.

    argparse leaves arguments a subcommand doesn't know to the top-level parser, whose
    error then shows the top-level usage; here the subcommand that got them refuses
    them, with its own usage. ``one_of``: options of which the command needs at least one.
    """

    one_of: tuple[str, ...] = ()

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(shown(a) for a in extras)}")
        if self.one_of and all(getattr(namespace, o[2:].replace("-", "_"), None) is None for o in self.one_of):
            self.error(f"give at least one of {', '.join(self.one_of)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    """`portal-console` with no command opens the console; each module here adds its commands."""
    from . import bulk, console, customers, db, mailer, portal_actions, portal_side, records, serve, status

    parser = _Parser(prog="portal-console", description=DESCRIPTION)
    parser.set_defaults(handler=console.cmd_console, needs_db=True)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (console, customers, portal_actions, portal_side, bulk, records, mailer, serve, status, db):
        module.add_commands(sub)
    return parser


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command and its options. `portal-console` alone opens the console: the parser of
    every command (some 30 subcommands: about 25 ms of the console's start) is built only
    when there is something to parse."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        from .console import cmd_console

        return argparse.Namespace(handler=cmd_console, needs_db=True)
    return build_parser().parse_args(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `portal-console` command."""
    args = parse_arguments(argv)
    try:
        config = load_config()
        if args.needs_db:
            from store import db

            db.init(config.database_url)
            if db.search_index_problem and args.handler.__name__ != "cmd_console":
                print(f"portal-console: warning: {shown(db.search_index_problem)}", file=sys.stderr)
        return args.handler(args)
    except ConfigError as error:
        print(f"portal-console: configuration: {shown(error)}", file=sys.stderr)
        return 1
    except StaleEdit as error:
        again = f" Run `portal-console customer show {shown(args.reference)}` for the current version." \
            if getattr(args, "reference", None) else ""
        print(f"portal-console: {shown(error.message)}{again}", file=sys.stderr)
        return 1
    except PortalError as error:
        print(f"portal-console: {shown(error.message)}", file=sys.stderr)
        return 1
    except (OperationalError, InterfaceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"portal-console: the database is unavailable: {shown(first)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

"""`portal-console db copy --from sqlite:///... --to postgresql://...`: move an embedded
database to PostgreSQL when a team outgrows one console (docs/team.md)."""
from __future__ import annotations

import argparse

from .output import shown


def add_commands(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the database: copy an embedded one to PostgreSQL").add_subparsers(
        metavar="ACTION", required=True)
    copy = db.add_parser(
        "copy", help="copy every table from a SQLite file to an empty PostgreSQL database",
        description="Copy every table from a SQLite file to an empty PostgreSQL database, in one "
                    "transaction, and compare the row counts. A target that holds data is refused.")
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///path/to/portal.db")
    copy.add_argument("--to", dest="target", required=True, metavar="URL",
                      help="postgresql://user@host/database (empty)")
    # Neither database is PORTAL_DATABASE_URL's: the command opens the two it names.
    copy.set_defaults(handler=cmd_db_copy, needs_db=False)


def cmd_db_copy(args: argparse.Namespace) -> int:
    from store.copy import copy_database

    from .progress import stage_progress  # rich's progress bars: only for this command

    with stage_progress() as progress:
        report = copy_database(args.source, args.target, progress=progress)
    for table, rows in report.tables:
        print(f"{shown(table):24} {rows:>10} rows")
    print(f"Copied {report.rows} rows in {len(report.tables)} tables in {report.seconds:.1f} s; "
          f"the row counts match. Point PORTAL_DATABASE_URL at the new database.")
    return 0

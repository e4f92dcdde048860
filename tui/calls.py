"""Service-layer calls from the console's thread workers.

Each call opens the database connection of the worker's thread and closes it
after: a connection is never left idle in a pooled thread, so a restarted
database server heals by itself on the next call. A database that is locked or
gone becomes a domain error, shown in the one error modal like every other failure.
"""
from __future__ import annotations

from typing import Callable, ParamSpec, TypeVar

from peewee import InterfaceError, OperationalError

from store import db
from store.errors import PortalError

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseUnavailable(PortalError):
    title = "Database unavailable"


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one service-layer function in this (worker) thread; blocking, never on the event loop."""
    try:
        with db.database.connection_context():
            return fn(*args, **kwargs)
    except (OperationalError, InterfaceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatabaseUnavailable(
            f"The database could not be reached ({first}). Nothing was changed; try again."
        ) from None

"""Console test fixtures: a seeded demo database on a fixed clock, and the app ready to drive.

Snapshots are stable because the clock stands still, the demo data is made the
same way every time, and `settle()` switches off the cursor blink before the picture.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from store import clock, db, demo
from tui.app import PortalConsoleApp

AGENT = "alice"
# Both sizes every snapshot is taken at: the smallest supported terminal and a roomy one.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def demo_db(tmp_path, fixed_clock: clock.FixedClock) -> Iterator[str]:
    """A fresh SQLite file with the 60 demo customers, on the fixed clock; yields its URL."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    db.init(url)
    demo.seed(customers=60)
    yield url
    db.close()


@pytest.fixture
def demo_postgres(postgres_url: str, fixed_clock: clock.FixedClock) -> Iterator[str]:
    """The demo customers on the session's PostgreSQL database (skips when none answers)."""
    from tests.conftest import _empty_tables

    db.init(postgres_url)
    _empty_tables()
    demo.seed(customers=60)
    yield postgres_url
    db.close()


@pytest.fixture
def console_app(demo_db: str) -> Callable[..., PortalConsoleApp]:
    """A factory of consoles on the demo database: console_app(poll_seconds=0.2, ...)."""

    def make(**options) -> PortalConsoleApp:
        options.setdefault("search_delay", 0.0)
        return PortalConsoleApp(agent=AGENT, **options)

    return make


def no_blink(app: PortalConsoleApp) -> None:
    """Stop every input's cursor blinking on the current screen, so a snapshot shows it steadily."""
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def settle(pilot: Pilot, timeout: float = 10.0) -> None:
    """Wait until no worker runs and the messages they posted are handled, then stop cursor blinking."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in range(2):
        await pilot.pause()
        while any(worker.is_running for worker in pilot.app.workers) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await pilot.pause()
    no_blink(pilot.app)


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the console run in real time (its refresh timers fire) until ``condition()`` holds."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition()


async def open_customer(pilot: Pilot, reference: str) -> None:
    """Open a customer's dashboard as Enter on a search result does, and wait for it to load."""
    await settle(pilot)
    await pilot.app.open_customer(reference)
    await settle(pilot)


def count(table: str, where: str = "1=1", params: tuple = ()) -> int:
    """How many rows of a table match, read with plain SQL."""
    return db.database.execute_sql(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]


def login_of(reference: str) -> tuple | None:
    """The (username, password_hash) of a customer's portal_login row, or None when there is none."""
    return db.database.execute_sql(
        "SELECT l.username, l.password_hash FROM portal_login l JOIN customer c ON c.id = l.customer_id "
        "WHERE c.reference = ?", (reference,)).fetchone()

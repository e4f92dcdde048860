"""The status line on every main screen: the database, whether this console sends email,
the queue, and when it was read; a failed read says so instead of showing old figures."""
from __future__ import annotations

import asyncio

from store import panel
from store.models import OutboxEmail
from store.values import OutboxStatus
from tests.tui.conftest import AGENT, open_customer, settle
from tui.widgets.status_line import StatusLine


def line_of(app) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def test_every_main_screen_shows_the_database_and_the_queue(console_app) -> None:
    """Search, dashboard, Outbox and Settings each carry the line, with the figures of the database."""
    panel.send_portal_email("C000003", actor=AGENT)
    failed = panel.send_portal_email("C000002", actor=AGENT).outbox_id
    OutboxEmail.update(status=OutboxStatus.failed.value).where(OutboxEmail.id == failed).execute()
    app = console_app(poll_seconds=60.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        expected = "SQLite console.db · mailer: not here · 1 queued · 1 failed · 09:00:00 UTC"
        assert line_of(app) == expected
        await open_customer(pilot, "C000003")
        assert line_of(app) == expected
        for key in ("ctrl+o", "ctrl+s"):
            await pilot.press(key)
            await settle(pilot)
            assert line_of(app) == expected, key


async def test_a_failed_read_says_not_refreshed(console_app, tmp_path) -> None:
    """The database goes away: the line says so rather than keep the last figures as if current."""
    from peewee import SqliteDatabase

    from store import db

    app = console_app(poll_seconds=60.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        working = db.database.obj
        (tmp_path / "gone").mkdir()
        db.database.initialize(SqliteDatabase(str(tmp_path / "gone")))
        try:
            app.screen.query_one(StatusLine)._read()
            await settle(pilot)
            assert line_of(app).startswith("Not refreshed: The database could not be reached")
        finally:
            db.database.initialize(working)
        await asyncio.sleep(0)
        assert app.is_running


async def test_what_the_program_found_wrong_at_start_is_said_on_the_first_screen(console_app) -> None:
    """Search without its index (pg_trgm missing) is slow, not broken: the agent is told why."""
    problem = "Customer search reads every customer: the pg_trgm extension could not be created."
    app = console_app(warnings=(problem,))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        [note] = [n for n in app._notifications if n.title == "At start"]
        assert note.message == problem and note.severity == "warning"

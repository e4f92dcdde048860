"""The console runs the outbox dispatcher beside it (PORTAL_MAILER_IN_CONSOLE, the default):
an email pushed from PORTAL is delivered while the agent watches, and quitting stops it."""
from __future__ import annotations

import asyncio
import mailbox
from email.utils import getaddresses

from textual.widgets import DataTable

from cli.console import console_mailer
from mailer.background import BackgroundMailer
from store.config import Config, load_config
from tui.app import PortalConsoleApp

from .conftest import AGENT, open_customer, settle


def mailer_for(database_url: str, tmp_path) -> BackgroundMailer:
    """The mailer the program hands the console (PORTAL_MAILER_IN_CONSOLE on, the default),
    delivering to a Maildir under tmp_path and polling quickly."""
    config = Config(database_url=database_url, smtp_host=None, maildir=tmp_path / "maildir",
                    mailer_poll_seconds=0.05)
    mailer = console_mailer(config)
    assert isinstance(mailer, BackgroundMailer)
    return mailer


def status_of_last_email() -> str:
    from store import db

    return db.database.execute_sql("SELECT status FROM outbox_email ORDER BY id DESC LIMIT 1").fetchone()[0]


class TestMailerInConsole:
    async def test_an_email_sent_from_portal_is_delivered_and_the_emails_section_says_so(
            self, demo_db, tmp_path) -> None:
        """Send on Ken Thompson's PORTAL: one message to his three addresses lands in the Maildir,
        and his Emails section turns from queued to sent without a reload."""
        mailer = mailer_for(demo_db, tmp_path)
        app = PortalConsoleApp(agent=AGENT, mailer=mailer, poll_seconds=0.2, search_delay=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(50):
                if mailer.running:
                    break
                await asyncio.sleep(0.1)
            assert mailer.running
            await open_customer(pilot, "C000006")
            await pilot.press("m")
            await settle(pilot)
            for _ in range(100):
                if status_of_last_email() == "sent":
                    break
                await asyncio.sleep(0.1)
            assert status_of_last_email() == "sent"
            await pilot.press("e")
            await asyncio.sleep(0.5)
            await settle(pilot)
            table = app.screen.query_one("#emails-table", DataTable)
            assert str(table.get_row_at(0)[0]).startswith("sent")
        assert not mailer.running
        messages = list(mailbox.Maildir(tmp_path / "maildir", create=False))
        assert len(messages) == 1
        assert [address for _, address in getaddresses([messages[0]["To"]])] == [
            "ken@unix.example", "dmr@unix.example", "ops@unix.example"]

    async def test_with_the_mailer_switched_off_the_console_only_queues(
            self, demo_db, tmp_path, monkeypatch) -> None:
        """The twin: PORTAL_MAILER_IN_CONSOLE=false, read as the program reads it, gives the console
        no mailer; the email stays queued (a mailer process sends) and the status line says so."""
        monkeypatch.setenv("PORTAL_MAILER_IN_CONSOLE", "false")
        monkeypatch.setenv("PORTAL_MAILDIR", str(tmp_path / "maildir"))
        mailer = console_mailer(load_config())
        assert mailer is None
        app = PortalConsoleApp(agent=AGENT, mailer=mailer, poll_seconds=0.2, search_delay=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_customer(pilot, "C000006")
            await pilot.press("m")
            await settle(pilot)
            await asyncio.sleep(1.0)  # five polls, and twice the console's mailer start delay
            assert status_of_last_email() == "queued"
            assert "mailer: not here" in str(app.screen.query_one("StatusLine").render())
        assert not (tmp_path / "maildir").exists() or not list(mailbox.Maildir(tmp_path / "maildir", create=False))

"""`python -m tui.screenshots [DIR]`: the README's pictures of every screen (`make screenshots`).

The console runs headless on a throw-away SQLite demo database with the clock
standing at a fixed moment, so the same code and data give the same pictures.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable, Sequence

from textual.pilot import Pilot
from textual.widgets import Input

from store import clock, db, demo
from tui.app import PortalConsoleApp

SIZE = (120, 40)
# The moment every picture is taken at: dates on screen never move.
SHOT_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
AGENT = "alice"
CUSTOMERS = 60


async def settle(pilot: Pilot) -> None:
    """Wait until the workers are done and the screen has redrawn; stop cursors blinking."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def home(pilot: Pilot) -> None:
    """The search screen as the console opens: every customer, by name."""


def customer(reference: str, tab: str | None = None) -> Callable[[Pilot], Awaitable[None]]:
    """Open a customer's dashboard (on PORTAL, or on ``tab``)."""

    async def drive(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, PortalConsoleApp)
        await app.open_customer(reference)
        await settle(pilot)
        if tab is not None:
            await app.run_action(f"show_tab('{tab}')", app.screen)

    return drive


def customer_then(reference: str, *keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """Open a customer's dashboard, then press keys there."""

    async def drive(pilot: Pilot) -> None:
        await customer(reference)(pilot)
        await press(*keys)(pilot)

    return drive


def press(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """Press keys from the search screen, as the agent would, letting each one's work finish."""

    async def drive(pilot: Pilot) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return drive


@dataclass(frozen=True)
class Shot:
    """One picture: its file name, what it shows, and the keys or calls that get there."""

    name: str
    caption: str
    drive: Callable[[Pilot], Awaitable[None]]


# Fixed demo customers (store/demo.py): C000001 is active, C000002 awaiting, C000003 not set up.
SHOTS = (
    Shot("search", "Customer search: results as you type, filtered by portal state", home),
    Shot("dashboard", "Customer Dashboard, Emails section: a failed email, and r to send it again",
         customer("C000003", "emails")),
    Shot("portal-not-set-up", "PORTAL, not set up: set a username, or Send Create Credentials Email",
         customer("C000003")),
    Shot("portal-awaiting", "PORTAL, awaiting customer setup: Update, Delete, Send Create Credentials Email",
         customer("C000002")),
    Shot("portal-active", "PORTAL, active: Send Reset Password Email; Delete removes the password too",
         customer("C000001")),
    Shot("edit-customer", "Edit customer: name, company and Primary Email Address; a new address stops old links",
         customer_then("C000005", "c")),
    Shot("settings", "Settings: Email Notifications, portal URL, link lifetimes, sender, link use",
         press("ctrl+s")),
    # Newest first: the third row is the failed email, so its error shows in full below the table.
    Shot("outbox", "Outbox: every queued, sending, sent and failed email; the failed one can be sent again",
         press("ctrl+o", "down", "down")),
    # Three customers of one company marked in the results, then m: the counts before anything is sent.
    Shot("bulk-email", "Bulk email: marked search results, and the question with who gets which email",
         press(*"hooli", "down", "space", "space", "space", "m")),
    # The demo has email queued and no mailer running: the overview shows its warning.
    Shot("overview", "Overview (F2): customers by portal state, outbox health, mailers, portal sign-ins",
         press("f2")),
)


async def take(shot: Shot, out_dir: Path) -> Path:
    """Run the console headless, drive it to the shot's screen and write its SVG."""
    app = PortalConsoleApp(agent=AGENT, search_delay=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await shot.drive(pilot)
        await settle(pilot)
        path = out_dir / f"{shot.name}.svg"
        path.write_text(app.export_screenshot(title=f"Portal Console: {shot.caption}"), encoding="utf-8")
    return path


def build_demo(directory: Path) -> None:
    """A fresh demo database in ``directory``: the demo customers and an email of every status."""
    db.init(f"sqlite:///{directory / 'screenshots.db'}")
    demo.seed(customers=CUSTOMERS, actor="demo")
    demo.seed_emails(actor=AGENT)


def take_all(out_dir: Path, names: Sequence[str] = ()) -> list[Path]:
    """Write every shot (or those named) into ``out_dir``; return the files written."""
    chosen = [shot for shot in SHOTS if not names or shot.name in names]
    unknown = set(names) - {shot.name for shot in SHOTS}
    if unknown:
        raise SystemExit(f"unknown screenshot(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(shot.name for shot in SHOTS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = clock.use(clock.FixedClock(SHOT_TIME))
    try:
        with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as tmp:
            build_demo(Path(tmp))
            try:
                return [asyncio.run(take(shot, out_dir)) for shot in chosen]
            finally:
                db.close()
    finally:
        clock.use(previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: the output folder (default screenshots/) and optionally which shots."""
    parser = argparse.ArgumentParser(prog="python -m tui.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="screenshots", type=Path)
    parser.add_argument("--only", nargs="+", default=(), metavar="NAME", help="take only these shots")
    args = parser.parse_args(argv)
    for path in take_all(args.out_dir, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Overview (F2): on-call's first look. Healthy and each warning at 80x24 and 120x40, refreshed
while open, and a portal state's count opens the search filtered by it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Select, Static

from store import clock, demo, heartbeats
from store.customers import add_customer
from store.dispatch import Failed, claim_due, record_outcomes
from store.panel import send_portal_email
from store.values import PortalState
from tests.tui.conftest import SIZES, AGENT, open_customer, settle, wait_for
from tui.screens.overview import OverviewScreen
from tui.screens.search import SearchScreen


def _mailer_beats(sent: int = 3) -> None:
    heartbeats.beat("console-host:4242:abcdef", host="console-host", pid=4242, role="console",
                    started_at=clock.now() - timedelta(hours=1), sent=sent, failed=0)


def _failures(n: int) -> None:
    for i in range(n):
        ref = add_customer(name=f"Bounced {i}", company="", primary_email=f"bounce{i}@example.com",
                           actor=AGENT).reference
        send_portal_email(ref, actor=AGENT)  # replaces the automatic email's link: that one is not sent
    claim = claim_due("test-dispatcher", limit=3 * n, lease_seconds=300)
    record_outcomes([Failed(e.id, "550 5.1.1 no such mailbox") for e in claim.emails], "test-dispatcher")


async def open_overview(pilot: Pilot) -> OverviewScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OverviewScreen)
    return screen


def verdict(screen: OverviewScreen) -> str:
    return str(screen.query_one("#overview-verdict", Static).content)


class TestOverviewSnapshots:
    @pytest.mark.parametrize("size", SIZES)
    def test_healthy(self, snap_compare, console_app, demo_db, fixed_clock, size) -> None:
        """A mailer heard just now, deliveries in the sparkline, the queued email on its way."""
        demo.seed_emails()
        fixed_clock.advance(timedelta(minutes=3))
        _mailer_beats()
        assert snap_compare(console_app(), terminal_size=size, run_before=open_overview)

    @pytest.mark.parametrize("size", SIZES)
    def test_no_mailer_while_email_waits(self, snap_compare, console_app, demo_db, fixed_clock, size) -> None:
        """Email queued and no mailer heard for a minute: the warning says the usual cause."""
        demo.seed_emails()
        fixed_clock.advance(timedelta(minutes=3))
        assert snap_compare(console_app(), terminal_size=size, run_before=open_overview)

    @pytest.mark.parametrize("size", SIZES)
    def test_failures_above_the_threshold(self, snap_compare, console_app, demo_db, fixed_clock, size) -> None:
        """Eleven bounced emails in 24 h, a mailer running: only the failures are trouble."""
        _failures(11)
        _mailer_beats(sent=0)
        assert snap_compare(console_app(), terminal_size=size, run_before=open_overview)


async def test_f2_opens_it_from_a_dashboard_and_esc_goes_back(console_app, demo_db) -> None:
    app = console_app(poll_seconds=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(pilot, "C000001")
        await open_overview(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, OverviewScreen)


async def test_it_follows_the_outbox_while_open(console_app, demo_db, fixed_clock) -> None:
    """Live: a mailer starting elsewhere turns the warning into healthy without a key."""
    send_portal_email("C000001", actor=AGENT)
    app = console_app(poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_overview(pilot)
        assert "No mailer is sending" in verdict(screen)
        _mailer_beats()
        await wait_for(lambda: verdict(screen).startswith("Healthy"))


async def test_a_state_count_opens_the_search_filtered_by_it(console_app, demo_db) -> None:
    app = console_app(poll_seconds=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_overview(pilot)
        states = screen.query_one("#overview-states", OptionList)
        counts = {c.state: c.count for c in screen.overview.states}
        assert sum(counts.values()) == 60
        assert str(states.get_option(PortalState.active.value).prompt).split()[-1] == f"{counts[PortalState.active]:,}"
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one("#state-filter", Select).value == PortalState.active.value

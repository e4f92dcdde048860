""""I can't log in": the customer gets their password wrong until the portal locks them out;
the agent, whose PORTAL panel is open, sees it there without pressing a key, unlocks, and sees
the customer's sign-in arrive. The portal runs under a real uvicorn, the mail through a real
SMTP server and the console with real keys, all in this process on the fixed clock
(conftest.py), so the lock's minute never depends on the machine's speed."""
from __future__ import annotations

from store.activity import list_activity
from tui.widgets.portal_panel import PortalPanel

from .conftest import AGENT, FIRST_PASSWORD, activate, console, find_and_open, settle, toasts, wait_until

SIZE = (80, 24)
WRONG = "not my password at all"


def line(app, name: str) -> str:
    """A customer-side line of the PORTAL panel, "" while it is hidden."""
    widget = app.screen.query_one(PortalPanel).query_one(f"#{name}")
    return str(widget.render()) if widget.display else ""


async def test_a_locked_out_customer_is_seen_unlocked_and_signs_in(account, mail, portal):
    customer = await activate(portal, mail, account.ada, "ada@engines.example", username="ada",
                              password=FIRST_PASSWORD)
    customer.sign_out()
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Ada Lovelace")
        assert line(app, "lock-status") == ""
        assert line(app, "sign-in-status").startswith("Last signed in just now from 127.0.0.1")

        # The customer, in the browser: five wrong passwords, then the portal makes them wait.
        for _ in range(5):
            page = customer.sign_in("ada", WRONG)
            assert page.is_login_page and page.signed_in_as is None
        refused = customer.sign_in("ada", FIRST_PASSWORD)
        assert refused.status == 429 and "Too many attempts" in refused.text

        # The agent's open panel follows within 2 s, without a key.
        await wait_until(lambda: line(app, "lock-status").startswith("Locked until 09:01 UTC"), seconds=2.0)
        assert "5 wrong passwords since" in line(app, "sign-in-status")

        await pilot.press("l")
        await settle(pilot)
        assert any(t.startswith("Unlocked: 5 counted wrong passwords cleared") for t in toasts(app))
        await wait_until(lambda: line(app, "lock-status") == "", seconds=2.0)

        # Unlocked: the right password signs the customer in at once, and the panel shows it.
        assert customer.sign_in("ada", FIRST_PASSWORD).signed_in_as == "ada"
        await wait_until(lambda: line(app, "sign-in-status") == (
            "Last signed in just now from 127.0.0.1, 1 open session"), seconds=2.0)
    assert [(e.actor, e.action) for e in list_activity(account.ada, limit=5)
            if e.action == "sign-in unlocked"] == [(AGENT, "sign-in unlocked")]

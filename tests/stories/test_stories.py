"""The source document's stories (docs/design.md, "The source document, in our words"), each told through
every part as the people in it do it: the agent in the console with real keys, the mail
through a real SMTP server, the customer in a browser on the real portal server. All of it
runs in this process on the fixed clock (see conftest.py), so no story depends on the date.

The account already has Grace Hopper (two addresses, no portal login) and Ada Lovelace
(username "ada", no password yet); both email switches are on.
"""
from __future__ import annotations

from datetime import timedelta

from store.activity import list_activity
from tui.screens.dashboard import DashboardScreen
from tui.widgets.confirm import ConfirmModal

from .conftest import (
    FIRST_PASSWORD, GRACE_ADDRESSES, LINK_GONE, NEW_PASSWORD, OTHER_PASSWORD, activate, add_new_customer,
    console, find_and_open, portal_state, settle, shown, table_rows, toasts, type_text, username_field,
    wait_until,
)

NORA = ("nora@pascal.example", "billing@pascal.example")
CREATE_SUBJECT = "set up your billing portal login"
RESET_SUBJECT = "reset your billing portal password"
SIZE = (80, 24)


def subject_of(delivery) -> str:
    return delivery.only.message["Subject"]


async def test_a_new_customer_gets_the_credential_create_email_at_every_address(account, mail):
    """Added in the console with two addresses: the Credential Create email goes out by itself, once, to both."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await add_new_customer(pilot, name="Nora Quill", company="Pascal GmbH", addresses="; ".join(NORA))
        assert isinstance(app.screen, DashboardScreen)
        assert "Nora Quill · Pascal GmbH" in shown(app, "#customer-heading")
        assert portal_state(app) == "Not set up"
        assert f"Customer Credential Create email queued to {', '.join(NORA)}." in toasts(app)

    delivery = await mail.deliver()
    message = delivery.only
    assert sorted(message.rcpt_tos) == sorted(NORA)
    assert all(address in message.message["To"] for address in NORA)
    assert subject_of(delivery).endswith(CREATE_SUBJECT)
    assert "Billing Portal Setup Link" in message.part("plain")
    assert delivery.link(NORA[0]) == delivery.link(NORA[1])
    assert "/setup/" in delivery.link(NORA[0])


async def test_the_customer_sets_up_a_login_and_the_open_panel_turns_active(account, mail, portal):
    """A taken username is refused in words, another one works; the agent's panel follows by itself."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await add_new_customer(pilot, name="Nora Quill", company="Pascal GmbH", addresses="; ".join(NORA))
        assert portal_state(app) == "Not set up"
        link = (await mail.deliver()).link(NORA[1])

        browser = portal.browser()
        page = browser.open(link)
        assert page.is_credentials_form and page.title == "Set up your portal login"
        page = browser.choose(FIRST_PASSWORD, username="ADA")  # Ada Lovelace's, in other letters
        assert page.status == 400 and "That username is already in use." in page.text
        assert page.is_credentials_form and page.value_of("username") == "ADA"
        page = browser.choose(FIRST_PASSWORD, username="nora.q")
        assert page.path == "/" and page.signed_in_as == "nora.q"

        # No key pressed: the panel's refresh brings the change.
        await wait_until(lambda: portal_state(app).startswith("Active"), seconds=3.0)
        assert portal_state(app) == "Active since 2026-11-24"
        assert username_field(app) == "nora.q"
        assert shown(app, "#email-button") == "Send Reset Password Email"


async def test_a_setup_link_works_once_then_leads_to_the_login_page(account, mail, portal, fixed_clock):
    """Opened, left, opened again the same day and the next day: the main login page, not the setup page."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Grace")
        assert shown(app, "#email-button") == "Send Create Credentials Email"
        await pilot.press("m")
        await settle(pilot)
    link = (await mail.deliver()).link(GRACE_ADDRESSES[0])

    browser = portal.browser()
    assert browser.open(link).is_credentials_form  # she decides to come back later
    fixed_clock.advance(timedelta(hours=3))
    page = browser.open(link)
    assert page.is_login_page and not page.is_credentials_form
    assert page.title == "Sign in" and LINK_GONE in page.text

    fixed_clock.advance(timedelta(days=1))
    page = portal.browser().open(link)
    assert page.is_login_page and not page.is_credentials_form
    assert page.title == "Sign in" and LINK_GONE in page.text


async def test_a_username_the_agent_sets_is_prefilled_on_the_setup_page(account, mail, portal):
    """u, the username, Enter, then m: the Create Credentials email's page shows that username."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Grace")
        await pilot.press("u")
        await type_text(pilot, "grace.h")
        await pilot.press("enter")
        await settle(pilot)
        assert portal_state(app) == "Awaiting customer setup"
        assert shown(app, "#email-button") == "Send Create Credentials Email"
        await pilot.press("m")
        await settle(pilot)
        assert f"Customer Credential Create email queued to {', '.join(GRACE_ADDRESSES)}." in toasts(app)

        delivery = await mail.deliver()
        assert sorted(delivery.only.rcpt_tos) == sorted(GRACE_ADDRESSES)
        browser = portal.browser()
        page = browser.open(delivery.link(GRACE_ADDRESSES[1]))
        assert page.is_credentials_form and page.value_of("username") == "grace.h"
        page = browser.choose(FIRST_PASSWORD, username=page.value_of("username"))
        assert page.signed_in_as == "grace.h"
        await wait_until(lambda: portal_state(app).startswith("Active"), seconds=3.0)


async def test_changing_or_clearing_a_username_not_yet_used_stops_the_links_sent_before(account, mail, portal):
    """Awaiting setup: Update with a new username stops the older link; Delete stops the next one too."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Grace")
        await pilot.press("u")
        await type_text(pilot, "grace.h")
        await pilot.press("enter", "m")
        await settle(pilot)
        first = (await mail.deliver()).link(GRACE_ADDRESSES[0])

        await pilot.press("u", "ctrl+u")
        await type_text(pilot, "g.hopper")
        await pilot.press("enter")
        await settle(pilot)
        assert username_field(app) == "g.hopper"
        assert portal_state(app) == "Awaiting customer setup"
        page = portal.browser().open(first)
        assert page.is_login_page and LINK_GONE in page.text

        await pilot.press("m")
        await settle(pilot)
        second = (await mail.deliver()).link(GRACE_ADDRESSES[0])
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert username_field(app) == ""
        assert portal_state(app) == "Not set up"
        assert shown(app, "#email-button") == "Send Create Credentials Email"
        page = portal.browser().open(second)
        assert page.is_login_page and LINK_GONE in page.text


async def test_an_active_customer_resets_the_password_from_the_reset_email(account, mail, portal):
    """m on an Active customer sends Password Reset; its link sets a new password, the old one stops."""
    await activate(portal, mail, account.grace, GRACE_ADDRESSES[0], username="grace.h", password=FIRST_PASSWORD)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Grace")
        assert portal_state(app).startswith("Active")
        assert shown(app, "#email-button") == "Send Reset Password Email"
        await pilot.press("m")
        await settle(pilot)
        assert (f"Customer Credential Password Reset email queued to {', '.join(GRACE_ADDRESSES)}."
                in toasts(app))

    delivery = await mail.deliver()
    assert subject_of(delivery).endswith(RESET_SUBJECT)
    assert sorted(delivery.only.rcpt_tos) == sorted(GRACE_ADDRESSES)
    browser = portal.browser()
    page = browser.open(delivery.link(GRACE_ADDRESSES[1]))
    assert page.is_credentials_form and page.title == "Choose a new password"
    assert page.value_of("username") == "grace.h" and "readonly" in page.input("username")
    assert browser.choose(NEW_PASSWORD).signed_in_as == "grace.h"
    browser.sign_out()

    page = browser.sign_in("grace.h", FIRST_PASSWORD)
    assert page.status == 400 and "That username and password do not match." in page.text
    assert page.signed_in_as is None
    assert browser.sign_in("grace.h", NEW_PASSWORD).signed_in_as == "grace.h"


async def test_a_new_billing_contact_takes_over_the_portal_login(account, mail, portal):
    """New Primary Email Address, Delete, a new setup email to the new address only; the old contact is out."""
    old_contact = await activate(portal, mail, account.grace, GRACE_ADDRESSES[0], username="grace.h",
                                 password=FIRST_PASSWORD)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await find_and_open(pilot, "Grace")
        await pilot.press("m")  # a reset email the old contact never opened
        await settle(pilot)
        earlier = (await mail.deliver()).link(GRACE_ADDRESSES[0])

        await pilot.press("c")
        await settle(pilot)
        await pilot.press("ctrl+u")
        await type_text(pilot, "kay@navy.example")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert shown(app, "#customer-email") == "Primary Email Address: kay@navy.example"
        assert shown(app, "#email-recipients") == "Goes to: kay@navy.example"
        assert any("1 open link sent to the old address stopped working" in t for t in toasts(app))

        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert portal_state(app) == "Not set up"
        await pilot.press("m")
        await settle(pilot)
        assert "Customer Credential Create email queued to kay@navy.example." in toasts(app)

        delivery = await mail.deliver()
        assert delivery.only.rcpt_tos == ["kay@navy.example"]
        assert subject_of(delivery).endswith(CREATE_SUBJECT)

        page = old_contact.open("/")  # the old contact was still signed in
        assert page.is_login_page and page.signed_in_as is None
        assert "Your portal login changed, so you were signed out." in page.text
        page = old_contact.open(earlier)
        assert page.is_login_page and LINK_GONE in page.text
        page = old_contact.sign_in("grace.h", FIRST_PASSWORD)
        assert page.status == 400 and page.signed_in_as is None

        new_contact = portal.browser()
        page = new_contact.open(delivery.link("kay@navy.example"))
        assert page.is_credentials_form and page.value_of("username") == ""
        assert new_contact.choose(NEW_PASSWORD, username="kay.b").signed_in_as == "kay.b"
        await wait_until(lambda: username_field(app) == "kay.b" and portal_state(app).startswith("Active"))


async def test_the_login_page_prompts_send_the_reset_email_to_every_address(account, mail, portal):
    """Create Credential, then later Forgot Password: each sends Password Reset to both addresses."""
    browser = portal.browser()
    browser.open("/")
    page = browser.click("Create Credential")
    page = browser.submit("prompt-form", identifier=GRACE_ADDRESSES[1])
    assert "we have sent an email to the account's email addresses" in page.text
    delivery = await mail.deliver()
    assert subject_of(delivery).endswith(RESET_SUBJECT)
    assert sorted(delivery.only.rcpt_tos) == sorted(GRACE_ADDRESSES)
    page = browser.open(delivery.link(GRACE_ADDRESSES[0]))
    assert page.is_credentials_form and "readonly" not in page.input("username")
    assert browser.choose(FIRST_PASSWORD, username="grace.h").signed_in_as == "grace.h"
    browser.sign_out()

    browser.open("/")
    browser.click("Forgot Password")
    page = browser.submit("prompt-form", identifier="grace.h")
    assert "we have sent an email to the account's email addresses" in page.text
    delivery = await mail.deliver()
    assert subject_of(delivery).endswith(RESET_SUBJECT)
    assert sorted(delivery.only.rcpt_tos) == sorted(GRACE_ADDRESSES)
    page = browser.open(delivery.link(GRACE_ADDRESSES[1]))
    assert page.value_of("username") == "grace.h" and "readonly" in page.input("username")
    assert browser.choose(OTHER_PASSWORD).signed_in_as == "grace.h"


async def test_every_step_is_in_the_activity_and_every_email_in_the_emails_section(account, mail, portal):
    """Who did each step (alice in the console, customer in the portal) and every email shown as sent."""
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        reference = await add_new_customer(pilot, name="Nora Quill", company="Pascal GmbH",
                                           addresses="; ".join(NORA))
        browser = portal.browser()
        browser.open((await mail.deliver()).link(NORA[0]))
        browser.choose(FIRST_PASSWORD, username="nora.q")
        await wait_until(lambda: portal_state(app).startswith("Active"))
        await pilot.press("m")
        await settle(pilot)
        browser.open((await mail.deliver()).link(NORA[1]))
        browser.choose(NEW_PASSWORD)

        steps = [(e.actor, e.action) for e in reversed(list_activity(reference))]
        assert steps == [
            ("alice", "customer created"),
            ("system", "email queued"),  # automatic: Customer Credential Create is on
            ("system", "email sent"),
            ("customer", "setup link opened"),
            ("customer", "username set"),
            ("customer", "password set"),
            ("alice", "email queued"),
            ("system", "email sent"),
            ("customer", "reset link opened"),
            ("customer", "password set"),
        ]

        await pilot.press("a")
        await wait_until(lambda: len(table_rows(app, "#activity-table")) == len(steps))
        shown_steps = [(row[1], row[2]) for row in reversed(table_rows(app, "#activity-table"))]
        assert shown_steps == steps

        await pilot.press("e")
        await settle(pilot)
        emails = [(row[0], row[2], row[4]) for row in table_rows(app, "#emails-table")]
        assert emails == [("sent", "Password Reset", ", ".join(NORA)),
                          ("sent", "Credential Create", ", ".join(NORA))]

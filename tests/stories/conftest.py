"""The stories' world: every part of the product in this one process, on this one clock.

- the store on a SQLite file, its clock the fixed one (``fixed_clock``), moved with ``.advance()``;
- the customer portal as ``portal-console serve`` builds it (``create_app``), served by a real
  uvicorn.Server on a free loopback port in a background thread, opened by browsers
  (httpx clients that keep cookies and follow redirects);
- the mailer's ``dispatch_once`` delivering through a real aiosmtpd server, links read from
  the plain text of what arrived;
- the console, driven by the Textual pilot with real keys (the tests do that themselves).

Nothing here runs in another process, so no story depends on the date it runs.
"""
from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import httpx
import pytest
import uvicorn
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Label

from mailer.dispatcher import dispatch_once
from portal.app import create_app
from portal.ratelimit import Limits
from store.customers import add_customer
from store.panel import set_username
from store.settings import update_setting
from tests.mailer.conftest import Received, SmtpServer, smtp_config, smtp_server  # noqa: F401 (fixture)
from tests.net import free_port
from tests.portal.conftest import csrf_of, text_of
from tests.tui.conftest import settle
from tui.app import PortalConsoleApp
from tui.widgets.portal_panel import PortalPanel

AGENT = "alice"
SECRET = "stories-secret-key-for-portal-sessions"
# Passwords the portal's strength check accepts: long phrases of unrelated words.
FIRST_PASSWORD = "violet tractor sings at dawn"
NEW_PASSWORD = "copper lantern drifts northward"
OTHER_PASSWORD = "maple orbit whispers slowly"
# What the login page says when a setup or reset link no longer works.
LINK_GONE = "This link has already been used or has expired."
LINK = re.compile(r"http://127\.0\.0\.1:\d+/(?:setup|reset)/[A-Za-z0-9_-]{43}")


# --- the portal, as a browser sees it -------------------------------------------------------

@dataclass
class Page:
    """Where the browser ended up and what the page says."""

    status: int
    path: str  # path and query of the page shown, after every redirect
    html: str

    @property
    def text(self) -> str:
        return text_of(self.html)

    @property
    def title(self) -> str:
        found = re.search(r"<h1>(.*?)</h1>", self.html, re.S)
        return text_of(found.group(1)) if found else ""

    @property
    def is_login_page(self) -> bool:
        return 'id="login-form"' in self.html

    @property
    def is_credentials_form(self) -> bool:
        """The setup or reset form a link leads to."""
        return 'id="credentials-form"' in self.html

    @property
    def signed_in_as(self) -> str | None:
        """The username the signed-in page names, or None when nobody is signed in."""
        found = re.search(r'id="signed-in-as">You are signed in as <strong>([^<]*)</strong>', self.html)
        return html.unescape(found.group(1)) if found else None

    def input(self, name: str) -> str:
        """The whole <input> tag of a field."""
        found = re.search(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*>', self.html)
        assert found, f"the page has no field {name!r}: {self.text}"
        return found.group(0)

    def value_of(self, name: str) -> str:
        """What a field holds as the page opens (a pre-filled value)."""
        found = re.search(r'\bvalue="([^"]*)"', self.input(name))
        return html.unescape(found.group(1)) if found else ""

    def form_action(self, form: str) -> str:
        """The action of the form with this id (or this action)."""
        for match in re.finditer(r"<form\b([^>]*)>", self.html):
            attributes = match.group(1)
            action = re.search(r'action="([^"]*)"', attributes)
            if f'id="{form}"' in attributes or (action and action.group(1) == form):
                return html.unescape(action.group(1)) if action else self.path
        raise AssertionError(f"no form {form!r} on {self.path}: {self.text}")

    def link_to(self, words: str) -> str:
        """The address of the link that reads ``words``."""
        found = re.search(rf'<a href="([^"]*)">{re.escape(words)}</a>', self.html)
        assert found, f"no link {words!r} on {self.path}"
        return html.unescape(found.group(1))


class Browser:
    """One person's browser on the portal: keeps its cookies, follows redirects."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, follow_redirects=True, timeout=10.0)
        self.page: Page | None = None

    def _shown(self, response: httpx.Response) -> Page:
        url = response.url
        self.page = Page(response.status_code, url.raw_path.decode(), response.text)
        return self.page

    def open(self, url: str) -> Page:
        """Type or click an address (an email's link, or a path on the portal)."""
        return self._shown(self.client.get(url))

    def click(self, words: str) -> Page:
        """Follow the link that reads ``words`` on the page shown."""
        assert self.page is not None
        return self.open(self.page.link_to(words))

    def submit(self, form: str, **fields: str) -> Page:
        """Fill the form (by id or action) on the page shown and send it."""
        assert self.page is not None
        data = {"csrf_token": csrf_of(self.page.html), **fields}
        return self._shown(self.client.post(self.page.form_action(form), data=data))

    def choose(self, password: str, username: str | None = None) -> Page:
        """On the setup or reset form: a username (when asked) and the password, twice."""
        fields = {"password": password, "password_confirm": password}
        if username is not None:
            fields["username"] = username
        return self.submit("credentials-form", **fields)

    def sign_in(self, username: str, password: str) -> Page:
        """The main login page's form."""
        self.open("/")
        return self.submit("login-form", username=username, password=password)

    def sign_out(self) -> Page:
        return self.submit("/logout")

    def close(self) -> None:
        self.client.close()


@dataclass
class Portal:
    """The running portal and the browsers opened on it."""

    base_url: str
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        """A fresh browser: no cookies, nobody signed in."""
        browser = Browser(self.base_url)
        self.browsers.append(browser)
        return browser


@pytest.fixture
def portal(sqlite_db: str) -> Iterator[Portal]:
    """The portal app `portal-console serve` builds, under a real uvicorn on a free loopback port,
    in a thread of this process (so it reads the test's clock and database)."""
    port = free_port()
    app = create_app(SECRET, limits=Limits(), prompt_seconds=0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           server_header=False, timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="portal-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the portal server did not start"
        time.sleep(0.01)
    running = Portal(f"http://127.0.0.1:{port}")
    try:
        yield running
    finally:
        for browser in running.browsers:
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)


# --- the account: its settings and the customers it already had --------------------------

@dataclass(frozen=True)
class Account:
    """References of the customers already on the system before the stories begin."""

    grace: str  # Grace Hopper, two addresses, no portal login
    ada: str  # Ada Lovelace, username "ada" set by an agent, no password yet


GRACE_ADDRESSES = ("grace@navy.example", "ops@navy.example")


@pytest.fixture
def account(portal: Portal) -> Account:
    """Existing customers (added while the email switches were still off, so nothing was sent),
    then the settings the stories run under: the portal's URL and both email switches on."""
    grace = add_customer(name="Grace Hopper", company="US Navy", primary_email="; ".join(GRACE_ADDRESSES),
                         actor="bob").reference
    ada = add_customer(name="Ada Lovelace", company="Analytical Engines", primary_email="ada@engines.example",
                       actor="bob").reference
    set_username(ada, "ada", expected_version=None, actor="bob")
    update_setting("portal_url", portal.base_url, actor=AGENT)
    update_setting("credential_create_email", "on", actor=AGENT)
    update_setting("password_reset_email", "on", actor=AGENT)
    return Account(grace=grace, ada=ada)


# --- mail ---------------------------------------------------------------------------------

@dataclass
class Delivery:
    """The messages one round of delivery brought, read as their recipients read them."""

    messages: list[Received]

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def links(self, address: str) -> list[str]:
        """The links in the plain text of every message that reached ``address``."""
        return [link for m in self.to(address) for link in LINK.findall(m.part("plain"))]

    def link(self, address: str) -> str:
        """The one link ``address`` received."""
        links = self.links(address)
        assert len(links) == 1, f"{address} received {len(links)} links: {links}"
        return links[0]

    @property
    def only(self) -> Received:
        assert len(self.messages) == 1, f"{len(self.messages)} messages arrived"
        return self.messages[0]


@dataclass
class Mail:
    server: SmtpServer
    config: object

    async def deliver(self, expect: int = 1, seconds: float = 5.0) -> Delivery:
        """Run the mailer until ``expect`` more messages reached the SMTP server (an email a
        portal prompt asked for is queued just after its page answers); return them."""
        start = len(self.server.received)
        deadline = time.monotonic() + seconds
        while True:
            await dispatch_once(self.config)
            if len(self.server.received) - start >= expect or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        delivery = Delivery(self.server.received[start:])
        assert len(delivery.messages) == expect, f"{len(delivery.messages)} messages arrived, not {expect}"
        return delivery


@pytest.fixture
def mail(sqlite_db: str, smtp_server: SmtpServer, tmp_path) -> Mail:
    """The outbox dispatcher pointed at the real aiosmtpd server."""
    return Mail(smtp_server, smtp_config(sqlite_db, smtp_server.port, tmp_path))


# --- the console ----------------------------------------------------------------------------

def console() -> PortalConsoleApp:
    """Agent alice's console; it checks the open customer five times a second."""
    return PortalConsoleApp(agent=AGENT, poll_seconds=0.2, search_delay=0.0)


async def type_text(pilot: Pilot, text: str) -> None:
    """Type ``text`` where the cursor is: one key event a character, as the terminal sends them
    (``pilot.press`` would pause ~0.1 s after each), then wait until all are handled."""
    for character in text:
        pilot.app.post_message(events.Key(_character_to_key(character), character))
    await settle(pilot)


async def find_and_open(pilot: Pilot, search: str) -> None:
    """ctrl+f, type into the search box and press Enter on the first result, as the agent does."""
    await settle(pilot)
    await pilot.press("ctrl+f")
    await type_text(pilot, search)
    await pilot.press("enter")
    await settle(pilot)


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the console run in real time (its refresh timer fires) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert condition()


def shown(app: PortalConsoleApp, selector: str) -> str:
    """The text a label, static or button shows on the current screen."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, Button):
        return str(widget.label)
    if isinstance(widget, Label):
        return str(widget.content)
    return str(widget.render())


def portal_state(app: PortalConsoleApp) -> str:
    """The PORTAL panel's state, in the words it shows."""
    return shown(app, "#portal-state")


def username_field(app: PortalConsoleApp) -> str:
    return app.screen.query_one(PortalPanel).query_one("#username-input").value


def toasts(app: PortalConsoleApp) -> list[str]:
    """Every notification the console has shown, oldest first."""
    return [n.message for n in app._notifications]


def table_rows(app: PortalConsoleApp, selector: str) -> list[list[str]]:
    """The rows a table on the current screen shows, as text."""
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def add_new_customer(pilot: Pilot, *, name: str, company: str, addresses: str) -> str:
    """ctrl+n, the fields typed key by key (tab between them), ctrl+s: the new customer's
    dashboard opens; returns its reference."""
    await settle(pilot)
    await pilot.press("ctrl+n")
    for text, then in ((name, "tab"), (company, "tab"), (addresses, "ctrl+s")):
        await type_text(pilot, text)
        await pilot.press(then)
    await settle(pilot)
    return pilot.app.screen.reference


# --- a customer who already uses the portal ------------------------------------------------

async def activate(portal: Portal, mail: Mail, reference: str, address: str, *, username: str,
                   password: str) -> Browser:
    """Earlier, another agent (bob) sent the Credential Create email and the customer set up
    the login from the copy at ``address``: the customer is Active. Returns the customer's
    browser, still signed in."""
    from store.panel import send_portal_email

    send_portal_email(reference, actor="bob")
    browser = portal.browser()
    browser.open((await mail.deliver()).link(address))
    assert browser.choose(password, username=username).signed_in_as == username
    return browser

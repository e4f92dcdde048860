"""`portal-console serve` as a real process: real HTTP, 50 simultaneous opens, a real browser."""
from __future__ import annotations

import email.policy
import mailbox
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from store.customers import add_customer

from tests.children import child_env

from .conftest import AGENT, GOOD_PASSWORD, csrf_of, sql_column, text_of
from .live import LiveServer, portal_with_emails_on
from tests.links import live_link

NEUTRAL = "This link has already been used or has expired."
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """The portal served on a free loopback port, on a SQLite file this test process also writes.
    The system clock runs: the server process and the tests must agree on time."""
    with portal_with_emails_on(tmp_path_factory.mktemp("live-portal"), AGENT) as server:
        yield server


def emailed_setup_link(name: str) -> str:
    """A new customer gets the Credential Create email automatically; its live link, issued as
    the mailer issues it when it sends."""
    reference = add_customer(name=name, primary_email=f"{name.lower().replace(' ', '.')}@example.com",
                             actor=AGENT).reference
    customer_id = sql_column("customer", "id", "reference = ?", (reference,))[0]
    return live_link(sql_column("outbox_email", "id", "customer_id = ?", (customer_id,))[-1])


class TestRealServer:
    def test_the_login_page_is_served_with_its_headers(self, live):
        answer = httpx.get(live.base_url + "/")
        assert answer.status_code == 200 and 'id="login-form"' in answer.text
        assert answer.headers["referrer-policy"] == "no-referrer" and answer.headers["x-frame-options"] == "DENY"
        assert "server" not in answer.headers

    def test_a_setup_link_sets_up_the_login_over_real_http(self, live):
        link = emailed_setup_link("Real Http")
        with httpx.Client(base_url=live.base_url) as browser:
            opened = browser.get(link, follow_redirects=False)
            assert opened.status_code == 303 and opened.headers["location"] == "/setup"
            form = browser.get("/setup")
            done = browser.post("/setup", data={"csrf_token": csrf_of(form.text), "username": "real.http",
                                                "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})
            assert done.status_code == 303
            assert "You are signed in as real.http" in text_of(browser.get("/").text)
        again = httpx.get(link, follow_redirects=True)
        assert NEUTRAL in text_of(again.text) and str(again.url) == live.base_url + "/?note=link"

    def test_the_server_log_never_holds_a_token(self, live):
        """The access log shows /setup/[redacted]; the secret-key warning is one line."""
        link = emailed_setup_link("Log Check")
        token = link.rsplit("/", 1)[1]
        httpx.get(link)
        httpx.get(link)
        log = live.log()
        assert token not in log and "/setup/[redacted]" in log
        assert log.count("PORTAL_SECRET_KEY is not set") == 1

    def test_fifty_simultaneous_opens_give_exactly_one_setup_form(self, live):
        """Rule 6: using a link is atomic; two (or fifty) clicks at the same instant use it once."""
        link = emailed_setup_link("Fifty Clicks")
        barrier = threading.Barrier(50)

        def open_once(_: int) -> str:
            with httpx.Client(timeout=60, follow_redirects=True) as browser:
                barrier.wait(timeout=30)
                return browser.get(link).text

        with ThreadPoolExecutor(max_workers=50) as pool:
            pages = list(pool.map(open_once, range(50)))
        assert sum('id="credentials-form"' in page for page in pages) == 1
        assert sum(NEUTRAL in text_of(page) for page in pages) == 49


def delivered_setup_link(live: LiveServer, name: str, folder: Path) -> str:
    """The whole road a customer's link travels: a new customer's Credential Create email is
    delivered by a real `portal-console mailer --once` process to a Maildir, and the link is
    read from the delivered message's text, as the customer's mail program shows it."""
    address = f"{name.lower().replace(' ', '.')}@example.com"
    add_customer(name=name, primary_email=address, actor=AGENT)
    env = child_env(PORTAL_DATABASE_URL=live.database_url, PORTAL_MAILDIR=str(folder / "maildir"))
    done = subprocess.run([sys.executable, "-m", "cli", "mailer", "--once"], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for _, message in mailbox.Maildir(folder / "maildir", factory=None, create=False).items():
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        if address in parsed["To"]:
            text = parsed.get_body(preferencelist=("plain",)).get_content()
            found = re.search(re.escape(live.base_url) + r"/setup/[A-Za-z0-9_-]{43}", text)
            assert found, text
            return found.group(0)
    raise AssertionError(f"no email to {address} was delivered")


class TestBrowser:
    def test_a_customer_sets_up_their_login_in_chromium(self, live, tmp_path):
        """The email's link in a real browser: choose username and password, land signed in;
        the same link again lands on the login page with the neutral note."""
        if not CHROMIUM.exists():
            pytest.skip("no browser: Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
        sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
        link = delivered_setup_link(live, "Browser Customer", tmp_path)
        with sync_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
                args=CHROMIUM_ARGS)
            try:
                context.set_default_timeout(20_000)
                page = context.new_page()
                page.goto(link)
                assert page.url == live.base_url + "/setup"  # the token left the address bar
                page.get_by_label("Username").fill("browser.customer")
                page.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
                page.get_by_label("Type the password again").fill(GOOD_PASSWORD)
                page.get_by_role("button", name="Save and sign in").click()
                page.wait_for_url(live.base_url + "/")
                assert "You are signed in as browser.customer" in page.inner_text("main")
                page.get_by_role("button", name="Sign out").click()
                page.wait_for_url(live.base_url + "/?note=signed-out")
                page.goto(link)
                assert page.url == live.base_url + "/?note=link"
                assert page.inner_text("#note") == NEUTRAL
                assert page.get_by_label("Username").is_visible() and page.get_by_role("button", name="Sign in").is_visible()
            finally:
                context.close()

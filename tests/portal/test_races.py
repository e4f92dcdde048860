"""Races against a real `portal-console serve` process: many opens of one link at once, and
bursts of sign-in attempts for one username. Each finishes in a few seconds."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from store.customers import add_customer
from store.credentials import complete_link, open_link
from store.panel import set_username
from store.values import LinkPurpose

from tests.children import child_env

from .burst import open_all, post_all
from .conftest import AGENT, GOOD_PASSWORD, csrf_of, sql_column, text_of
from .live import LiveServer, portal_with_emails_on
from tests.links import live_link

pytestmark = pytest.mark.other_process
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """The portal served on a free loopback port, on a SQLite file this test process also writes."""
    with portal_with_emails_on(tmp_path_factory.mktemp("race-portal"), AGENT) as server:
        yield server


def emailed_setup_link(name: str) -> tuple[str, str]:
    """A new customer's reference and the live link of its Credential Create email."""
    reference = add_customer(name=name, primary_email=f"{name.lower().replace(' ', '.')}@example.com",
                             actor=AGENT).reference
    customer_id = sql_column("customer", "id", "reference = ?", (reference,))[0]
    return reference, live_link(sql_column("outbox_email", "id", "customer_id = ?", (customer_id,))[-1])


def active_customer(name: str, username: str) -> None:
    """A customer who set up their login (username, GOOD_PASSWORD) through the service layer."""
    reference, link = emailed_setup_link(name)
    set_username(reference, username, expected_version=None, actor=AGENT)
    grant = open_link(link.rsplit("/", 1)[1], LinkPurpose.setup)
    complete_link(grant, username=None, password=GOOD_PASSWORD)


class TestOneLinkManyOpens:
    def test_a_thousand_opens_of_one_link_from_threads_and_processes_give_one_form(self, live):
        """Rule 6 under load: 700 threads here and 3 other processes of 100 threads each open
        the same setup link at once; exactly one reaches the setup form, 999 the login page."""
        _, link = emailed_setup_link("Thousand Clicks")
        env = child_env(PYTHONPATH=str(ROOT))
        others = [subprocess.Popen([sys.executable, "-m", "tests.portal.burst", link, "100"], cwd=ROOT, env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(3)]
        here: list[str] = []
        opener = threading.Thread(target=lambda: here.extend(open_all(link, 700)))
        for child in others:  # every process is running before any is told to fire
            child.stdin.write("go\n")
            child.stdin.flush()
        opener.start()
        results = [json.loads(child.communicate(timeout=120)[0]) for child in others]
        opener.join(timeout=120)
        forms = here.count("form") + sum(r["forms"] for r in results)
        login_page = here.count("/?note=link") + sum(r["login page"] for r in results)
        assert (forms, login_page) == (1, 999), (here, results)


def sign_in_burst(live: LiveServer, passwords: list[str], username: str, address: str) -> tuple[list[int], str]:
    """One browser (one session, one address) sends a sign-in per password, all at once;
    the statuses, and the browser's cookie."""
    with httpx.Client(base_url=live.base_url) as browser:
        token = csrf_of(browser.get("/").text)
        cookie = f"portal_session={browser.cookies['portal_session']}"
    forms = [{"csrf_token": token, "username": username, "password": p} for p in passwords]
    return post_all(live.base_url + "/login", forms, cookie, address), cookie


class TestSignInBursts:
    def test_two_hundred_wrong_passwords_at_once_get_five_checked(self, live):
        """Counted before Argon2: of 200 simultaneous wrong passwords for one username, no more
        than the limit (5) reach the password check; every other one is told to wait."""
        active_customer("Burst Target", "burst.target")
        statuses, _ = sign_in_burst(live, ["not-the-password"] * 200, "burst.target", "198.51.100.1")
        assert statuses.count(400) <= 5 and statuses.count(429) == 200 - statuses.count(400), statuses

    def test_the_right_password_in_a_burst_past_the_limit_never_signs_in(self, live):
        active_customer("Burst Right", "burst.right")
        first, _ = sign_in_burst(live, ["not-the-password"] * 100, "burst.right", "198.51.100.2")
        assert first.count(400) <= 5, first
        second, cookie = sign_in_burst(live, ["not-the-password"] * 99 + [GOOD_PASSWORD], "burst.right",
                                       "198.51.100.2")
        assert second == [429] * 100
        with httpx.Client(base_url=live.base_url, headers={"Cookie": cookie}) as browser:
            assert "signed in as" not in text_of(browser.get("/").text)

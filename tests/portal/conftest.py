"""Fixtures for the portal: the app under test against real databases, customers made
through the service layer, and helpers to read what a page says."""
from __future__ import annotations

import html
import re
import time
from typing import Callable, Iterator

import warnings

import pytest

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2; the project's chosen client is httpx, which it still drives.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from portal.app import create_app
from portal.ratelimit import Limits
from store import db
from store.customers import add_customer
from store.panel import send_portal_email, set_username
from store.settings import update_setting
from tests.links import live_link

AGENT = "alice"
GOOD_PASSWORD = "violet tractor sings at dawn"
OTHER_PASSWORD = "copper lantern drifts northward"
SECRET = "test-secret-key-for-portal-sessions"

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(page_html: str) -> str:
    """The CSRF token a page's form carries."""
    found = _CSRF.search(page_html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def text_of(page_html: str) -> str:
    """The page's visible text, tags dropped and entities decoded, for matching sentences."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page_html)).split())


def sql_column(table: str, name: str, where: str = "1=1", params: tuple = ()) -> list:
    """One column of a table, read with plain SQL so tests see what the database holds."""
    placeholder = "%s" if db.is_postgres() else "?"
    sql = f"SELECT {name} FROM {table} WHERE {where} ORDER BY id".replace("?", placeholder)
    return [row[0] for row in db.database.execute_sql(sql, params).fetchall()]


def link_of(outbox_id: int) -> str:
    """The live link the email of this outbox row carries, issued as the mailer issues it."""
    return live_link(outbox_id)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll until the condition holds (prompts finish their work in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def make_client(store_db) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient on a fresh portal app (its lifespan running) with options."""
    clients: list[TestClient] = []

    def make(*, limits: Limits | None = None, prompt_seconds: float = 0.02, https: bool = False,
             secret_key: str | None = SECRET, address: str = "testclient", app=None) -> TestClient:
        """``address`` is the client's IP address the portal sees (the limits count by it);
        ``app`` another client's app, for two browsers on one portal process."""
        app = app or create_app(secret_key, https=https, limits=limits, prompt_seconds=prompt_seconds)
        client = TestClient(app, base_url="https://testserver" if https else "http://testserver",
                            client=(address, 50000))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    """A browser on the portal."""
    return make_client()


@pytest.fixture
def customer(store_db) -> str:
    """Ada, two addresses, no portal login yet; both email switches on."""
    update_setting("credential_create_email", "on", actor=AGENT)
    update_setting("password_reset_email", "on", actor=AGENT)
    return add_customer(name="Ada Lovelace", company="Analytical Engines",
                        primary_email="ada@engines.example; billing@engines.example", actor=AGENT).reference


@pytest.fixture
def setup_link(customer) -> str:
    """The path of a Credential Create email's setup link, the agent having set the username 'ada'."""
    set_username(customer, "ada", expected_version=None, actor=AGENT)
    return path_of(link_of(send_portal_email(customer, actor=AGENT).outbox_id))


def submit(client: TestClient, page_path: str, data: dict[str, str], *, action: str | None = None,
           follow: bool = False, csrf: bool = True):
    """GET a page, then POST its form to ``action`` (default: the same path) with ``data``
    and the page's CSRF token."""
    page = client.get(page_path)
    fields = {"csrf_token": csrf_of(page.text)} if csrf else {}
    return client.post(action or page_path, data={**fields, **data}, follow_redirects=follow)


def sign_in(client: TestClient, username: str, password: str, **kwargs):
    """Send the main login page's form."""
    return submit(client, "/", {"username": username, "password": password}, action="/login", **kwargs)

"""Hostile input into the customer portal, in process over real HTTP semantics (Starlette's
TestClient) on both backends: the setup form's username and password, the login form, the
Forgot Password prompt, and the link URLs themselves (malformed, oversized, non-ASCII,
percent-encoded tokens). Each row: the page's sentence, nothing written, and the typed
input kept where the page keeps it."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from store.panel import send_portal_email
from tests.portal.conftest import GOOD_PASSWORD, csrf_of, link_of, path_of, submit, text_of

from .conftest import AGENT, TEN_KB, table_counts

SQL = "'; DROP TABLE customer; --"
JINJA = "{{ 7*7 }}"
RAW = "{% raw %}"
NEUTRAL = "This link has already been used or has expired."


@dataclass(frozen=True)
class FormRow:
    field: str
    value: str
    says: str
    kept: bool  # the page shows the typed username/identifier back

    def __str__(self) -> str:
        return f"{self.field}:{self.value[:24]!r}"


def field_value(page_html: str, name: str) -> str | None:
    """The value a page's input of that name shows, unescaped (None: no such input)."""
    found = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page_html)
    if found is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return html.unescape(value.group(1)) if value else ""


@pytest.fixture
def setup_form(make_client, grace):
    """A browser on the setup form of Grace (no username yet: the form asks for one)."""
    client = make_client()
    token_path = path_of(link_of(send_portal_email(grace, actor=AGENT).outbox_id))
    assert client.get(token_path, follow_redirects=False).headers["location"] == "/setup"
    return client


SETUP_ROWS = [
    FormRow("username", "", "Choose a username.", kept=False),
    FormRow("username", "ada.lovelace", "That username is already in use.", kept=True),
    FormRow("username", "ADA.LOVELACE", "That username is already in use.", kept=True),
    FormRow("username", "\u0430da.lovelace", "This username mixes alphabets (Cyrillic and Latin); use one.", kept=True),
    FormRow("username", "Ada.Lovelace\u0307", "That username is already in use.", kept=True),
    FormRow("username", "grace\nhopper", "line breaks or control characters", kept=False),
    FormRow("username", "grace\x85hopper", "line breaks or control characters", kept=False),
    FormRow("username", "grace\u202ereppoh", "line breaks or control characters", kept=False),
    FormRow("username", SQL, "A username can hold letters, digits", kept=True),
    FormRow("username", JINJA, "A username can hold letters, digits", kept=True),
    FormRow("username", "x" * 2000, "A username can have at most 64 characters", kept=True),
    FormRow("password", "gracehopper1906", "Don't use your own name", kept=True),
    FormRow("password", "N4vy2026!", "Don't use your own name", kept=True),
    FormRow("password", "violet tractor\x85 sings at dawn", "control or invisible formatting characters (U+0085)", kept=True),
    FormRow("password", "violet tractor\u202e sings at dawn", "control or invisible formatting characters (U+202E)", kept=True),
    FormRow("password", "short", "Use at least 8 characters.", kept=True),
    FormRow("password", "p" * 129, "Use at most 128 characters.", kept=True),
]


@pytest.mark.parametrize("row", SETUP_ROWS, ids=str)
def test_the_setup_form_refuses_hostile_input_and_keeps_the_rest(setup_form, row):
    before = table_counts()
    typed_username = row.value if row.field == "username" else "grace.h"
    password = row.value if row.field == "password" else GOOD_PASSWORD
    answer = submit(setup_form, "/setup", {"username": typed_username, "password": password,
                                           "password_confirm": password})
    assert answer.status_code == 400
    assert row.says in text_of(answer.text)
    assert table_counts() == before
    assert (field_value(answer.text, "username") == typed_username) is row.kept or not typed_username
    assert "49" not in text_of(answer.text)  # {{ 7*7 }} is text, never evaluated
    assert password not in answer.text or len(password) < 8  # a password never comes back


LOGIN_ROWS = [
    FormRow("username", "", "Enter your username and password.", kept=False),
    FormRow("username", "   ", "Enter your username and password.", kept=False),
    FormRow("username", "ada\r\nlovelace", "A username can't contain line breaks or control characters.", kept=False),
    FormRow("username", "ada\x00", "A username can't contain line breaks or control characters.", kept=False),
    FormRow("username", SQL, "That username and password do not match.", kept=True),
    FormRow("username", JINJA, "That username and password do not match.", kept=True),
    FormRow("username", RAW, "That username and password do not match.", kept=True),
    FormRow("username", "x" * 5000, "That username and password do not match.", kept=True),
    FormRow("username", "\u0430da.lovelace", "That username and password do not match.", kept=True),
]


@pytest.mark.parametrize("row", LOGIN_ROWS, ids=str)
def test_the_login_form_answers_hostile_input_with_one_neutral_sentence(make_client, ada, row):
    client = make_client()
    before = table_counts()
    answer = submit(client, "/", {"username": row.value, "password": "wrong but long enough"}, action="/login")
    assert answer.status_code == 400
    page = text_of(answer.text)
    assert row.says in page and "Traceback" not in page
    assert table_counts() == before
    if row.kept:
        assert field_value(answer.text, "username") == row.value
    assert "49" not in page


PROMPT_ROWS = [
    FormRow("identifier", "", "Enter your username or email address.", kept=False),
    FormRow("identifier", TEN_KB, "A username or email address has at most 320 characters.", kept=False),
    FormRow("identifier", "ada@engines.example\r\nBcc: x@y.example", "can't contain line breaks or control characters",
            kept=False),
    FormRow("identifier", "ada\u202e@engines.example", "can't contain line breaks or control characters", kept=False),
    FormRow("identifier", SQL, "If that matches a customer account", kept=False),
    FormRow("identifier", JINJA + "@x.example", "If that matches a customer account", kept=False),
]


@pytest.mark.parametrize("row", PROMPT_ROWS, ids=str)
def test_the_forgot_password_prompt_refuses_or_answers_the_same(make_client, ada, row):
    """A refused identifier gets its sentence; anything else gets the one neutral answer and,
    matching no customer, sends nothing."""
    client = make_client()
    before = table_counts()
    answer = submit(client, "/forgot-password", {"identifier": row.value})
    assert row.says in text_of(answer.text)
    assert "49" not in text_of(answer.text)
    assert table_counts() == before


def test_an_oversized_form_body_is_refused_before_it_is_read(setup_form, grace):
    before = table_counts()
    page = setup_form.get("/setup")
    answer = setup_form.post("/setup", data={"csrf_token": csrf_of(page.text), "username": "g" * 20_000,
                                             "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})
    assert answer.status_code == 413 and "far too long" in text_of(answer.text)
    assert table_counts() == before


def test_a_form_body_that_is_not_utf8_is_refused(make_client, ada):
    client = make_client()
    token = csrf_of(client.get("/").text)
    answer = client.post("/login", content=f"csrf_token={token}&username=%FF%FE&password=x".encode(),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and "could not be read" in text_of(answer.text)


LINK_PATHS = [
    "/setup/",
    "/setup/" + "A" * 10_000,
    "/setup/%00" + "A" * 42,
    "/setup/" + quote("\u00e4" * 43),
    "/setup/..%2F..%2F" + "A" * 37,
    "/reset/" + quote(SQL, safe=""),
    "/reset/" + quote(JINJA, safe=""),
    "/setup/" + "A" * 42 + "%0A",
]


@pytest.mark.parametrize("path", LINK_PATHS, ids=lambda p: p[:30])
def test_a_malformed_or_oversized_link_lands_on_the_login_page_with_the_neutral_note(make_client, grace, path):
    """Malformed, unknown, used and expired links all read the same; nothing is written."""
    client = make_client()
    before = table_counts()
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code in (303, 404)
    if answer.status_code == 303:
        assert answer.headers["location"] == "/?note=link"
        assert NEUTRAL in text_of(client.get(answer.headers["location"]).text)
    assert table_counts() == before


def _live_token_path(grace: str) -> str:
    return path_of(link_of(send_portal_email(grace, actor=AGENT).outbox_id))


@pytest.mark.parametrize("change", ["upper", "percent", "extra", "swap-purpose"])
def test_a_live_token_altered_in_any_way_does_not_open_and_is_not_used_up(make_client, grace, change):
    """Percent-encoding every character of a live token, changing its case, adding a path
    segment or sending it to the reset URL: neutral, and the real link still opens after."""
    path = _live_token_path(grace)
    token = path.rsplit("/", 1)[1]
    altered = {
        "upper": path[:-len(token)] + token.swapcase(),
        "percent": path[:-len(token)] + "".join(f"%{ord(c):02X}" for c in token),
        "extra": path + "/again",
        "swap-purpose": "/reset/" + token,
    }[change]
    client = make_client()
    before = table_counts()
    answer = client.get(altered, follow_redirects=False)
    if change == "percent":
        # The server decodes %XX before routing: the very same token, so it opens.
        assert answer.headers["location"] == "/setup"
        return
    assert answer.status_code in (303, 404) and answer.headers.get("location", "/?note=link") == "/?note=link"
    assert table_counts() == before
    assert make_client().get(path, follow_redirects=False).headers["location"] == "/setup"

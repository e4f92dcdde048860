"""The setup and reset links: one-time, neutral when unusable, and the forms they lead to."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store.panel import send_portal_email, set_username

from store.prompts import request_password_reset

from store.signin import authenticate
from store.records import portal_view
from store.settings import update_setting
from store.values import PortalState

from .conftest import (
    AGENT, GOOD_PASSWORD, OTHER_PASSWORD, csrf_of, link_of, path_of, sign_in, sql_column, submit, text_of,
)

NEUTRAL = "This link has already been used or has expired."


def choose(client, form_path: str, username: str | None, password: str = GOOD_PASSWORD,
           confirm: str | None = None, **kwargs):
    """Send the setup or reset form."""
    data = {"password": password, "password_confirm": password if confirm is None else confirm}
    if username is not None:
        data["username"] = username
    return submit(client, form_path, data, **kwargs)


def assert_neutral_redirect(answer, token_path: str) -> None:
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?note=link"
    assert token_path.rsplit("/", 1)[-1] not in answer.headers["location"]


class TestSetupLink:
    def test_the_first_open_leads_to_the_form_without_the_token_in_the_url(self, client, setup_link):
        opened = client.get(setup_link, follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/setup"
        form = client.get("/setup")
        assert form.status_code == 200 and 'id="credentials-form"' in form.text
        assert 'value="ada"' in form.text  # pre-filled with the username the agent set
        assert 'autocomplete="new-password"' in form.text
        assert form.headers["cache-control"] == "no-store" and opened.headers["cache-control"] == "no-store"
        assert setup_link.rsplit("/", 1)[1] not in form.text

    def test_a_second_open_goes_to_the_login_page_with_the_neutral_note(self, client, make_client, setup_link):
        """Rule 4: opened again, at any later time, the link brings the customer to the login page."""
        client.get(setup_link)
        again = make_client().get(setup_link, follow_redirects=False)
        assert_neutral_redirect(again, setup_link)
        landed = text_of(make_client().get(setup_link).text)
        assert NEUTRAL in landed and "Sign in" in landed

    def test_a_head_request_does_not_use_the_link(self, client, setup_link):
        """Link checkers send HEAD; only a real open uses the link up."""
        assert client.head(setup_link).status_code == 200
        assert client.get(setup_link, follow_redirects=False).headers["location"] == "/setup"

    def test_choosing_username_and_password_signs_the_customer_in(self, client, customer, setup_link):
        client.get(setup_link)
        done = choose(client, "/setup", "ada.lovelace")
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert "You are signed in as ada.lovelace" in text_of(client.get("/").text)
        view = portal_view(customer)
        assert view.state is PortalState.active and view.username == "ada.lovelace"
        assert authenticate("ada.lovelace", GOOD_PASSWORD).reference == customer

    def test_the_link_opened_after_setup_goes_to_the_login_page(self, client, setup_link):
        client.get(setup_link)
        choose(client, "/setup", "ada")
        assert_neutral_redirect(client.get(setup_link, follow_redirects=False), setup_link)

    def test_a_taken_username_keeps_the_form_and_the_link_for_another_try(self, client, customer, setup_link):
        """The source document: the system prompts them if the one they chose is already in use."""
        from store.customers import add_customer

        other = add_customer(name="Grace Hopper", primary_email="grace@x.example", actor=AGENT).reference
        set_username(other, "grace", expected_version=None, actor=AGENT)
        client.get(setup_link)
        taken = choose(client, "/setup", "GRACE")
        assert taken.status_code == 400
        assert "That username is already in use." in text_of(taken.text)
        assert 'value="GRACE"' in taken.text and 'aria-invalid="true"' in taken.text
        assert portal_view(customer).state is PortalState.awaiting_customer
        assert choose(client, "/setup", "ada.l").status_code == 303
        assert portal_view(customer).username == "ada.l"

    def test_a_weak_password_is_refused_with_the_reason(self, client, customer, setup_link):
        client.get(setup_link)
        weak = choose(client, "/setup", "ada", password="password123")
        assert weak.status_code == 400 and "common" in text_of(weak.text).lower()
        short = choose(client, "/setup", "ada", password="abc")
        assert "Use at least 8 characters." in text_of(short.text)
        assert portal_view(customer).state is PortalState.awaiting_customer

    def test_two_different_passwords_are_refused(self, client, customer, setup_link):
        client.get(setup_link)
        answer = choose(client, "/setup", "ada", confirm=OTHER_PASSWORD)
        assert answer.status_code == 400 and "The two passwords are not the same." in text_of(answer.text)
        assert portal_view(customer).state is PortalState.awaiting_customer

    def test_an_over_long_username_gets_a_clear_message(self, client, customer, setup_link):
        client.get(setup_link)
        answer = choose(client, "/setup", "a" * 500)
        assert answer.status_code == 400 and "at most 64 characters" in text_of(answer.text)

    def test_an_over_long_password_gets_a_clear_message(self, client, customer, setup_link):
        client.get(setup_link)
        answer = choose(client, "/setup", "ada", password="correct horse " * 20)
        assert answer.status_code == 400 and "Use at most 128 characters." in text_of(answer.text)

    def test_a_password_of_128_characters_is_accepted(self, client, customer, setup_link):
        client.get(setup_link)
        long_password = ("zebra quartz monsoon " * 7)[:128]
        assert choose(client, "/setup", "ada", password=long_password).status_code == 303

    def test_control_characters_in_the_username_get_a_clear_message(self, client, customer, setup_link):
        client.get(setup_link)
        answer = choose(client, "/setup", "ada\nBcc: x@evil.example")
        assert answer.status_code == 400 and "line breaks or control characters" in text_of(answer.text)
        assert "evil" not in answer.text

    def test_a_body_that_is_not_utf8_gets_a_clear_message(self, client, customer, setup_link):
        client.get(setup_link)
        token = client.get("/setup").text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post("/setup", content=f"csrf_token={token}&username=ada%FF&password=x".encode(),
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 400 and "not UTF-8 text" in text_of(answer.text)
        raw = client.post("/setup", content=b"username=\xff\xfe&password=x",
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert raw.status_code == 400 and "not UTF-8 text" in text_of(raw.text)
        assert portal_view(customer).state is PortalState.awaiting_customer

    def test_a_huge_body_gets_a_clear_message(self, client, customer, setup_link):
        client.get(setup_link)
        answer = client.post("/setup", data={"username": "a" * 40_000, "password": "x"})
        assert answer.status_code == 413 and "far too long" in text_of(answer.text)

    def test_the_form_without_the_csrf_token_changes_nothing(self, client, customer, setup_link):
        client.get(setup_link)
        answer = choose(client, "/setup", "ada", csrf=False)
        assert answer.status_code == 403
        assert portal_view(customer).state is PortalState.awaiting_customer
        assert choose(client, "/setup", "ada").status_code == 303  # the form still works with the token

    def test_the_form_closes_thirty_minutes_after_the_open(self, client, customer, setup_link, fixed_clock):
        """The session opened by a setup link lasts at most 30 minutes."""
        client.get(setup_link)
        token = csrf_of(client.get("/setup").text)
        fixed_clock.advance(timedelta(minutes=30, seconds=1))
        answer = client.post("/setup", data={"csrf_token": token, "username": "ada", "password": GOOD_PASSWORD,
                                             "password_confirm": GOOD_PASSWORD}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/?note=expired"
        assert "open for more than 30 minutes" in text_of(client.get("/?note=expired").text)
        assert client.get("/setup", follow_redirects=False).headers["location"] == "/?note=link"
        assert portal_view(customer).state is PortalState.awaiting_customer

    def test_reloading_the_form_after_thirty_minutes_says_it_closed(self, client, setup_link, fixed_clock):
        client.get(setup_link)
        fixed_clock.advance(timedelta(minutes=31))
        assert client.get("/setup", follow_redirects=False).headers["location"] == "/?note=expired"

    def test_the_form_still_works_at_twenty_nine_minutes(self, client, customer, setup_link, fixed_clock):
        client.get(setup_link)
        fixed_clock.advance(timedelta(minutes=29))
        assert choose(client, "/setup", "ada").status_code == 303

    def test_the_form_without_an_opened_link_goes_to_the_login_page(self, client, store_db):
        assert client.get("/setup", follow_redirects=False).headers["location"] == "/?note=link"
        assert client.post("/setup", data={}, follow_redirects=False).headers["location"] == "/?note=link"

    def test_a_username_change_by_the_agent_closes_the_open_form(self, client, customer, setup_link):
        """A half-done setup must not finish after the agent changed the username."""
        client.get(setup_link)
        set_username(customer, "ada.new", expected_version=None, actor=AGENT)
        answer = choose(client, "/setup", "ada")
        assert answer.status_code == 303 and answer.headers["location"] == "/?note=link"
        assert portal_view(customer).state is PortalState.awaiting_customer


class TestUnusableLinks:
    def test_an_expired_link_reads_like_a_used_one(self, client, setup_link, fixed_clock):
        fixed_clock.advance(timedelta(hours=72, seconds=1))
        assert_neutral_redirect(client.get(setup_link, follow_redirects=False), setup_link)

    def test_a_revoked_link_reads_like_a_used_one(self, client, customer, setup_link):
        """Sending a newer link revokes the older one."""
        newer = path_of(link_of(send_portal_email(customer, actor=AGENT).outbox_id))
        assert_neutral_redirect(client.get(setup_link, follow_redirects=False), setup_link)
        assert client.get(newer, follow_redirects=False).headers["location"] == "/setup"

    @pytest.mark.parametrize("path", [
        "/setup/short", "/setup/" + "A" * 43 + "x", "/setup/" + "A" * 43, "/setup/a/b/c", "/setup/%2e%2e%2f",
        "/setup/a%00b", "/setup/%FF%FE", "/reset/" + "B" * 43, "/setup/" + "A" * 5000,
    ])
    def test_a_malformed_or_unknown_token_reads_like_a_used_one(self, client, store_db, path):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/?note=link"

    def test_a_setup_token_does_not_open_the_reset_form(self, client, setup_link):
        token = setup_link.rsplit("/", 1)[1]
        assert client.get(f"/reset/{token}", follow_redirects=False).headers["location"] == "/?note=link"
        assert client.get(setup_link, follow_redirects=False).headers["location"] == "/setup"


class TestResetLink:
    def _active(self, client, setup_link) -> None:
        client.get(setup_link)
        choose(client, "/setup", "ada")
        submit(client, "/", {}, action="/logout")

    def test_a_reset_link_sets_a_new_password_and_keeps_the_username(self, client, customer, setup_link):
        self._active(client, setup_link)
        reset = path_of(link_of(send_portal_email(customer, actor=AGENT).outbox_id))
        assert reset.startswith("/reset/")
        assert client.get(reset, follow_redirects=False).headers["location"] == "/reset"
        form = client.get("/reset")
        assert 'value="ada"' in form.text and "readonly" in form.text
        assert choose(client, "/reset", None, password=OTHER_PASSWORD).status_code == 303
        assert "You are signed in as ada" in text_of(client.get("/").text)
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 400
        assert sign_in(client, "ada", OTHER_PASSWORD).status_code == 303
        assert_neutral_redirect(client.get(reset, follow_redirects=False), reset)

    def test_a_new_password_ends_sessions_signed_in_with_the_old_one(self, client, make_client, customer,
                                                                      setup_link, fixed_clock):
        """Someone signed in elsewhere with the old password is signed out by a reset."""
        self._active(client, setup_link)
        elsewhere = make_client()
        assert sign_in(elsewhere, "ada", GOOD_PASSWORD).status_code == 303
        fixed_clock.advance(timedelta(minutes=5))
        reset = path_of(link_of(send_portal_email(customer, actor=AGENT).outbox_id))
        client.get(reset)
        choose(client, "/reset", None, password=OTHER_PASSWORD)
        assert "You are signed in as ada" in text_of(client.get("/").text)
        assert "so you were signed out" in text_of(elsewhere.get("/").text)

    def test_a_reset_link_for_a_customer_without_username_asks_for_one(self, client, customer):
        """The Create Credential prompt by address sends a reset link; it sets a username too."""
        request_password_reset("ada@engines.example", prompt="Create Credential")
        reset = path_of(link_of(sql_column("outbox_email", "id")[-1]))
        client.get(reset)
        form = client.get("/reset")
        assert 'name="username"' in form.text and "readonly" not in form.text
        assert choose(client, "/reset", "", password=OTHER_PASSWORD).status_code == 400
        assert choose(client, "/reset", "ada.l", password=OTHER_PASSWORD).status_code == 303
        assert portal_view(customer).username == "ada.l"


class TestLinkUseOnSubmit:
    def test_with_link_use_submit_an_open_does_not_use_the_link(self, client, make_client, customer, setup_link):
        """For mail filters that pre-open links: the link is used when the form is sent."""
        update_setting("link_use", "submit", actor=AGENT)
        assert make_client().get(setup_link, follow_redirects=False).headers["location"] == "/setup"
        assert client.get(setup_link, follow_redirects=False).headers["location"] == "/setup"
        assert choose(client, "/setup", "ada").status_code == 303
        assert_neutral_redirect(make_client().get(setup_link, follow_redirects=False), setup_link)


class TestFormTries:
    def test_the_form_closes_after_ten_tries_and_says_why(self, client, customer, setup_link):
        """One opened link can't probe usernames without end: the 11th sending is refused."""
        client.get(setup_link)
        for _ in range(10):
            assert choose(client, "/setup", "ada", password="password123").status_code == 400
        token = csrf_of(client.get("/").text)
        closed = client.post("/setup", data={"csrf_token": token, "username": "ada", "password": GOOD_PASSWORD,
                                             "password_confirm": GOOD_PASSWORD}, follow_redirects=False)
        assert closed.status_code == 303 and closed.headers["location"] == "/?note=tries"
        page = text_of(client.get("/?note=tries").text)
        assert "This form was sent 10 times, so it closed. Ask for a new link" in page
        assert client.get("/setup", follow_redirects=False).headers["location"] == "/?note=link"
        assert portal_view(customer).state is PortalState.awaiting_customer

    def test_the_tries_are_counted_per_link_in_the_database(self, client, make_client, customer, setup_link):
        """With link use on submit, every browser that opens the link shares its tries."""
        update_setting("link_use", "submit", actor=AGENT)
        first, second = make_client(), make_client()
        first.get(setup_link)
        second.get(setup_link)
        for _ in range(5):
            choose(first, "/setup", "ada", password="password123")
            choose(second, "/setup", "ada", password="password123")
        assert sql_column("portal_link", "form_tries")[-1] == 10
        assert second.get("/setup", follow_redirects=False).headers["location"] == "/?note=tries"

    def test_a_new_link_gets_a_fresh_form(self, client, customer, setup_link):
        client.get(setup_link)
        for _ in range(10):
            choose(client, "/setup", "ada", password="password123")
        newer = path_of(link_of(send_portal_email(customer, actor=AGENT).outbox_id))
        client.get(newer)
        assert choose(client, "/setup", "ada").status_code == 303


class TestHeadRequests:
    def test_head_on_the_form_runs_no_post_and_counts_no_try(self, client, customer, setup_link):
        client.get(setup_link)
        for _ in range(12):
            assert client.head("/setup").status_code == 200
        assert sql_column("portal_link", "form_tries")[-1] == 0
        assert portal_view(customer).state is PortalState.awaiting_customer
        assert choose(client, "/setup", "ada").status_code == 303

    def test_head_on_a_link_with_link_use_submit_does_not_use_it(self, client, customer, setup_link):
        update_setting("link_use", "submit", actor=AGENT)
        assert client.head(setup_link).status_code == 200
        assert sql_column("portal_link", "used_at")[-1] is None

"""The main login page, the signed-in page and sign-out."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from portal.ratelimit import Limit, Limits, SignInLimits
from store.credentials import complete_link, open_link
from store.panel import delete_username
from store.values import LinkPurpose

from .conftest import (
    AGENT, GOOD_PASSWORD, OTHER_PASSWORD, csrf_of, link_of, sign_in, sql_column, submit, text_of,
)


def _activate(customer: str) -> None:
    """Ada sets up her login through the service layer: username 'ada', GOOD_PASSWORD."""
    from store.panel import send_portal_email, set_username

    set_username(customer, "ada", expected_version=None, actor=AGENT)
    token = link_of(send_portal_email(customer, actor=AGENT).outbox_id).rsplit("/", 1)[1]
    complete_link(open_link(token, LinkPurpose.setup), username=None, password=GOOD_PASSWORD)


class TestLoginPage:
    def test_the_login_page_has_labelled_fields_and_both_prompts(self, client):
        """Plain, accessible HTML: labels, autocomplete hints, the two prompts linked."""
        page = client.get("/")
        assert page.status_code == 200
        assert '<label for="username">Username</label>' in page.text
        assert 'autocomplete="username"' in page.text and 'autocomplete="current-password"' in page.text
        assert 'href="/forgot-password">Forgot Password<' in page.text
        assert 'href="/create-credential">Create Credential<' in page.text
        assert csrf_of(page.text)

    def test_the_right_pair_signs_in_and_shows_who_you_are(self, client, customer):
        _activate(customer)
        answer = sign_in(client, "ADA", GOOD_PASSWORD)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        home = text_of(client.get("/").text)
        assert "You are signed in as ada (Ada Lovelace" in home and "Sign out" in home

    def test_a_wrong_password_and_an_unknown_username_read_the_same(self, client, customer):
        """One neutral message: the page never says which half was wrong."""
        _activate(customer)
        wrong_password = sign_in(client, "ada", "not the password at all")
        unknown_user = sign_in(client, "nobody-here", GOOD_PASSWORD)
        assert wrong_password.status_code == unknown_user.status_code == 400
        assert "That username and password do not match." in text_of(wrong_password.text)
        assert text_of(wrong_password.text).replace("ada", "X") == text_of(unknown_user.text).replace("nobody-here", "X")
        assert "signed in as" not in client.get("/").text

    def test_the_username_is_kept_but_never_the_password(self, client, customer):
        _activate(customer)
        answer = sign_in(client, "ada", "wrong-password-typed")
        assert 'value="ada"' in answer.text and "wrong-password-typed" not in answer.text

    def test_empty_fields_get_a_clear_message(self, client):
        answer = sign_in(client, "", "")
        assert answer.status_code == 400 and "Enter your username and password." in text_of(answer.text)

    def test_a_username_with_control_characters_gets_a_clear_message(self, client):
        answer = sign_in(client, "ada\r\nX-Injected: 1", GOOD_PASSWORD)
        assert answer.status_code == 400
        assert "can't contain line breaks or control characters" in text_of(answer.text)

    def test_over_long_fields_get_the_neutral_message_not_an_error(self, client, customer):
        """Megabyte-ish usernames and passwords are refused quickly, never hashed, never a 500."""
        _activate(customer)
        answer = sign_in(client, "a" * 5000, "p" * 5000)
        assert answer.status_code == 400 and "That username and password do not match." in text_of(answer.text)

    def test_a_login_body_that_is_not_utf8_gets_a_clear_message(self, client):
        client.get("/")
        answer = client.post("/login", content=b"username=ada&password=%E9t%E9",
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 400 and "not UTF-8 text" in text_of(answer.text)

    def test_sign_out_ends_the_session(self, client, customer):
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        out = submit(client, "/", {}, action="/logout")
        assert out.status_code == 303 and out.headers["location"] == "/?note=signed-out"
        page = text_of(client.get("/?note=signed-out").text)
        assert "You have signed out." in page and "Sign in" in page and "signed in as" not in page

    def test_a_deleted_username_ends_the_signed_in_session(self, client, customer):
        """When the agent deletes the login, the customer's open session stops too."""
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        delete_username(customer, expected_version=None, actor=AGENT)
        page = text_of(client.get("/").text)
        assert "Your portal login changed, so you were signed out." in page
        assert "signed in as" not in page


class TestServerSessions:
    """Sessions live in the database, so the server ends them whatever a cookie still holds."""

    def test_a_cookie_saved_before_sign_out_no_longer_signs_in(self, client, make_client, customer):
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        saved = client.cookies["portal_session"]
        submit(client, "/", {}, action="/logout")
        replay = make_client()
        replay.cookies.set("portal_session", saved)
        assert "signed in as" not in replay.get("/").text

    def test_the_database_keeps_only_a_hash_of_the_session_id(self, client, customer):
        import base64
        import hashlib
        import json

        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        payload = client.cookies["portal_session"].split(".")[0]
        session_id = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
        stored = sql_column("portal_session", "id_hash")
        assert stored == [hashlib.sha256(session_id.encode()).hexdigest()] and session_id not in stored

    def test_thirty_minutes_without_a_page_end_the_session(self, client, customer, fixed_clock):
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        fixed_clock.advance(timedelta(minutes=29))
        assert "signed in as" in client.get("/").text  # a page read keeps it alive
        fixed_clock.advance(timedelta(minutes=29))
        assert "signed in as" in client.get("/").text
        fixed_clock.advance(timedelta(minutes=30))
        page = text_of(client.get("/").text)
        assert "You were signed out after 30 minutes without activity." in page and "signed in as" not in page

    def test_a_session_ends_eight_hours_after_sign_in_however_busy(self, client, customer, fixed_clock):
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        for _ in range(23):
            fixed_clock.advance(timedelta(minutes=20))
            assert "signed in as" in client.get("/").text
        fixed_clock.advance(timedelta(minutes=20))
        assert "a session lasts at most 8 hours" in text_of(client.get("/").text)

    def test_a_username_change_by_the_agent_ends_the_session(self, client, customer):
        from store.panel import set_username

        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        set_username(customer, "ada.new", expected_version=None, actor=AGENT)
        assert "Your portal login changed, so you were signed out." in text_of(client.get("/").text)

    def test_sign_out_everywhere_ends_every_session(self, client, make_client, customer):
        from store.sessions import end_sessions

        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        elsewhere = make_client(address="203.0.113.20")
        sign_in(elsewhere, "ada", GOOD_PASSWORD)
        assert end_sessions(customer, actor=AGENT) == 2
        for browser in (client, elsewhere):
            assert "signed out of the portal on every device" in text_of(browser.get("/").text)
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303


class TestSessionCookie:
    def test_the_session_cookie_is_httponly_and_samesite_lax(self, client):
        cookie = client.get("/").headers["set-cookie"]
        assert "portal_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "secure" not in cookie.lower()

    def test_the_session_cookie_is_secure_when_the_portal_is_https(self, make_client):
        cookie = make_client(https=True).get("/").headers["set-cookie"]
        assert "; secure" in cookie.lower()

    def test_a_session_signed_with_another_key_is_not_accepted(self, make_client, customer):
        """A restart with a new random key (PORTAL_SECRET_KEY unset) ends every session."""
        _activate(customer)
        first = make_client(secret_key="key-one")
        sign_in(first, "ada", GOOD_PASSWORD)
        second = make_client(secret_key="key-two")
        second.cookies = first.cookies
        assert "signed in as" not in second.get("/").text
        assert "signed in as" in first.get("/").text


class TestLoginCsrf:
    def test_a_login_without_the_csrf_token_is_refused_with_403(self, client, customer):
        _activate(customer)
        answer = sign_in(client, "ada", GOOD_PASSWORD, csrf=False)
        assert answer.status_code == 403
        assert "This form has expired or was not sent from this site, so nothing was changed." in text_of(answer.text)
        assert "signed in as" not in client.get("/").text

    def test_a_login_with_a_wrong_csrf_token_is_refused_with_403(self, client, customer):
        _activate(customer)
        client.get("/")
        answer = client.post("/login", data={"csrf_token": "forged", "username": "ada", "password": GOOD_PASSWORD})
        assert answer.status_code == 403 and "signed in as" not in client.get("/").text

    def test_sign_out_without_the_csrf_token_is_refused(self, client, customer):
        """A cross-site page can't sign the customer out either."""
        _activate(customer)
        sign_in(client, "ada", GOOD_PASSWORD)
        assert client.post("/logout", data={}).status_code == 403
        assert "signed in as" in client.get("/").text


class TestLoginRateLimit:
    """Limits that slow whoever guesses, not the customer (store/signin.py)."""

    def test_five_wrong_passwords_from_one_address_make_it_wait_a_minute(self, client, customer, fixed_clock):
        _activate(customer)
        for _ in range(5):
            assert sign_in(client, "ada", "wrong-password-here").status_code == 400
        blocked = sign_in(client, "ada", GOOD_PASSWORD)
        assert blocked.status_code == 429
        assert "Too many attempts, try again in 1 minute." in text_of(blocked.text)
        assert blocked.headers["retry-after"] == "60"
        fixed_clock.advance(timedelta(minutes=1))
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303

    def test_each_further_wrong_password_doubles_the_wait(self, client, customer, fixed_clock):
        _activate(customer)
        for _ in range(5):
            sign_in(client, "ada", "wrong-password-here")
        for minutes in (1, 2, 4, 8):
            assert f"try again in {minutes} minute" in text_of(sign_in(client, "ada", "wrong-again").text)
            fixed_clock.advance(timedelta(minutes=minutes))
            assert sign_in(client, "ada", "wrong-again").status_code == 400

    def test_four_failures_still_let_the_right_password_in(self, client, customer):
        _activate(customer)
        for _ in range(4):
            sign_in(client, "ada", "wrong-password-here")
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303

    def test_someone_else_s_wrong_passwords_do_not_lock_the_customer_out(self, make_client, customer):
        """Knowing the username is not enough to keep its customer out: the guesser's address
        waits, the customer's address signs in."""
        _activate(customer)
        guesser = make_client(address="198.51.100.7")
        ada = make_client(address="203.0.113.20", app=guesser.app)  # the same portal process
        for _ in range(8):
            sign_in(guesser, "ada", "a-guessed-password")
        assert sign_in(guesser, "ada", GOOD_PASSWORD).status_code == 429
        assert sign_in(ada, "ada", GOOD_PASSWORD).status_code == 303

    def test_the_right_password_clears_that_address_s_failures(self, client, customer):
        _activate(customer)
        for _ in range(4):
            sign_in(client, "ada", "wrong-password-here")
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303
        for _ in range(4):
            assert sign_in(client, "ada", "wrong-password-here").status_code == 400

    def test_wrong_passwords_from_many_addresses_reach_the_username_s_ceiling(self, make_client, customer,
                                                                              fixed_clock):
        """Guessing from many addresses is stopped for everyone, the customer included, until
        the window passes (or a reset clears it)."""
        _activate(customer)
        limits = Limits(sign_in=SignInLimits(per_username=Limit(6, timedelta(hours=1))))
        for n in range(3):
            guesser = make_client(limits=limits, address=f"198.51.100.{n}")
            for _ in range(2):
                assert sign_in(guesser, "ada", "a-guessed-password").status_code == 400
        ada = make_client(limits=limits, address="203.0.113.20")
        blocked = sign_in(ada, "ada", GOOD_PASSWORD)
        assert blocked.status_code == 429 and "try again in 60 minutes" in text_of(blocked.text)
        fixed_clock.advance(timedelta(hours=1))
        assert sign_in(ada, "ada", GOOD_PASSWORD).status_code == 303

    def test_a_password_reset_clears_the_username_s_failures(self, client, customer):
        """The customer who proves who they are with a reset link can sign in at once."""
        from store.panel import send_portal_email

        _activate(customer)
        for _ in range(5):
            sign_in(client, "ada", "wrong-password-here")
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 429
        token = link_of(send_portal_email(customer, actor=AGENT).outbox_id).rsplit("/", 1)[1]
        complete_link(open_link(token, LinkPurpose.reset), username=None, password=OTHER_PASSWORD)
        assert sign_in(client, "ada", OTHER_PASSWORD).status_code == 303

    def test_failures_from_one_address_across_usernames_block_that_address(self, make_client, store_db, fixed_clock):
        """Per client IP: guessing many usernames from one address is limited too."""
        client = make_client(limits=Limits(sign_in=SignInLimits(per_address=Limit(3, timedelta(minutes=10)))))
        for name in ("one", "two", "three"):
            assert sign_in(client, name, "some-password").status_code == 400
        blocked = sign_in(client, "four", "some-password")
        assert blocked.status_code == 429 and "try again in 10 minutes" in text_of(blocked.text)
        fixed_clock.advance(timedelta(minutes=9, seconds=30))
        assert "try again in 1 minute." in text_of(sign_in(client, "five", "x-password").text)

    def test_the_counts_are_shared_by_processes_and_survive_a_restart(self, make_client, customer):
        """Kept in the database: another portal process (or this one restarted) sees them."""
        _activate(customer)
        first = make_client()
        for _ in range(5):
            sign_in(first, "ada", "wrong-password-here")
        assert sign_in(make_client(), "ada", GOOD_PASSWORD).status_code == 429

    def test_a_burst_of_wrong_passwords_gets_no_more_than_the_limit_checked(self, make_client, customer):
        """Each attempt is counted before its password is checked: 100 at once for one username
        from one address, and only 5 reach the password check; the rest are told to wait."""
        _activate(customer)
        statuses = burst(make_client(), ["wrong-password-here"] * 100)
        assert statuses.count(400) <= 5 and statuses.count(429) >= 95, statuses
        assert set(statuses) <= {400, 429}

    def test_the_right_password_in_a_burst_past_the_limit_does_not_sign_in(self, make_client, customer):
        """Once a burst has used up the limit, the right password in the next one waits too."""
        _activate(customer)
        client = make_client()
        statuses = burst(client, ["wrong-password-here"] * 39)
        assert statuses.count(400) <= 5, statuses
        assert burst(client, ["wrong-again"] * 10 + [GOOD_PASSWORD] + ["wrong-again"] * 10) == [429] * 21
        assert "signed in as" not in client.get("/").text


def burst(client, passwords: list[str]) -> list[int]:
    """Send one sign-in per password for 'ada', all at once (the portal app on its own event
    loop, each request in a thread), and return the statuses in the order given."""
    token = csrf_of(client.get("/").text)
    start = threading.Barrier(len(passwords))

    def one(password: str) -> int:
        start.wait(timeout=30)
        return client.post("/login", data={"csrf_token": token, "username": "ada", "password": password},
                           follow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(one, passwords))

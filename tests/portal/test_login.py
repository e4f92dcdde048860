"""The main login page, the signed-in page and sign-out."""
from __future__ import annotations

from datetime import timedelta

from portal.ratelimit import Limit, Limits
from store.credentials import complete_link, open_link
from store.panel import delete_username
from store.values import LinkPurpose

from .conftest import AGENT, GOOD_PASSWORD, csrf_of, link_of, sign_in, submit, text_of


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
    def test_five_failures_for_one_username_block_it_with_429(self, client, customer, fixed_clock):
        """Per account: even the right password waits until the window has passed."""
        _activate(customer)
        for _ in range(5):
            assert sign_in(client, "ada", "wrong-password-here").status_code == 400
        blocked = sign_in(client, "ada", GOOD_PASSWORD)
        assert blocked.status_code == 429
        assert "Too many attempts, try again in 15 minutes." in text_of(blocked.text)
        assert int(blocked.headers["retry-after"]) > 0
        fixed_clock.advance(timedelta(minutes=15))
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303

    def test_four_failures_still_let_the_right_password_in(self, client, customer):
        _activate(customer)
        for _ in range(4):
            sign_in(client, "ada", "wrong-password-here")
        assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303

    def test_failures_from_one_address_across_usernames_block_that_address(self, make_client, store_db, fixed_clock):
        """Per client IP: guessing many usernames from one address is limited too."""
        client = make_client(limits=Limits(login_per_ip=Limit(3, timedelta(minutes=10))))
        for name in ("one", "two", "three"):
            assert sign_in(client, name, "some-password").status_code == 400
        blocked = sign_in(client, "four", "some-password")
        assert blocked.status_code == 429 and "try again in 10 minutes" in text_of(blocked.text)
        fixed_clock.advance(timedelta(minutes=9, seconds=30))
        assert "try again in 1 minute." in text_of(sign_in(client, "five", "x-password").text)

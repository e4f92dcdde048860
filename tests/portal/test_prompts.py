"""The Forgot Password and Create Credential prompts: same answer, same time, matched or not."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from portal.ratelimit import Limit, Limits, PromptLimits
from portal.prompts import PROMPT_SENT
from store.panel import set_username
from store.settings import update_setting

from .conftest import AGENT, sql_column, submit, text_of, wait_for

PROMPTS = ["/forgot-password", "/create-credential"]


def ask(client, prompt: str, identifier: str, **kwargs):
    return submit(client, prompt, {"identifier": identifier}, **kwargs)


def reset_emails() -> list[list[str]]:
    """The recipients of every Password Reset email in the outbox."""
    return [json.loads(r) for r in sql_column("outbox_email", "to_addresses", "kind = ?", ("password_reset",))]


class TestPromptAnswers:
    @pytest.mark.parametrize("prompt", PROMPTS)
    def test_a_known_username_queues_the_reset_email_to_every_address(self, client, customer, prompt):
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        answer = ask(client, prompt, "ADA")
        assert answer.status_code == 200 and PROMPT_SENT in text_of(answer.text)
        assert wait_for(lambda: reset_emails() == [["ada@engines.example", "billing@engines.example"]])

    def test_a_known_address_queues_the_reset_email(self, client, customer):
        """The Create Credential prompt: a customer without a username gives their address."""
        ask(client, "/create-credential", "Billing@Engines.example")
        assert wait_for(lambda: len(reset_emails()) == 1)

    @pytest.mark.parametrize("prompt", PROMPTS)
    def test_an_unknown_account_gets_the_same_page_and_status(self, client, customer, prompt):
        """Nothing on the page tells whether such a customer exists."""
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        known = ask(client, prompt, "ada")
        unknown = ask(client, prompt, "nobody")
        assert known.status_code == unknown.status_code == 200
        assert text_of(known.text) == text_of(unknown.text)
        assert wait_for(lambda: len(reset_emails()) == 1)
        assert len(reset_emails()) == 1

    def test_with_the_reset_switch_off_the_page_is_the_same_and_nothing_is_sent(self, client, customer):
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        update_setting("password_reset_email", "off", actor=AGENT)
        answer = ask(client, "/forgot-password", "ada")
        assert answer.status_code == 200 and PROMPT_SENT in text_of(answer.text)
        assert wait_for(lambda: "email not sent" in sql_column("activity_event", "action"))
        assert reset_emails() == []

    def test_matched_and_unmatched_take_the_same_fixed_time(self, make_client, customer):
        """The answer comes after a fixed time, so timing does not tell a match either."""
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        client = make_client(prompt_seconds=0.3)
        durations = {}
        for identifier in ("ada", "nobody", "ada@engines.example", "nobody@nowhere.example"):
            page = client.get("/forgot-password")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            started = time.perf_counter()
            client.post("/forgot-password", data={"csrf_token": token, "identifier": identifier})
            durations[identifier] = time.perf_counter() - started
        assert all(d >= 0.3 for d in durations.values()), durations
        assert max(durations.values()) - min(durations.values()) < 0.25, durations
        assert wait_for(lambda: len(reset_emails()) == 2)


class TestPromptBadInput:
    @pytest.mark.parametrize("identifier, words", [
        ("", "Enter your username or email address."),
        ("   ", "Enter your username or email address."),
        ("a" * 321 + "@x.example", "at most 320 characters"),
        ("ada@x.example\r\nBcc: all@x.example", "can't contain line breaks or control characters"),
    ])
    def test_bad_input_gets_a_clear_message_on_the_form(self, client, customer, identifier, words):
        answer = ask(client, "/forgot-password", identifier)
        assert answer.status_code == 400 and words in text_of(answer.text)
        assert 'id="prompt-form"' in answer.text

    def test_a_prompt_without_the_csrf_token_sends_nothing(self, client, customer):
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        answer = ask(client, "/forgot-password", "ada", csrf=False)
        assert answer.status_code == 403 and "nothing was changed" in text_of(answer.text)
        time.sleep(0.1)
        assert reset_emails() == []

    def test_a_non_utf8_prompt_gets_a_clear_message(self, client, store_db):
        client.get("/forgot-password")
        answer = client.post("/forgot-password", content=b"identifier=%C3%28",
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 400 and "not UTF-8 text" in text_of(answer.text)

    def test_a_multipart_body_gets_a_clear_message(self, client, store_db):
        client.get("/forgot-password")
        answer = client.post("/forgot-password", files={"identifier": ("x.txt", b"ada")})
        assert answer.status_code == 415 and "could not be read" in text_of(answer.text)


class TestPromptRateLimit:
    def test_the_sixth_request_for_one_identifier_in_an_hour_is_refused(self, client, customer, fixed_clock):
        """Per account: known or unknown, the limit (and its page) is the same."""
        for identifier in ("ada", "nobody"):
            for _ in range(5):
                assert ask(client, "/forgot-password", identifier).status_code == 200
            blocked = ask(client, "/create-credential", identifier.upper())
            assert blocked.status_code == 429
            assert "Too many attempts, try again in 60 minutes." in text_of(blocked.text)
        fixed_clock.advance(timedelta(hours=1))
        assert ask(client, "/forgot-password", "ada").status_code == 200

    def test_one_address_asking_for_many_accounts_is_limited(self, make_client, customer, fixed_clock):
        """Per client IP: walking through many names from one address is stopped."""
        client = make_client(limits=Limits(prompts=PromptLimits(per_address=Limit(3, timedelta(minutes=20)))))
        for name in ("one", "two", "three"):
            assert ask(client, "/forgot-password", name).status_code == 200
        blocked = ask(client, "/forgot-password", "four")
        assert blocked.status_code == 429 and "try again in 20 minutes" in text_of(blocked.text)

    def test_the_counts_are_shared_by_processes_and_survive_a_restart(self, make_client, customer):
        """Kept in the database: another portal process (or this one restarted) sees them."""
        first = make_client()
        for _ in range(5):
            ask(first, "/forgot-password", "ada")
        assert ask(make_client(), "/forgot-password", "ada").status_code == 429


class TestHead:
    @pytest.mark.parametrize("prompt", PROMPTS)
    def test_head_on_a_prompt_sends_nothing(self, client, customer, prompt):
        """HEAD never runs the POST handler: no email, nothing counted."""
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        for _ in range(6):
            assert client.head(prompt + "?identifier=ada").status_code == 200
        time.sleep(0.1)
        assert reset_emails() == [] and sql_column("portal_attempt", "id") == []
        assert ask(client, prompt, "ada").status_code == 200

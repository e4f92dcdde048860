"""Rule 5: the portal's Forgot Password and Create Credential prompts."""
from datetime import timedelta

import pytest

from store.activity import list_activity
from store.customers import add_customer
from store.panel import set_username
from store.prompts import request_password_reset
from store.settings import update_setting

from .conftest import AGENT, column, count


def test_prompt_by_username_queues_the_reset_email_to_every_address(customer, switches_on):
    set_username(customer, "ada", expected_version=1, actor=AGENT)
    request_password_reset("ADA", prompt="Forgot Password")
    assert column("outbox_email", "kind") == ["password_reset"]
    assert column("outbox_email", "to_addresses") == ['["ada@engines.example", "billing@engines.example"]']
    assert column("outbox_email", "queued_by") == ["customer"]


def test_prompt_by_any_primary_address_matches_exactly(customer, switches_on):
    """Create Credential by email: the customer without a username gets the reset email too."""
    request_password_reset("Billing@Engines.example", prompt="Create Credential")
    assert count("outbox_email", "kind = 'password_reset'") == 1
    request_password_reset("ling@engines.example", prompt="Create Credential")  # a substring, not an address
    assert count("outbox_email") == 1


def test_unknown_name_or_address_queues_nothing_and_raises_nothing(customer, switches_on):
    """The page must answer the same: the service returns the same nothing."""
    assert request_password_reset("nobody@nowhere.example", prompt="Forgot Password") is None
    assert request_password_reset("no-such-user", prompt="Forgot Password") is None
    assert count("outbox_email") == 0


def test_bad_input_is_ignored_quietly(customer, switches_on):
    for text in ("", "   ", "a\r\nb@x.com", "x" * 500):
        request_password_reset(text, prompt="Forgot Password")
    assert count("outbox_email") == 0


def test_switched_off_reset_email_is_not_sent_and_the_reason_is_logged(customer):
    """Rule 3: the switches govern customer-initiated sends."""
    request_password_reset("ada@engines.example", prompt="Forgot Password")
    assert count("outbox_email") == 0
    assert "switched off in Settings" in list_activity(customer)[0].detail


def test_prompts_are_limited_per_customer_per_hour(customer, switches_on, fixed_clock):
    """Nobody can flood a customer's inbox through the prompt."""
    for _ in range(5):
        request_password_reset("ada@engines.example", prompt="Forgot Password")
    assert count("outbox_email") == 3
    assert "more than 3 in an hour" in list_activity(customer)[0].detail
    fixed_clock.advance(timedelta(hours=1, seconds=1))
    request_password_reset("ada@engines.example", prompt="Forgot Password")
    assert count("outbox_email") == 4


def test_an_address_shared_by_two_customers_reaches_both(switches_on):
    a = add_customer(name="A", primary_email="shared@x.com", actor=AGENT).reference
    b = add_customer(name="B", primary_email="own@y.com shared@x.com", actor=AGENT).reference
    request_password_reset("shared@x.com", prompt="Forgot Password")
    assert count("outbox_email", "kind = 'password_reset'") == 2
    assert {list_activity(r)[0].action for r in (a, b)} == {"email queued"}


class TestIdentifierRule:
    """One rule for what a prompt takes, in the store; the portal shows its sentence."""

    @pytest.mark.parametrize("typed, words", [
        ("", "Enter your username or email address."),
        ("a" * 321, "at most 320 characters"),
        ("ada\u0085x", "line breaks or control characters"),
        ("ada\x00", "line breaks or control characters"),
    ])
    def test_bad_identifiers_are_named_and_send_nothing(self, customer, switches_on, typed, words):
        from store.prompts import identifier_problem

        assert words in identifier_problem(typed)
        request_password_reset(typed, prompt="Forgot Password")
        assert count("outbox_email", "kind = ?", ("password_reset",)) == 0

    def test_a_good_identifier_has_no_problem(self):
        from store.prompts import MAX_IDENTIFIER, identifier_problem

        assert identifier_problem("a" * (MAX_IDENTIFIER - 12) + "@example.com") is None

"""Portal sessions in the database: ended by the store in the transaction of the change that
requires it, by sign out and by "sign out everywhere"; idle and absolute lifetimes; pruning."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import sessions
from store.credentials import complete_link, open_link
from store.panel import delete_username, send_portal_email, set_username
from store.signin import authenticate, begin_sign_in, finish_sign_in
from store.portal_values import SessionEnd
from store.values import LinkPurpose

from .conftest import AGENT, column, count
from tests.links import live_link

PASSWORD = "violet tractor sings at dawn"


def use_link(reference: str, purpose: LinkPurpose, password: str = PASSWORD, address: str | None = None):
    url = live_link(send_portal_email(reference, actor=AGENT).outbox_id)
    return complete_link(open_link(url.rsplit("/", 1)[1], purpose), username=None, password=password,
                         address=address)


@pytest.fixture
def ada(customer) -> str:
    set_username(customer, "ada", expected_version=None, actor=AGENT)
    use_link(customer, LinkPurpose.setup)
    return customer


def signed_in(address: str = "203.0.113.20") -> str:
    return finish_sign_in(begin_sign_in("ada", address), PASSWORD).session_id


def test_a_session_row_keeps_only_the_hash_of_its_id(ada):
    session_id = signed_in()
    assert session_id not in column("portal_session", "id_hash")
    assert sessions.check_session(session_id).who.username == "ada"


@pytest.mark.parametrize("change", ["password reset", "username changed", "username deleted"])
def test_a_login_change_ends_every_session_in_its_transaction(ada, change):
    first, second = signed_in(), signed_in("198.51.100.7")
    if change == "password reset":
        use_link(ada, LinkPurpose.reset, password="copper lantern drifts northward")
    elif change == "username changed":
        set_username(ada, "ada.new", expected_version=None, actor=AGENT)
    else:
        delete_username(ada, expected_version=None, actor=AGENT)
    for session_id in (first, second):
        assert sessions.check_session(session_id).ended is SessionEnd.login_changed
    assert count("portal_session", "ended_at IS NULL") == 0


def test_a_reset_with_an_address_starts_one_new_session(ada):
    old = signed_in()
    who = use_link(ada, LinkPurpose.reset, password="copper lantern drifts northward", address="203.0.113.20")
    assert sessions.check_session(old).who is None
    assert sessions.check_session(who.session_id).who.username == "ada"


def test_sign_out_everywhere_counts_and_records(ada):
    signed_in(), signed_in("198.51.100.7")
    assert sessions.end_sessions(ada, actor=AGENT) == 2
    assert sessions.end_sessions(ada, actor=AGENT) == 0
    assert column("activity_event", "detail", "action = ?", ("signed out everywhere",)) == [
        "2 portal sessions ended", "0 portal sessions ended"]


def test_sign_out_ends_only_that_session(ada):
    mine, other = signed_in(), signed_in("198.51.100.7")
    assert sessions.sign_out(mine, "203.0.113.20") is True
    assert sessions.check_session(mine).ended is SessionEnd.signed_out
    assert sessions.check_session(other).who is not None


def test_idle_and_absolute_lifetimes(ada, fixed_clock):
    session_id = signed_in()
    fixed_clock.advance(timedelta(minutes=sessions.IDLE_MINUTES - 1))
    assert sessions.check_session(session_id).who is not None
    fixed_clock.advance(timedelta(minutes=sessions.IDLE_MINUTES))
    assert sessions.check_session(session_id).ended is SessionEnd.idle
    busy = signed_in()
    for _ in range(sessions.SESSION_HOURS * 2 - 1):
        fixed_clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
        assert sessions.check_session(busy).who is not None
    fixed_clock.advance(timedelta(minutes=31))
    assert sessions.check_session(busy).ended is SessionEnd.expired


def test_malformed_and_unknown_ids_sign_nobody_in(ada):
    for value in (None, 42, "", "x" * 43, "A" * 5000):
        assert sessions.check_session(value).who is None


def test_authenticate_starts_no_session(ada):
    assert authenticate("ada", PASSWORD).session_id is None
    assert count("portal_session") == 0


def test_old_sessions_and_history_are_pruned(ada, fixed_clock):
    session_id = signed_in()
    sessions.sign_out(session_id, "203.0.113.20")
    fixed_clock.advance(timedelta(days=sessions.HISTORY_DAYS + 1))
    signed_in()
    from store.signin import prune

    prune()
    assert count("portal_session") == 1
    assert column("sign_in_event", "event") == ["signed in"]

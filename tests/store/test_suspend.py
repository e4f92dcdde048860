"""Suspend / Resume portal access (rule 16), on SQLite and PostgreSQL: a reversible stop that
keeps the username and password, refuses sign-in with the wrong password's own answer, stops
every link and sends nothing for a prompt; Resume brings back the state it stopped; Delete
still ends in Not set up. Each refused with its reason where it does not apply, each in the
activity log, and the search index's state follows (trigger-maintained, both backends)."""
from __future__ import annotations

import pytest

from store import db
from store.credentials import check_grant, complete_link, open_link
from store.errors import ActionNotAllowed, InvalidInput, InvalidLogin, LinkUnusable
from store.overview import state_counts
from store.panel import (
    delete_username, resume_portal, send_portal_email, set_username, suspend_portal,
)
from store.customer_side import preview_email
from store.prompts import request_password_reset
from store.records import portal_view
from store.search import count_customers, find_customers
from store.sessions import check_session
from store.signin import authenticate, begin_sign_in, finish_sign_in, sign_in_history
from store.portal_values import SessionEnd
from store.values import LinkPurpose, PortalState

from .conftest import AGENT, count
from .test_customer_side import PASSWORD, ada, deliver  # noqa: F401 (ada: the fixture)

OFFICE = "203.0.113.20"


def indexed_state(reference: str) -> int:
    """The state the search index holds for the customer, read with plain SQL."""
    placeholder = "%s" if db.is_postgres() else "?"
    return db.database.execute_sql(
        f"SELECT s.state FROM customer_search s JOIN customer c ON c.id = s.customer_id WHERE c.reference = {placeholder}",
        (reference,)).fetchone()[0]


class TestSuspend:
    def test_suspend_keeps_username_and_password_and_says_why(self, ada) -> None:
        view = suspend_portal(ada, "non-payment", actor=AGENT)
        assert view.state is PortalState.suspended
        assert view.username == "ada"
        assert view.state_text.startswith("Suspended since ") and view.state_text.endswith(": non-payment")
        assert count("portal_login", "password_hash IS NOT NULL AND suspended_at IS NOT NULL") == 1
        assert count("activity_event", "action = 'portal suspended' AND detail = 'non-payment' AND actor = ? "
                     "AND old_value = 'Active' AND new_value = 'Suspended'", (AGENT,)) == 1

    def test_a_reason_with_a_control_or_bidi_character_is_refused_and_nothing_changes(self, ada) -> None:
        for reason in ("late\npayment", "late\u202epayment"):
            with pytest.raises(InvalidInput, match="can't contain") as refused:
                suspend_portal(ada, reason, actor=AGENT)
            assert refused.value.field == "reason"
        assert portal_view(ada).state is PortalState.active
        assert count("activity_event", "action = 'portal suspended'") == 0

    def test_suspend_blocks_sign_in_with_the_wrong_password_answer(self, ada) -> None:
        suspend_portal(ada, actor=AGENT)
        with pytest.raises(InvalidLogin) as right:
            authenticate("ada", PASSWORD, address=OFFICE)
        with pytest.raises(InvalidLogin) as wrong:
            authenticate("ada", "not the password", address=OFFICE)
        assert right.value.message == wrong.value.message  # no oracle
        with pytest.raises(InvalidLogin):
            finish_sign_in(begin_sign_in("ada", OFFICE), PASSWORD)
        assert count("portal_session", "ended_at IS NULL") == 0
        assert [r.event for r in sign_in_history(ada)][:3] == ["refused", "wrong password", "refused"]

    def test_suspend_ends_sessions_and_revokes_open_links(self, ada) -> None:
        session = finish_sign_in(begin_sign_in("ada", OFFICE), PASSWORD).session_id
        assert check_session(session).who is not None
        send_portal_email(ada, actor=AGENT)
        url = deliver()
        suspend_portal(ada, actor=AGENT)
        check = check_session(session)
        assert check.who is None and check.ended is SessionEnd.ended_by_agent
        assert count("portal_link", "revoked_at IS NULL AND used_at IS NULL") == 0
        with pytest.raises(LinkUnusable):
            open_link(url.rsplit("/", 1)[1], LinkPurpose.reset)
        (event, *_) = sign_in_history(ada)
        assert event.event == "suspended" and "1 open link revoked" in event.detail and "1 session ended" in event.detail

    def test_a_link_opened_before_suspension_cannot_set_a_password(self, ada) -> None:
        send_portal_email(ada, actor=AGENT)
        grant = open_link(deliver().rsplit("/", 1)[1], LinkPurpose.reset)
        suspend_portal(ada, actor=AGENT)
        with pytest.raises(LinkUnusable):
            check_grant(grant)
        with pytest.raises(LinkUnusable):
            complete_link(grant, username=None, password="another violet tractor sings")
        assert count("activity_event", "action = 'password set'") == 1  # the first one only

    def test_no_email_while_suspended(self, ada, switches_on) -> None:
        suspend_portal(ada, actor=AGENT)
        queued = count("outbox_email")
        request_password_reset("ada", prompt="Forgot Password")
        request_password_reset("ada@engines.example", prompt="Create Credential")
        assert count("outbox_email") == queued
        assert count("activity_event", "action = 'email not sent' AND detail LIKE ?", ("%: suspended",)) == 2
        view = portal_view(ada)
        assert not view.can_send and view.email_action_label == "No email while suspended"
        for refused in (lambda: send_portal_email(ada, actor=AGENT), lambda: preview_email(ada)):
            with pytest.raises(ActionNotAllowed, match="suspended"):
                refused()
        assert count("outbox_email") == queued

    def test_an_awaiting_customer_can_be_suspended_and_resumes_awaiting(self, customer) -> None:
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        send_portal_email(customer, actor=AGENT)
        url = deliver()
        assert suspend_portal(customer, actor=AGENT).state is PortalState.suspended
        with pytest.raises(LinkUnusable):
            open_link(url.rsplit("/", 1)[1], LinkPurpose.setup)
        view = resume_portal(customer, actor=AGENT)
        assert view.state is PortalState.awaiting_customer
        assert count("activity_event", "action = 'portal resumed' AND old_value = 'Suspended' "
                     "AND new_value = 'Awaiting customer setup'") == 1

    def test_resume_restores_active_and_sign_in(self, ada) -> None:
        suspend_portal(ada, actor=AGENT)
        view = resume_portal(ada, actor=AGENT)
        assert view.state is PortalState.active and view.can_send
        assert authenticate("ada", PASSWORD, address=OFFICE).username == "ada"
        assert count("activity_event", "action = 'portal resumed' AND actor = ? AND new_value = 'Active'",
                     (AGENT,)) == 1

    def test_delete_still_returns_to_not_set_up(self, ada) -> None:
        suspend_portal(ada, actor=AGENT)
        view = delete_username(ada, expected_version=None, actor=AGENT)
        assert view.state is PortalState.not_set_up and view.can_send
        assert count("portal_login") == 0
        assert count("activity_event", "action = 'username deleted' AND detail LIKE ?", ("%suspension ends%",)) == 1


class TestRefusals:
    def test_nothing_to_suspend_without_a_username(self, customer) -> None:
        with pytest.raises(ActionNotAllowed, match="Nothing to suspend"):
            suspend_portal(customer, actor=AGENT)
        assert count("activity_event", "action = 'portal suspended'") == 0

    def test_suspend_twice_is_refused(self, ada) -> None:
        suspend_portal(ada, actor=AGENT)
        with pytest.raises(ActionNotAllowed, match="already suspended"):
            suspend_portal(ada, actor=AGENT)
        assert count("activity_event", "action = 'portal suspended'") == 1

    def test_resume_when_not_suspended_is_refused(self, ada, customer) -> None:
        with pytest.raises(ActionNotAllowed, match="Nothing to resume"):
            resume_portal(ada, actor=AGENT)
        assert count("activity_event", "action = 'portal resumed'") == 0

    def test_a_stale_version_is_refused(self, ada) -> None:
        from store.errors import StaleEdit

        version = portal_view(ada).version
        set_username(ada, "ada.l", expected_version=version, actor=AGENT)
        with pytest.raises(StaleEdit):
            suspend_portal(ada, expected_version=version, actor=AGENT)
        assert portal_view(ada).state is PortalState.active


class TestSearch:
    def test_the_index_state_follows_suspend_resume_and_delete(self, ada) -> None:
        assert indexed_state(ada) == 2
        suspend_portal(ada, actor=AGENT)
        assert indexed_state(ada) == 3
        found = find_customers("", state=PortalState.suspended)
        assert [c.reference for c in found.customers] == [ada]
        assert found.customers[0].state is PortalState.suspended
        assert find_customers("", state=PortalState.active).customers == ()
        assert count_customers("ada", state=PortalState.suspended).count == 1
        assert {c.state: c.count for c in state_counts()}[PortalState.suspended] == 1
        resume_portal(ada, actor=AGENT)
        assert indexed_state(ada) == 2
        suspend_portal(ada, actor=AGENT)
        delete_username(ada, expected_version=None, actor=AGENT)
        assert indexed_state(ada) == 0
        assert find_customers("", state=PortalState.suspended).customers == ()

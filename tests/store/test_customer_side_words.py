"""The customer's side in words, as pure functions of the values and the clock: a link at each
point of its life, the sign-in line and the lock line."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from store.portal_values import LinkPhase, LinkStatus, SignInStatus
from store.values import LinkPurpose, OutboxStatus, span
from tests.conftest import TEST_NOW

HOUR = timedelta(hours=1)
SENT = LinkStatus(
    purpose=LinkPurpose.setup, created_at=TEST_NOW, expires_at=TEST_NOW + 72 * HOUR, used_at=None,
    revoked_at=None, revoked_reason=None, email_status=OutboxStatus.sent, sent_at=TEST_NOW + timedelta(seconds=20),
    to=("ada@engines.example", "billing@engines.example"), email_error=None, refused=(), form_minutes=30,
    used_on_open=True,
)


def at(delta: timedelta):
    return TEST_NOW + delta


class TestSpans:
    def test_seconds_minutes_hours_then_days(self) -> None:
        assert [span(timedelta(seconds=s)) for s in (0, 59, 60, 3599, 3600, 72 * 3600, 100 * 3600)] == [
            "0 s", "59 s", "1 min", "59 min", "1 h", "72 h", "4 d"]

    def test_minutes_beside_hours_under_ten_hours(self) -> None:
        """A 2-hour reset link sent a second ago has 1 h 59 min left, not '1 h'."""
        assert [span(timedelta(seconds=s)) for s in (7199, 3660, 3600 + 59, 9 * 3600 + 3599, 10 * 3600 + 60)] == [
            "1 h 59 min", "1 h 1 min", "1 h", "9 h 59 min", "10 h"]

    def test_from_ten_hours_to_the_nearest_hour(self) -> None:
        """A 72-hour setup link sent a second ago expires in 72 h, not 71 h."""
        assert [span(timedelta(seconds=s)) for s in (72 * 3600 - 1, 70 * 3600 + 1799, 70 * 3600 + 1800)] == [
            "72 h", "70 h", "71 h"]


class TestLinkLife:
    def test_queued_until_the_mailer_sends_it(self) -> None:
        queued = replace(SENT, email_status=OutboxStatus.queued, sent_at=None)
        assert queued.phase(at(timedelta(0))) is LinkPhase.queued
        assert queued.text(at(timedelta(minutes=3))) == (
            "Setup link queued 3 min ago for 2 addresses, not sent yet, expires in 72 h")

    def test_sent_and_not_opened_counts_down_to_its_expiry(self) -> None:
        assert SENT.text(at(2 * HOUR)) == "Setup link sent 1 h 59 min ago to 2 addresses, not opened yet, expires in 70 h"
        assert SENT.text(at(2 * HOUR + timedelta(seconds=20))) == (
            "Setup link sent 2 h ago to 2 addresses, not opened yet, expires in 70 h")  # to the nearest hour
        assert SENT.phase(at(72 * HOUR - timedelta(seconds=1))) is LinkPhase.sent

    def test_never_opened_it_expires(self) -> None:
        assert SENT.phase(at(72 * HOUR)) is LinkPhase.expired
        assert SENT.text(at(75 * HOUR)) == (
            "Setup link sent 75 h ago to 2 addresses, never opened, expired 3 h ago")

    def test_opened_gives_the_form_for_thirty_minutes(self) -> None:
        opened = replace(SENT, used_at=at(HOUR))
        assert opened.phase(at(HOUR)) is LinkPhase.opened
        assert opened.text(at(HOUR + timedelta(minutes=5))).endswith(", opened 5 min ago, no password set yet")
        assert opened.text(at(2 * HOUR)).endswith(", opened 1 h ago, closed without a password set")
        # An opened link does not expire in words: it was used up by the open.
        assert opened.phase(at(100 * HOUR)) is LinkPhase.opened

    def test_used_when_a_password_was_set_with_it(self) -> None:
        used = replace(SENT, used_at=at(HOUR), revoked_at=at(HOUR + timedelta(minutes=2)),
                       revoked_reason="password set")
        assert used.phase(at(3 * HOUR)) is LinkPhase.used
        assert used.text(at(3 * HOUR)) == "Setup link sent 2 h 59 min ago to 2 addresses, used 1 h 58 min ago: password set"

    def test_replaced_and_revoked_say_why(self) -> None:
        replaced = replace(SENT, revoked_at=at(HOUR), revoked_reason="replaced by a newer setup link")
        assert replaced.phase(at(2 * HOUR)) is LinkPhase.replaced
        assert replaced.text(at(2 * HOUR)).endswith("replaced by a newer link 1 h ago")
        revoked = replace(SENT, revoked_at=at(HOUR), revoked_reason="Primary Email Address changed")
        assert revoked.phase(at(2 * HOUR)) is LinkPhase.revoked
        assert revoked.text(at(2 * HOUR)).endswith("stopped 1 h ago: Primary Email Address changed")

    def test_a_failed_email_says_why_it_did_not_arrive(self) -> None:
        failed = replace(SENT, email_status=OutboxStatus.failed, sent_at=None, revoked_at=at(HOUR),
                         revoked_reason="its email was not delivered", to=("ada@engines.example",),
                         email_error="550 5.1.1 no such mailbox")
        assert failed.phase(at(HOUR)) is LinkPhase.failed
        assert failed.text(at(HOUR)) == "Setup link not delivered to ada@engines.example: 550 5.1.1 no such mailbox"

    def test_refused_addresses_are_named(self) -> None:
        partly = replace(SENT, refused=("billing@engines.example",))
        assert "sent 0 s ago" not in partly.text(at(HOUR))
        assert "(1 refused: billing@engines.example)" in partly.text(at(HOUR))

    def test_a_reset_link_says_so(self) -> None:
        reset = replace(SENT, purpose=LinkPurpose.reset, expires_at=at(2 * HOUR), to=("ada@engines.example",))
        assert reset.text(at(HOUR)) == (
            "Reset link sent 59 min ago to ada@engines.example, not opened yet, expires in 1 h")


class TestSignInWords:
    NEVER = SignInStatus(last_signed_in_at=None, failures_since=0, locked_until=None, addresses_waiting=0,
                         open_sessions=0)

    def test_never_signed_in(self) -> None:
        assert self.NEVER.sign_in_text(TEST_NOW) == "Never signed in"
        assert self.NEVER.lock_text(TEST_NOW) is None

    def test_last_sign_in_where_from_and_failures_since(self) -> None:
        status = replace(self.NEVER, last_signed_in_at=at(-2 * HOUR), last_signed_in_from="203.0.113.20",
                         failures_since=3, open_sessions=1)
        assert status.sign_in_text(TEST_NOW) == (
            "Last signed in 2 h ago from 203.0.113.20, 3 wrong passwords since, 1 open session")

    def test_one_address_waiting_is_a_lock_until_its_wait_ends(self) -> None:
        status = replace(self.NEVER, failures_since=5, addresses_waiting=1, waiting_until=at(timedelta(minutes=1)))
        assert status.lock_text(TEST_NOW) == (
            "Locked until 09:01 UTC: 1 address, too many wrong passwords")
        assert status.lock_text(at(timedelta(minutes=1))) is None

    def test_the_ceiling_locks_every_address(self) -> None:
        status = replace(self.NEVER, locked_until=at(HOUR), waiting_until=at(timedelta(minutes=4)), addresses_waiting=2)
        assert status.blocked_until(TEST_NOW) == at(HOUR)
        assert status.lock_text(TEST_NOW) == "Locked until 10:00 UTC: every address, too many wrong passwords"

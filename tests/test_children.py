"""The guard that keeps cross-process tests off a fixed date: a child process reads the
machine's clock, so rows written under a clock far from it must not reach one."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import clock
from tests.children import CLOCK_TOLERANCE, ClockMismatch, child_env
from tests.conftest import TEST_NOW


def test_a_launch_under_the_fixed_test_date_is_refused(fixed_clock):
    """At TEST_NOW (days from any real run) a child would judge expiries by another time."""
    assert abs(fixed_clock.now() - clock.SystemClock().now()) > CLOCK_TOLERANCE
    with pytest.raises(ClockMismatch, match="other_process"):
        child_env(PORTAL_DATABASE_URL="sqlite:///unused.db")


@pytest.mark.other_process
def test_an_other_process_test_starts_at_the_real_time_and_may_launch(fixed_clock, monkeypatch):
    """The marker starts the clock at the real time; the child gets only the settings given."""
    monkeypatch.setenv("PORTAL_SMTP_HOST", "relay.of.the.caller")
    assert fixed_clock.now() != TEST_NOW
    env = child_env(PORTAL_DATABASE_URL="sqlite:///unused.db")
    assert env["PORTAL_DATABASE_URL"] == "sqlite:///unused.db" and "PORTAL_SMTP_HOST" not in env
    fixed_clock.advance(CLOCK_TOLERANCE + timedelta(seconds=1))
    with pytest.raises(ClockMismatch):
        child_env()

"""The one clock. Every "now" in the project comes from here so tests can set time."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until a test moves it (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward, e.g. past a link's expiry."""
        with self._lock:
            self._now += delta

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time (aware UTC) from the installed clock."""
    return _current.now()


def use(clock: Clock) -> Clock:
    """Install a clock for the whole process; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous

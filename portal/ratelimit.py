"""Rate limits for the portal's login and prompts: a sliding window per key, kept in memory.

In memory because one portal process serves an account (moving the counts to the
database is planned, docs/design.md). Hand-written (a few lines) rather than a
library because the window must run on store.clock, the one clock tests can move;
the libraries read the wall clock themselves.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store import clock


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` within ``window``."""

    attempts: int
    window: timedelta


@dataclass(frozen=True)
class Limits:
    """The portal's limits. Login counts failed sign-ins; the prompts count every request."""

    login_per_ip: Limit = Limit(30, timedelta(minutes=15))
    login_per_username: Limit = Limit(5, timedelta(minutes=15))
    prompt_per_ip: Limit = Limit(20, timedelta(hours=1))
    prompt_per_identifier: Limit = Limit(5, timedelta(hours=1))


def minutes_text(wait: timedelta) -> str:
    """'1 minute', '14 minutes': a wait rounded up to whole minutes."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


@dataclass
class RateLimiter:
    """Sliding windows keyed by text ("login-ip:1.2.3.4"); bounded so a flood can't grow it forever."""

    max_keys: int = 50_000
    _hits: "OrderedDict[str, deque[datetime]]" = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, key: str, limit: Limit) -> timedelta | None:
        """How long until ``key`` may try again, or None when it may now."""
        now = clock.now()
        with self._lock:
            hits = self._recent(key, limit, now)
            if len(hits) < limit.attempts:
                return None
            return hits[-limit.attempts] + limit.window - now

    def record(self, key: str, limit: Limit) -> None:
        """Count one attempt for ``key``."""
        now = clock.now()
        with self._lock:
            hits = self._recent(key, limit, now)
            hits.append(now)
            self._hits[key] = hits
            self._hits.move_to_end(key)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)

    def _recent(self, key: str, limit: Limit, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key, deque())
        while hits and hits[0] <= now - limit.window:
            hits.popleft()
        # Never keep more than the limit needs: the window only looks this far back.
        while len(hits) > limit.attempts:
            hits.popleft()
        return hits

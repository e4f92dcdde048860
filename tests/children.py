"""Running `portal-console` as another process the way a test must: on the same clock.

A child process reads the machine's clock. A row this test process wrote under a clock
standing at TEST_NOW looks days old to it (an expired link, a lapsed lease), so such a
test would pass or fail by the date it runs. Every launch therefore goes through
child_env(), which refuses while the installed clock stands away from the real time. A
test that hands rows to a child marks itself `other_process`: its fixed clock then starts
at the real time (it can still move it, as long as it moves it back before the next launch).
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from store import clock

PORTAL_CONSOLE = str(Path(sys.executable).with_name("portal-console"))
# Far more than a test runs, far less than the days a link or a lease lives.
CLOCK_TOLERANCE = timedelta(minutes=10)


class ClockMismatch(AssertionError):
    """This process's clock and a child's would disagree about what has expired."""


def child_env(**values: str) -> dict[str, str]:
    """The environment for a `portal-console` child: no PORTAL_* setting of the caller's, then
    ``values``. Refuses when this process's clock is not the child's (the real time)."""
    here, real = clock.now(), clock.SystemClock().now()
    if abs(here - real) > CLOCK_TOLERANCE:
        raise ClockMismatch(
            f"this test's clock stands at {here.isoformat()}, the child's at {real.isoformat()}: "
            "rows written here would be judged by another time there. Mark the test "
            "@pytest.mark.other_process so its clock starts at the real time.")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(values)
    return env

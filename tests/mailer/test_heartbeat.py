"""Every running dispatcher says so in its heartbeat (host, pid, last pass, what it sent), and a
stopped one stops counting: what the overview and `portal-console status` judge by."""
from __future__ import annotations

import os
import socket

from store.heartbeats import recent_mailers
from store.overview import read_overview

from mailer.background import BackgroundMailer

from .conftest import queue_create_email, smtp_config
from .test_background import _eventually


def test_a_console_mailer_beats_while_it_runs_and_is_gone_when_it_stops(account, smtp_server, tmp_path):
    queue_create_email()
    assert [p.trouble.value for p in read_overview().health.problems] == ["no_mailer"]
    mailer = BackgroundMailer(smtp_config(account, smtp_server.port, tmp_path))
    mailer.start()
    try:
        _eventually(lambda: [m.sent for m in recent_mailers()] == [1])
        [beat] = recent_mailers()
        assert (beat.role, beat.host, beat.pid) == ("console", socket.gethostname(), os.getpid())
        assert read_overview().health.healthy
    finally:
        mailer.stop()
    assert recent_mailers() == ()

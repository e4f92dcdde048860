"""Mail throughput: the outbox dispatcher against a raw aiosmtplib loop, same server, same run.

    .venv/bin/python bench/mail_throughput.py [N] [--batch B]

Queues N emails (default 2000) through the service layer in a temporary SQLite database,
starts an aiosmtpd server on loopback in a process of its own (so it doesn't share this
process's GIL), then times:

  raw         one aiosmtplib connection sending N prebuilt messages of the same size and
              recipients (the floor: only the SMTP exchange);
  dispatcher  dispatch_once() sending the N queued rows: claiming, rendering, building,
              sending, recording each outcome with its activity event, redacting links.

Each round queues N fresh emails and times both, raw first; with several rounds (--rounds,
default 3) the median is the figure, since other work on a 2-core machine moves single runs.
Prints both rates and the ratio of their times. Target: >= 1000 emails/s, ratio <= 1.3.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib  # noqa: E402

from store import clock, db  # noqa: E402
from store.config import Config  # noqa: E402
from store.customers import add_customer  # noqa: E402
from store.dispatch import ClaimedEmail  # noqa: E402
from store.outbox import pending_count  # noqa: E402
from store.settings import get_settings, update_setting  # noqa: E402
from store.values import EmailKind  # noqa: E402

from mailer.dispatcher import dispatch_once  # noqa: E402
from mailer.message import build_message  # noqa: E402


def _serve(port: int, ready, counter) -> None:
    """The SMTP server process: accepts everything, counts what it got."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 2.0.0 queued"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _queue(count: int, first: int = 0) -> None:
    update_setting("portal_url", "https://billing.acme.example/portal", actor="bench")
    update_setting("sender", "Acme Billing <billing@acme.example>", actor="bench")
    update_setting("credential_create_email", "on", actor="bench")
    for i in range(first, first + count):
        add_customer(name=f"Customer {i:05d}", primary_email=f"customer{i:05d}@bulk.example", actor="bench")


def _equivalent_messages(count: int) -> list[tuple[str, tuple[str, ...], bytes]]:
    """Messages like the dispatcher's (same template, size, one recipient), built before timing."""
    settings = get_settings()
    now = clock.now()
    out = []
    for i in range(count):
        email = ClaimedEmail(
            id=i, customer_id=i, customer_reference=f"C{i:06d}", customer_name=f"Customer {i:05d}",
            kind=EmailKind.credential_create, to=(f"customer{i:05d}@bulk.example",),
            link_url=f"https://billing.acme.example/portal/setup/{'x' * 43}",
            link_expires_at=now + timedelta(hours=72), attempt=1,
        )
        message = build_message(email, settings, now)
        out.append((message.sender, message.recipients, message.data))
    return out


async def _raw_loop(port: int, messages: list[tuple[str, tuple[str, ...], bytes]]) -> float:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname=socket.gethostname())
    started = time.perf_counter()
    await smtp.connect()
    for sender, recipients, data in messages:
        await smtp.sendmail(sender, list(recipients), data)
    await smtp.quit()
    return time.perf_counter() - started


def _round(number: int, args: argparse.Namespace, config: Config, counter) -> tuple[float, float]:
    """Queue N emails, then time the raw loop and the dispatcher on them; returns both times."""
    started = time.perf_counter()
    _queue(args.n, first=number * args.n)
    queued = time.perf_counter() - started
    before = counter.value
    raw_seconds = asyncio.run(_raw_loop(config.smtp_port, _equivalent_messages(args.n)))
    raw_count = counter.value - before
    started = time.perf_counter()
    report = asyncio.run(dispatch_once(config, batch_size=args.batch))
    seconds = time.perf_counter() - started
    delivered = counter.value - before - raw_count
    if report.sent != args.n or delivered != args.n or raw_count != args.n or pending_count():
        raise SystemExit(f"incomplete round: raw delivered {raw_count}, dispatcher {report.summary()}, "
                         f"server got {delivered}, {pending_count()} still pending")
    print(f"round {number + 1}: queued in {queued:.1f} s; raw {args.n / raw_seconds:6.0f} emails/s, "
          f"dispatcher {args.n / seconds:6.0f} emails/s, ratio {seconds / raw_seconds:.2f}")
    return raw_seconds, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="emails to send (default 2000)")
    parser.add_argument("--batch", type=int, default=100, help="dispatcher batch size (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported (default 3)")
    args = parser.parse_args()

    port = _free_port()
    ready, counter = multiprocessing.Event(), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port, ready, counter), daemon=True)
    server.start()
    if not ready.wait(30):
        print("the SMTP server did not start", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            db.init(url)
            config = Config(database_url=url, smtp_host="127.0.0.1", smtp_port=port, maildir=Path(tmp) / "maildir")
            times = [_round(number, args, config, counter) for number in range(args.rounds)]
            db.close()
    finally:
        server.terminate()
    raw_seconds = statistics.median(t for t, _ in times)
    seconds = statistics.median(t for _, t in times)
    ratio = statistics.median(d / r for r, d in times)
    rate = args.n / seconds
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, N={args.n}, batch={args.batch}, "
          f"median of {args.rounds} round(s):")
    print(f"raw aiosmtplib loop : {args.n / raw_seconds:8.0f} emails/s  ({raw_seconds:.2f} s)")
    print(f"dispatcher          : {rate:8.0f} emails/s  ({seconds:.2f} s)")
    print(f"ratio (time)        : {ratio:8.2f} x the raw loop")
    print(f"target              : >= 1000 emails/s and <= 1.3 x -> {'met' if rate >= 1000 and ratio <= 1.3 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The outbox dispatcher: claims due rows in batches, sends them over one transport
connection, and records every outcome through the service layer (store/outbox.py).

Database work (Peewee, blocking) runs on one thread of its own, so it never blocks the
event loop and the dispatcher has one database connection. While a batch is being sent,
that thread records the previous batch's outcomes and claims and builds the next batch:
the loop only talks SMTP (measured in bench/mail_throughput.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import partial
from typing import Any, Callable, Sequence

from store import clock, db, heartbeats
from store.status import console_status
from store.config import Config
from store.dispatch import (
    Claim, Failed, Outcome, Retry, RetryPolicy, Sent, claim_due, record_outcomes, release_claims,
    renew_claims,
)

from .message import OutgoingMessage, UnsendableMessage, build_message
from .metrics import MailerMetrics
from .transport import Transport, TransportUnavailable, transport_for

log = logging.getLogger("mailer")

BATCH_SIZE = 100


@dataclass(frozen=True)
class DispatchReport:
    """What one pass did, in counts."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Claimed but given back unsent because the dispatcher was stopping.
    released: int = 0
    # Taken back from a dispatcher whose lease had passed.
    taken_back: int = 0
    # Sent or failed, but the claim had already been taken back by another dispatcher.
    lost_claims: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def summary(self) -> str:
        """One line for logs and `portal-console mailer --once`."""
        parts = [f"{self.sent} sent", f"{self.retried} to retry", f"{self.failed} failed"]
        for name in ("released", "taken_back", "lost_claims"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name.replace('_', ' ')}")
        return ", ".join(parts)


def dispatcher_name() -> str:
    """Who claims a row: host, process and a random part (two dispatchers in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Batch:
    """Claimed emails with their messages built, ready for the transport."""

    claim: Claim
    # One per claimed email, in order: the message, or why it can't be built.
    messages: tuple[OutgoingMessage | Failed, ...]
    # time.monotonic() of the claim: the lease runs from here.
    claimed_at: float

    @property
    def claimed(self) -> DispatchReport:
        """What claiming this batch counts for in a report."""
        return DispatchReport(claimed=len(self.claim.emails) + self.claim.failed_before_send,
                              failed=self.claim.failed_before_send, taken_back=self.claim.taken_back)


def prepare_batch(claimer: str, *, limit: int, lease_seconds: float) -> Batch:
    """Claim due rows and build their messages (blocking: runs on the database thread)."""
    started = time.monotonic()
    claim = claim_due(claimer, limit=limit, lease_seconds=lease_seconds)
    now = clock.now()
    messages: list[OutgoingMessage | Failed] = []
    for email in claim.emails:
        try:
            messages.append(build_message(email, claim.settings, now))
        except UnsendableMessage as error:
            messages.append(Failed(email.id, str(error)))
    return Batch(claim, tuple(messages), started)


def _tally(outcomes: Sequence[Outcome]) -> DispatchReport:
    return DispatchReport(
        sent=sum(isinstance(o, Sent) for o in outcomes),
        retried=sum(isinstance(o, Retry) for o in outcomes),
        failed=sum(isinstance(o, Failed) for o in outcomes),
    )


class Dispatcher:
    """Sends due outbox rows. One instance = one claimer name, one database connection,
    one transport connection at a time."""

    def __init__(
        self,
        config: Config,
        *,
        name: str | None = None,
        batch_size: int = BATCH_SIZE,
        retry_policy: RetryPolicy = RetryPolicy(),
        lease_seconds: float | None = None,
        transport: Transport | None = None,
        rng: random.Random | None = None,
        role: str = "mailer",
        metrics: MailerMetrics | None = None,
    ) -> None:
        self.config = config
        self.name = name or dispatcher_name()
        # What its heartbeat says it is: "console" (a console's thread) or "mailer" (a process).
        self.role = role
        self.started_at = clock.now()
        # What it did since it started, for its heartbeat.
        self.totals = DispatchReport()
        self._last_beat: float | None = None
        self.batch_size = batch_size
        self.retry_policy = retry_policy
        self.lease_seconds = lease_seconds if lease_seconds is not None else config.mailer_lease_seconds
        self.transport = transport or transport_for(config)
        self._rng = rng or random.Random()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailer-db")
        # On stop, how long the message on the wire may take before it is cancelled.
        self.stop_grace = 5.0
        # Prometheus counts (mailer/metrics.py), when the process serves them.
        self.metrics = metrics
        # The kind of each claimed email not yet recorded, for the metrics' labels.
        self._kinds: dict[int, str] = {}

    async def _store(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a service-layer call on the dispatcher's database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db, partial(function, *args, **kwargs))

    def _claim(self) -> asyncio.Future:
        return asyncio.ensure_future(
            self._store(prepare_batch, self.name, limit=self.batch_size, lease_seconds=self.lease_seconds))

    async def run_once(self, stop: asyncio.Event | None = None) -> DispatchReport:
        """Send every due email, batch after batch, until none is due (or ``stop`` is set)."""
        report = DispatchReport()
        held: set[int] = set()
        unrecorded: list[Outcome] = []
        recording: asyncio.Future | None = None
        next_claim: asyncio.Future | None = self._claim()
        try:
            while next_claim is not None:
                # Cleared first: a claim that failed must not be awaited again when winding down.
                pending, next_claim = next_claim, None
                batch: Batch = await pending
                held.update(e.id for e in batch.claim.emails)
                self._note_claim(batch)
                report += batch.claimed
                if not batch.claim.emails and not batch.claim.failed_before_send:
                    break
                if stop is not None and stop.is_set():
                    break
                # Claim and build the next batch on the database thread while this one is sent.
                next_claim = self._claim()
                await self._send_batch(batch, unrecorded, stop)
                if recording is not None:
                    report += await recording
                outcomes = list(unrecorded)
                unrecorded.clear()
                recording = asyncio.ensure_future(self._record(outcomes, held, unrecorded))
        finally:
            report += await self._wind_down(recording, next_claim, unrecorded, held)
            await self.transport.close()
            self._kinds.clear()
        await self._measure_queue()
        return report

    def _note_claim(self, batch: Batch) -> None:
        if self.metrics is None:
            return
        self._kinds.update((e.id, e.kind.value) for e in batch.claim.emails)
        if batch.claim.failed_before_send:
            self.metrics.not_sent.inc(batch.claim.failed_before_send)

    def _count(self, outcomes: Sequence[Outcome]) -> None:
        """Outcomes the store recorded, counted by kind."""
        if self.metrics is None:
            return
        for outcome in outcomes:
            counter = (self.metrics.sent if isinstance(outcome, Sent) else
                       self.metrics.retried if isinstance(outcome, Retry) else self.metrics.failed)
            counter.labels(kind=self._kinds.pop(outcome.email_id, "unknown")).inc()

    async def _measure_queue(self) -> None:
        if self.metrics is None:
            return
        try:
            self.metrics.queue_depth.set((await self._store(console_status)).queued)
        except Exception as error:
            log.warning("%s: could not read the queue depth: %s", self.name, error)

    async def _record(self, outcomes: list[Outcome], held: set[int], unrecorded: list[Outcome]) -> DispatchReport:
        try:
            still_held = await self._store(record_outcomes, outcomes, self.name, self.retry_policy, self._rng)
        except Exception:
            # Kept for another try when winding down: a sent row must never go back to the queue.
            unrecorded.extend(outcomes)
            raise
        held.difference_update(o.email_id for o in outcomes)
        self._count(outcomes)
        lost = len(outcomes) - still_held
        if lost:
            log.warning("%s: %d email(s) were finished after their claim was taken back", self.name, lost)
        return _tally(outcomes) + DispatchReport(lost_claims=lost)

    async def _wind_down(self, recording: asyncio.Future | None, next_claim: asyncio.Future | None,
                         unrecorded: list[Outcome], held: set[int]) -> DispatchReport:
        """Whatever happened: record what was done, give back what was claimed and not done.

        What can't be written (the database is gone) stays claimed, and the lease hands it
        to the next dispatcher; rows with an unrecorded outcome are never released as unsent.
        """
        report = DispatchReport()
        if recording is not None:
            try:
                report += await recording
            except Exception:
                log.warning("%s: recording a batch failed; trying once more", self.name)
        if next_claim is not None:
            try:
                batch: Batch = await next_claim
                held.update(e.id for e in batch.claim.emails)
                self._note_claim(batch)
                report += batch.claimed
            except Exception:
                log.warning("%s: the last claim failed", self.name, exc_info=True)
        if unrecorded:
            outcomes = list(unrecorded)
            unrecorded.clear()
            try:
                report += await self._record(outcomes, held, unrecorded)
            except Exception:
                log.exception("%s: could not record %d outcome(s); the lease will free those rows",
                              self.name, len(outcomes))
        unsent = held - {o.email_id for o in unrecorded}
        if unsent:
            try:
                report += DispatchReport(released=await self._store(release_claims, sorted(unsent), self.name))
                held.difference_update(unsent)
            except Exception:
                log.exception("%s: could not give back %d claimed email(s); the lease will free them",
                              self.name, len(unsent))
        return report

    async def _send_batch(self, batch: Batch, outcomes: list[Outcome], stop: asyncio.Event | None) -> None:
        """Send each message over the transport; outcomes are appended as they come."""
        started = batch.claimed_at
        messages = list(batch.messages)
        kept: set[int] | None = None
        for index, message in enumerate(messages):
            if stop is not None and stop.is_set():
                return
            if isinstance(message, Failed):
                outcomes.append(message)
                continue
            if time.monotonic() - started > self.lease_seconds / 3:
                # A slow relay or a long wait: push the lease of every row of the batch not yet
                # recorded (sent ones too), so no other dispatcher takes them over and sends again.
                kept = await self._store(renew_claims, [m.email_id for m in messages], self.name)
                started = time.monotonic()
            if kept is not None and message.email_id not in kept:
                continue  # its lease passed and another dispatcher took it back: it sends it
            try:
                began = time.perf_counter()
                outcomes.append(await self.transport.send(message))
                if self.metrics is not None:
                    self.metrics.send_seconds.labels(kind=self._kinds.get(message.email_id, "unknown")).observe(
                        time.perf_counter() - began)
            except TransportUnavailable as error:
                log.warning("%s: %s", self.name, error)
                outcomes.extend(m if isinstance(m, Failed) else Retry(m.email_id, str(error))
                                for m in messages[index:])
                return

    async def serve(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop`` is set, waiting the poll interval between passes.

        Errors (the database locked or gone, a relay misbehaving) are logged and the next
        pass tries again. On stop the message on the wire gets ``stop_grace`` seconds to finish;
        then it is cancelled and every unfinished claim goes back to the queue.
        """
        worker = asyncio.ensure_future(self._loop(stop))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not worker.done():
                done, _ = await asyncio.wait({worker}, timeout=self.stop_grace)
                if not done:
                    worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        finally:
            stopping.cancel()
            if not worker.done():
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
            await self._forget_heartbeat()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.run_once(stop)
                if report.claimed or report.taken_back:
                    log.info("%s: %s", self.name, report.summary())
                await self._heartbeat(report)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("%s: dispatch pass failed, trying again in %g s: %s",
                          self.name, self.config.mailer_poll_seconds, error)
                await self._reset_database()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.config.mailer_poll_seconds)
            except asyncio.TimeoutError:
                pass

    async def _heartbeat(self, report: DispatchReport) -> None:
        """Say this dispatcher runs: after a pass that did something, else every BEAT_SECONDS.
        A heartbeat that can't be written is only logged: it must never stop the sending."""
        self.totals += report
        now = time.monotonic()
        if not report.claimed and self._last_beat is not None and now - self._last_beat < heartbeats.BEAT_SECONDS:
            return
        try:
            await self._store(heartbeats.beat, self.name, host=socket.gethostname(), pid=os.getpid(),
                              role=self.role, started_at=self.started_at, sent=self.totals.sent,
                              failed=self.totals.failed)
            self._last_beat = now
        except Exception as error:
            log.warning("%s: could not write the heartbeat: %s", self.name, error)

    async def _forget_heartbeat(self) -> None:
        """A stopped dispatcher no longer counts as running."""
        if self._last_beat is None:
            return
        try:
            await self._store(heartbeats.stopped, self.name)
        except Exception as error:
            log.warning("%s: could not remove the heartbeat: %s", self.name, error)

    async def _reset_database(self) -> None:
        """Drop the thread's connection so the next pass opens a fresh one."""
        try:
            await self._store(db.close)
        except Exception:
            log.debug("closing a broken database connection failed", exc_info=True)

    async def close(self) -> None:
        """Close the transport and the database thread's connection."""
        try:
            await self.transport.close()
            await self._store(db.close)
        finally:
            self._db.shutdown(wait=True)


async def dispatch_once(config: Config, **options: Any) -> DispatchReport:
    """One pass: send everything due now, then close. ``options`` go to Dispatcher."""
    dispatcher = Dispatcher(config, **options)
    try:
        return await dispatcher.run_once()
    finally:
        await dispatcher.close()

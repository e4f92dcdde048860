"""Bulk email from the search results: one question with the counts, then the queueing with
a progress bar that can be stopped, then what was done.

The phases, on one dialog:
  counting  a dry run of the store's bulk send says who would get which email and who is
            skipped, and why (nothing is written); esc closes it.
  asking    those counts; y queues, n or esc closes with nothing sent (the safe button has focus).
  sending   batches of customers are queued, each batch whole or absent; esc stops after
            the batch in hand, and what was queued stays queued.
  done      what was queued and skipped (and, when stopped, that the rest were not looked at).
The dialog gives the search screen the result of the send, or None when nothing was sent.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar, Static

from store.bulk import BATCH, send_all
from store.errors import PortalError
from store.bulk_values import BulkSend
from store.values import PortalState
from tui import bindings
from tui.calls import call
from tui.workers import ReportsWorkerErrors

# The worker group of the queueing: quitting while it runs asks first (tui/app.py).
SENDING_GROUP = "bulk-send"


@dataclass(frozen=True)
class BulkScope:
    """Who a bulk email is for: the marked customers, or every customer a search matches."""

    references: tuple[str, ...] | None = None
    match: str = ""
    state: PortalState | None = None

    @property
    def description(self) -> str:
        if self.references is not None:
            n = len(self.references)
            return f"the {n:,} marked customer{'s' if n != 1 else ''}"
        text = "every customer"
        if self.match.strip():
            text += f" matching {self.match.strip()!r}"
        if self.state is not None:
            text += f" whose portal state is {self.state.label}"
        return text


class Phase(Enum):
    counting = "counting"
    asking = "asking"
    sending = "sending"
    done = "done"


def breakdown(result: BulkSend) -> str:
    """The counts, a line each: how many customers, who gets which email, who is skipped and why."""
    queued = [(kind, n) for kind, n in result.queued if n]
    skipped = [(reason, n) for reason, n in result.skipped if n]
    width = max((len(f"{n:,}") for _, n in queued + skipped), default=1)
    plural = "s" if result.matching != 1 else ""
    if result.dry_run:
        lines = [f"{result.matching:,} customer{plural}."]
    elif result.cancelled:
        lines = [f"{result.looked_at:,} of {result.matching:,} customer{plural} looked at."]
    else:
        lines = [f"{result.matching:,} customer{plural} looked at."]
    if queued:
        lines.append("Would be queued:" if result.dry_run else "Queued:")
        lines += [f"  {n:>{width},}  {kind.type_name} email{'s' if n != 1 else ''}" for kind, n in queued]
    else:
        lines.append("No email to queue." if result.dry_run else "No email was queued.")
    if skipped:
        lines.append("Skipped:")
        lines += [f"  {n:>{width},}  {reason.text(result.recent_hours)}" for reason, n in skipped]
    return "\n".join(lines)


class BulkSendModal(ReportsWorkerErrors, ModalScreen[BulkSend | None]):
    """Asks with the counts, queues with a progress bar, and reports (see the module's docstring)."""

    CSS_PATH = "bulk_send.tcss"
    BINDINGS = list(bindings.BULK_SEND)
    # The safe answer has focus from the start, so a stray Enter sends nothing.
    AUTO_FOCUS = "#bulk-cancel"

    class Progressed(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done, self.total = done, total

    class Finished(Message):
        """The dry run's or the send's result; ``error`` when the store refused part-way."""

        def __init__(self, result: BulkSend | None, error: PortalError | None = None) -> None:
            super().__init__()
            self.result, self.error = result, error

    def __init__(self, scope: BulkScope, *, agent: str, batch_size: int = BATCH) -> None:
        super().__init__()
        self.scope = scope
        self.agent = agent
        self.batch_size = batch_size
        self.phase = Phase.counting
        self.result: BulkSend | None = None
        self._stop = threading.Event()
        self._done = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-dialog"):
            yield Label(f"Email {self.scope.description}", id="bulk-title", markup=False)
            yield Static("Counting who gets which email…", id="bulk-message", markup=False)
            yield ProgressBar(id="bulk-progress", show_eta=False)
            with Horizontal(id="bulk-buttons"):
                yield Button("Send (y)", id="bulk-confirm", variant="warning", compact=True)
                yield Button("Cancel (esc)", id="bulk-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#bulk-confirm").display = False
        self._run(dry_run=True)

    # --- the store's bulk send, in a thread --------------------------------------------

    def _run(self, *, dry_run: bool) -> None:
        self._stop.clear()
        self._done = 0
        if dry_run:
            self._count()
        else:
            self._send()

    @work(thread=True, exclusive=True, group="bulk-count", exit_on_error=False)
    def _count(self) -> None:
        self._bulk_send(dry_run=True)

    @work(thread=True, exclusive=True, group=SENDING_GROUP, exit_on_error=False)
    def _send(self) -> None:
        self._bulk_send(dry_run=False)

    def _bulk_send(self, *, dry_run: bool) -> None:
        scope = self.scope
        try:
            result = call(send_all, actor=self.agent, state=scope.state, match=scope.match or None,
                          references=list(scope.references) if scope.references is not None else None,
                          dry_run=dry_run, batch_size=self.batch_size,
                          progress=lambda done, total: self.post_message(self.Progressed(done, total)),
                          cancelled=self._stop.is_set)
        except PortalError as error:
            self.post_message(self.Finished(None, error))
            return
        self.post_message(self.Finished(result))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        self._done = message.done
        self.query_one("#bulk-progress", ProgressBar).update(total=message.total, progress=message.done)
        if self.phase is Phase.sending and not self._stop.is_set():
            self._say(f"Queueing… {message.done:,} of {message.total:,} customers looked at.")

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        if self.phase is Phase.counting:
            if message.error is not None:
                self._end(f"Nothing was sent: {message.error}", None)
            elif message.result is not None:
                self._ask(message.result)
        elif self.phase is Phase.sending:
            if message.error is not None:
                # Batches before the failure are committed; the one in hand is not.
                self._end(f"Queueing stopped: {message.error}\n{self._done:,} customers were looked at "
                          "before it; their emails stay queued (see the Outbox).", None)
            elif message.result is not None:
                result = message.result
                head = ("Stopped. The rest were not looked at; what was queued stays queued.\n"
                        if result.cancelled else "")
                self._end(head + breakdown(result), result)

    # --- phases ---------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.query_one("#bulk-message", Static).update(text)

    def _ask(self, dry: BulkSend) -> None:
        self.phase = Phase.asking
        self.query_one("#bulk-progress").display = False
        if dry.queued_total == 0:
            self._end(breakdown(dry), None)
            return
        self._say(breakdown(dry) + "\nEmails an agent sends by hand go out before these.")
        confirm = self.query_one("#bulk-confirm", Button)
        n = dry.queued_total
        confirm.label = f"Queue {n:,} email{'s' if n != 1 else ''} (y)"
        confirm.display = True
        self.query_one("#bulk-cancel", Button).label = "Cancel (n)"
        self.query_one("#bulk-cancel").focus()

    def _end(self, text: str, result: BulkSend | None) -> None:
        self.phase = Phase.done
        self.result = result
        self._say(text)
        self.query_one("#bulk-progress").display = False
        self.query_one("#bulk-confirm").display = False
        close = self.query_one("#bulk-cancel", Button)
        close.label = "Close (enter)"
        close.disabled = False
        close.focus()

    # --- keys -------------------------------------------------------------------------

    @on(Button.Pressed, "#bulk-confirm")
    def action_confirm(self) -> None:
        if self.phase is not Phase.asking or not self.query_one("#bulk-confirm").display:
            return
        self.phase = Phase.sending
        self.query_one("#bulk-confirm").display = False
        progress = self.query_one("#bulk-progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        self.query_one("#bulk-cancel", Button).label = "Stop (esc)"
        self._say("Queueing…")
        self._run(dry_run=False)

    @on(Button.Pressed, "#bulk-cancel")
    def action_cancel(self) -> None:
        if self.phase is Phase.sending:
            # The store stops before its next batch; the dialog stays until it has.
            self._stop.set()
            self._say(f"Stopping after the batch in hand… {self._done:,} customers looked at so far.")
            self.query_one("#bulk-cancel", Button).disabled = True
        elif self.phase is Phase.counting:
            self._stop.set()  # a dry run writes nothing: close now
            self.dismiss(None)
        else:
            self.dismiss(self.result)

"""The status line at the foot of every screen: which database, whether this console sends
email, how many emails wait or failed, and when these figures were read.

It reads in a thread worker every STATUS_SECONDS; a failed read says so on the line
instead of showing old figures as if they were current.
"""
from __future__ import annotations

from textual import on, work
from textual.message import Message
from textual.widgets import Static

from store.errors import PortalError
from store.status import ConsoleStatus, console_status
from tui.calls import call
from tui.workers import ReportsWorkerErrors

STATUS_SECONDS = 5.0


class StatusLine(ReportsWorkerErrors, Static):
    """One line of figures about the console and its database."""

    class Read(Message):
        """The figures, freshly read (or None with the reason they could not be)."""

        def __init__(self, status: ConsoleStatus | None, problem: str | None = None) -> None:
            super().__init__()
            self.status = status
            self.problem = problem

    def __init__(self) -> None:
        super().__init__("", id="status-line", markup=False)

    def on_mount(self) -> None:
        self._read()
        self.set_interval(STATUS_SECONDS, self._read)

    @work(thread=True, exclusive=True, group="status-line", exit_on_error=False)
    def _read(self) -> None:
        try:
            self.post_message(self.Read(call(console_status)))
        except PortalError as error:
            self.post_message(self.Read(None, error.message))

    @on(Read)
    def _show(self, message: Read) -> None:
        message.stop()
        mailer = getattr(self.app, "mailer", None)
        sender = "mailer: this console" if mailer is not None else "mailer: not here"
        status = message.status
        if status is None:
            self.update(f"Not refreshed: {message.problem}")
            self.set_class(True, "-problem")
            return
        parts = [status.database, sender, f"{status.queued} queued", f"{status.failed} failed",
                 f"{status.read_at:%H:%M:%S} UTC"]
        self.update(" · ".join(parts))
        self.set_class(status.failed > 0, "-problem")

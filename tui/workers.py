"""The one path for a worker that raised what no service function promises (a bug).

Every worker is declared with exit_on_error=False, so such an error no longer closes the
console and loses the agent's screen. Textual tells only the widget that started the
worker (its StateChanged message doesn't bubble); each widget and screen that runs
workers mixes this in, which hands the failure to the app's error modal.
"""
from __future__ import annotations

from textual.worker import Worker, WorkerState

from tui.messages import WorkerFailed


class ReportsWorkerErrors:
    """Mixin for a widget or screen that runs workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.post_message(WorkerFailed(event.worker.name, event.worker.error))  # type: ignore[attr-defined]

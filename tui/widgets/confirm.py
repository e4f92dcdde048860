"""A yes/no question that says what will happen: ModalScreen[bool] (like Posting's confirmation)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui import bindings


class ConfirmModal(ModalScreen[bool]):
    """Asks before a change that can't be undone; True when the agent confirms."""

    # The safe answer has focus, so a stray Enter doesn't delete anything; focused first, so
    # keys typed while the question opens land here (tui/typeahead.py).
    AUTO_FOCUS = "#cancel-button"

    CSS_PATH = "confirm.tcss"
    BINDINGS = list(bindings.CONFIRM)

    def __init__(self, title: str, message: str, *, confirm_label: str = "Yes", cancel_label: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.title_text, id="confirm-title")
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm-button", variant="error", compact=True)
                yield Button(f"{self.cancel_label} (n)", id="cancel-button", compact=True)

    @on(Button.Pressed, "#confirm-button")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel-button")
    def action_cancel(self) -> None:
        self.dismiss(False)

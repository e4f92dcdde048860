"""A yes/no question that says what will happen: ModalScreen[bool] (like Posting's confirmation),
optionally with a one-line reason to give (Suspend's, for the activity log)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from store.errors import InvalidInput
from store.text import refuse_unsafe_characters
from tui import bindings


class ConfirmModal(ModalScreen[bool]):
    """Asks before a change that can't be undone; True when the agent confirms."""

    # The safe answer has focus, so a stray Enter doesn't delete anything; focused first, so
    # keys typed while the question opens land here (tui/typeahead.py).
    AUTO_FOCUS = "#cancel-button"

    CSS_PATH = "confirm.tcss"
    BINDINGS = list(bindings.CONFIRM)

    def __init__(self, title: str, message: str, *, confirm_label: str = "Yes", cancel_label: str = "No",
                 reason_label: str | None = None, reason_length: int = 200) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.reason_label = reason_label
        self.reason_length = reason_length
        if reason_label is not None:
            # The reason is typed first; Enter in it moves to the confirm button, so one stray
            # Enter after the key that asked changes nothing.
            self.AUTO_FOCUS = "#confirm-reason"

    @property
    def reason(self) -> str:
        """The reason typed (empty when none was asked or given)."""
        return self.query_one("#confirm-reason", Input).value.strip() if self.reason_label else ""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.title_text, id="confirm-title")
            yield Static(self.message, id="confirm-message", markup=False)
            if self.reason_label is not None:
                yield Label(self.reason_label, id="confirm-reason-label")
                yield Input(id="confirm-reason", max_length=self.reason_length, placeholder="optional")
                yield Label("", id="confirm-reason-problem")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm-button", variant="error", compact=True)
                yield Button(f"{self.cancel_label} (n)", id="cancel-button", compact=True)

    @on(Input.Submitted, "#confirm-reason")
    def _reason_given(self) -> None:
        self.query_one("#confirm-button", Button).focus()

    @on(Input.Changed, "#confirm-reason")
    def _reason_edited(self) -> None:
        self.query_one("#confirm-reason-problem", Label).update("")

    @on(Button.Pressed, "#confirm-button")
    def action_confirm(self) -> None:
        if self.reason_label is not None:
            # Refused here, where it was typed, by the store's own rule and in its words.
            try:
                refuse_unsafe_characters(self.query_one("#confirm-reason", Input).value, "reason", field="reason")
            except InvalidInput as refused:
                self.query_one("#confirm-reason-problem", Label).update(refused.message)
                self.query_one("#confirm-reason", Input).focus()
                return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel-button")
    def action_cancel(self) -> None:
        self.dismiss(False)

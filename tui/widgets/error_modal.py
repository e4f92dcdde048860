"""The one error modal: every domain error is shown here, title and message, whole."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from store.errors import PortalError, StaleEdit
from tui import bindings

# What the console does after a refusal, said once here rather than by the service layer,
# whose sentences serve the command line and the portal too.
_WHAT_THE_SCREEN_DID = {StaleEdit: "The screen now shows the current values."}


class ErrorModal(ModalScreen[None]):
    """Shows a PortalError's title and message until the agent closes it."""

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "#error-ok"

    CSS_PATH = "error_modal.tcss"
    BINDINGS = list(bindings.DISMISS)

    def __init__(self, error: PortalError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Label(self.error.title, id="error-title")
            after = _WHAT_THE_SCREEN_DID.get(type(self.error))
            message = f"{self.error.message} {after}" if after else self.error.message
            yield Static(message, id="error-message", markup=False)
            with Horizontal(id="error-buttons"):
                yield Button("OK", id="error-ok", variant="error", compact=True)

    @on(Button.Pressed, "#error-ok")
    def action_dismiss_modal(self) -> None:
        self.dismiss(None)

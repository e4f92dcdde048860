"""Help: every key of the console, read from tui/bindings.py (the same list the footer uses)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui import bindings


class HelpScreen(ModalScreen[None]):
    """Lists every binding, grouped by where it works."""

    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("Keys of the Portal Console", id="help-title")
            with VerticalScroll(id="help-keys"):
                for group in bindings.HELP:
                    yield Label(group.title, classes="help-group")
                    lines = [f"  {bindings.key_text(b):<16} {bindings.help_text(b)}" for b in group.bindings]
                    yield Static("\n".join(lines), markup=False)
                yield Label("Letter keys work when no text field has the cursor; "
                            "the ctrl keys work everywhere.", classes="help-group")
            yield Label("↑↓ scroll · esc closes", id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()

    def action_close(self) -> None:
        self.dismiss(None)

"""Help: every key of the console, read from tui/bindings.py (the same list the footer uses)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from tui import bindings
from tui.widgets.footer import Footer


class HelpKeys(VerticalScroll):
    """The list of keys; its footer entry says how to scroll it (the keys are VerticalScroll's own)."""

    BINDINGS = list(bindings.HELP_KEYS)


class HelpScreen(ModalScreen[None]):
    """Lists every binding, grouped by where it works."""

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "#help-keys"

    CSS_PATH = "help.tcss"
    BINDINGS = list(bindings.HELP_SCREEN)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("Keys of the Portal Console", id="help-title")
            with HelpKeys(id="help-keys"):
                for group in bindings.HELP:
                    yield Label(group.title, classes="help-group")
                    for binding in group.bindings:
                        with Horizontal(classes="help-row"):
                            yield Label(bindings.key_text(binding), classes="help-key", markup=False)
                            yield Label(bindings.help_text(binding), classes="help-text", markup=False)
                yield Label("Letter keys work when no text field has the cursor; "
                            "the ctrl keys work everywhere.", classes="help-group")
        # Its own footer, over the one of the screen below: only the keys that work here.
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)

"""Copy one of the customer's identifiers to the clipboard: ModalScreen[str | None].

Textual's copy_to_clipboard writes through the terminal (OSC 52), so it works over SSH
too; the agent picks which value with the arrows and Enter, or its number.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui import bindings
from tui.widgets.footer import Footer


class CopyModal(ModalScreen[str | None]):
    """Lists (label, value) pairs; dismisses with the chosen value, or None."""

    AUTO_FOCUS = "#copy-choices"
    CSS_PATH = "copy_modal.tcss"
    BINDINGS = list(bindings.COPY)

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-dialog"):
            yield Label("Copy to the clipboard", id="copy-title")
            yield OptionList(*(Option(f"{number}  {label}: {value}", id=str(number - 1))
                               for number, (label, value) in enumerate(self.choices, start=1)),
                             id="copy-choices")
            yield Label("Enter or 1-9 copies · esc closes", classes="muted")
        # Its own keys, not the dashboard's underneath.
        yield Footer()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(int(event.option.id or 0))

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self.dismiss(self.choices[index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The customer's sign-in history (`h` on PORTAL): the last 50 events, newest first, with the
time, the address and the result: what the customer did in the portal, as an agent answering
"I can't log in" needs it. Gets plain values; reads nothing itself."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from store.portal_values import SignInRecord
from tui import bindings
from tui.widgets.footer import Footer
from tui.widgets.row_table import RowTable

# What the table says for each event of the history (the store's words, for a person).
RESULT_WORDS = {
    "signed in": "signed in",
    "wrong password": "wrong password",
    "locked": "locked",
    "signed out": "signed out",
    "sessions ended": "signed out everywhere",
    "unlocked": "unlocked",
    "link opened": "link used (opened)",
    "link used": "link used",
    "password set": "password set",
}


class SignInHistoryModal(ModalScreen[None]):
    """A table of SignInRecords; esc closes."""

    AUTO_FOCUS = "#history-table"
    CSS_PATH = "sign_in_history.tcss"
    BINDINGS = list(bindings.SIGN_IN_HISTORY)

    def __init__(self, name: str, records: tuple[SignInRecord, ...]) -> None:
        super().__init__()
        self.customer_name = name
        self.records = records

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog"):
            count = len(self.records)
            yield Label(f"Sign-in history of {self.customer_name}: "
                        f"{'the last ' if count >= 50 else ''}{count} event{'s' if count != 1 else ''}",
                        id="history-title", markup=False)
            table = RowTable(id="history-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("When (UTC)", "Address", "Result", "Detail")
            for record in self.records:
                table.add_row(f"{record.at:%Y-%m-%d %H:%M:%S}", record.address or "-",
                              RESULT_WORDS.get(record.event, record.event), record.detail)
            table.display = bool(self.records)
            yield table
            if not self.records:
                yield Label("Nothing yet: the customer has not signed in, failed or used a link.",
                            id="history-empty", classes="muted")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)

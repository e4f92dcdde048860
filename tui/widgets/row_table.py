"""A table as k9s and htop users expect it, for every list of the console."""
from __future__ import annotations

from textual.widgets import DataTable

from tui import bindings


class RowTable(DataTable):
    """A table of rows as k9s and htop users expect it: g or Home to the first row, G or End
    to the last (DataTable's own Home and End only scroll sideways), PgUp and PgDn a page."""

    BINDINGS = list(bindings.TABLE)

    def action_first_row(self) -> None:
        self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        # On the search screen, reaching the last loaded row loads the next page.
        self.move_cursor(row=self.row_count - 1, animate=False)

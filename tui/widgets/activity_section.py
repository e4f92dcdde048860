"""The dashboard's Activity section: who did what to this customer, when, from what to what.

The table cuts long changes to fit the terminal; the line under it shows the highlighted
event in full, as the Emails section does.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Static

from store.customer_values import ActivityEntry
from tui import bindings
from tui.widgets.emails_section import when
from tui.widgets.row_table import RowTable


def plain(value: object) -> str:
    """Stored text made safe for the screen: every character that doesn't print (newline,
    tab, ESC and the other controls, bidi overrides) shows as its escape, e.g. ``\\x1b``,
    so a value can't move the cursor or forge a line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value))


def value_text(value: str | None) -> str:
    """One side of a change as a person reads it: (none) for no value, (empty) for empty text."""
    if value is None:
        return "(none)"
    return plain(value) if value else "(empty)"


def change_text(entry: ActivityEntry) -> str:
    """The event's detail and its change, e.g. 'ghopper -> grace.h'."""
    parts = [plain(entry.detail)] if entry.detail else []
    if entry.old_value is not None or entry.new_value is not None:
        parts.append(f"{value_text(entry.old_value)} -> {value_text(entry.new_value)}")
    return "; ".join(parts)


def detail_text(entry: ActivityEntry) -> str:
    """The whole event on one line: when, who, what, the detail and the change."""
    parts = [f"{when(entry.at)} UTC, {plain(entry.actor)}: {plain(entry.action)}"]
    if entry.detail:
        parts.append(plain(entry.detail))
    if entry.old_value is not None or entry.new_value is not None:
        parts.append(f"{value_text(entry.old_value)} -> {value_text(entry.new_value)}")
    return "; ".join(parts)


# What `S` sorts the log by, in turn: (name shown, key); "newest first" is the log's own order.
ORDERS = (
    ("newest first", None),
    ("by who", lambda entry: (entry.actor.casefold(), -entry.id)),
    ("by what", lambda entry: (entry.action.casefold(), -entry.id)),
)


class ActivitySection(Vertical):
    """The customer's activity log, newest first; the highlighted event in full under it."""

    BINDINGS = list(bindings.ACTIVITY)

    entries: reactive[tuple[ActivityEntry, ...] | None] = reactive(None, init=False)
    # Index into ORDERS: how the rows are sorted now.
    order: reactive[int] = reactive(0, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # The entries in the order the table shows them.
        self._shown: tuple[ActivityEntry, ...] = ()

    def compose(self) -> ComposeResult:
        yield Label("Loading…", id="activity-status", classes="muted")
        table = RowTable(id="activity-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("When", "Who", "What", "Change")
        yield table
        yield Static("", id="activity-detail", markup=False)

    def watch_order(self) -> None:
        self.watch_entries(self.entries)

    def action_next_sort(self) -> None:
        """Sort the log by the next column: newest first, by who, by what."""
        self.order = (self.order + 1) % len(ORDERS)

    def watch_entries(self, entries: tuple[ActivityEntry, ...] | None) -> None:
        table = self.query_one("#activity-table", DataTable)
        keep = table.cursor_row
        table.clear()
        name, key = ORDERS[self.order]
        self._shown = tuple(sorted(entries or (), key=key)) if key else tuple(entries or ())
        for entry in self._shown:
            # Text, not str: the table would read a str's square brackets as markup.
            table.add_row(when(entry.at), Text(plain(entry.actor)), Text(plain(entry.action)),
                          Text(change_text(entry)), key=str(entry.id))
        if entries:
            table.move_cursor(row=min(keep, len(entries) - 1), animate=False)
        self._show_detail()
        status = self.query_one("#activity-status", Label)
        if entries is None:
            status.update("Loading…")
        else:
            status.update(f"{len(entries)} event{'s' if len(entries) != 1 else ''}, {name}; S sorts."
                          if entries else "Nothing recorded yet.")

    @property
    def selected(self) -> ActivityEntry | None:
        """The event under the cursor."""
        entries = self._shown
        row = self.query_one("#activity-table", DataTable).cursor_row
        return entries[row] if 0 <= row < len(entries) else None

    @on(DataTable.RowHighlighted, "#activity-table")
    def _show_detail(self) -> None:
        """The highlighted event in full: the table cuts the Change column to fit."""
        entry = self.selected
        self.query_one("#activity-detail", Static).update("" if entry is None else detail_text(entry))

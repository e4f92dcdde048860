"""The dashboard's Activity section: who did what to this customer, when, from what to what."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label

from store.values import ActivityEntry
from tui.widgets.emails_section import when


def change_text(entry: ActivityEntry) -> str:
    """The event's detail and its change, e.g. 'ghopper -> grace.h'."""
    parts = [entry.detail] if entry.detail else []
    if entry.old_value is not None or entry.new_value is not None:
        parts.append(f"{entry.old_value or '(none)'} -> {entry.new_value or '(none)'}")
    return "; ".join(parts)


class ActivitySection(Vertical):
    """The customer's activity log, newest first."""

    entries: reactive[tuple[ActivityEntry, ...] | None] = reactive(None, init=False)

    def compose(self) -> ComposeResult:
        yield Label("Loading…", id="activity-status", classes="muted")
        table = DataTable(id="activity-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("When", "Who", "What", "Change")
        yield table

    def watch_entries(self, entries: tuple[ActivityEntry, ...] | None) -> None:
        table = self.query_one("#activity-table", DataTable)
        table.clear()
        for entry in entries or ():
            table.add_row(when(entry.at), entry.actor, entry.action, change_text(entry), key=str(entry.id))
        status = self.query_one("#activity-status", Label)
        if entries is None:
            status.update("Loading…")
        else:
            status.update(f"{len(entries)} event{'s' if len(entries) != 1 else ''}, newest first."
                          if entries else "Nothing recorded yet.")

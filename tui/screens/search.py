"""Customer search, the console's home: results as you type, a portal state filter,
a table that loads one page at a time as the cursor nears its end, and bulk email:
space marks rows, m emails the marked customers, M every customer the search matches."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, Label, Select
from textual.worker import get_current_worker

from store.errors import PortalError
from store.search import count_customers, find_customers
from store.search_text import highlight_spans
from store.values import CustomerOrder, CustomerSummary, MatchCount, PortalState, SearchCursor
from tui import bindings
from tui.calls import call
from tui.messages import OpenCustomer, SearchResults, ShowError
from tui.widgets.footer import Footer
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine
from tui.workers import ReportsWorkerErrors

if TYPE_CHECKING:
    from store.bulk_values import BulkSend
    from tui.widgets.bulk_send import BulkScope

STATE_OPTIONS: tuple[tuple[str, str], ...] = (
    ("All portal states", "all"),
    ("Not set up", PortalState.not_set_up.value),
    ("Awaiting customer", PortalState.awaiting_customer.value),
    ("Active", PortalState.active.value),
    ("Suspended", PortalState.suspended.value),
)
# Short state words for the table's narrow last column.
STATE_WORDS = {
    PortalState.not_set_up: "Not set up",
    PortalState.awaiting_customer: "Awaiting",
    PortalState.active: "Active",
    PortalState.suspended: "Suspended",
}
# Load the next page when the cursor is this close to the last loaded row.
PREFETCH_ROWS = 15
# How the searched words are marked in the results: bold and underlined, so it shows without colour.
HIGHLIGHT = "bold underline"
# The first column of a row marked for a bulk email.
MARK = "✓"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def column_widths(total: int) -> tuple[int, int, int, int, int]:
    """Widths of reference, name, company, primary email and state for a screen ``total`` wide
    (beside them, the one-cell mark column)."""
    reference, state = 9, 10
    # Two cells of padding per column and a vertical scrollbar.
    rest = max(30, total - 2 - 6 * 2 - 1 - reference - state)
    name = rest * 32 // 100
    company = rest * 28 // 100
    return reference, name, company, rest - name - company, state


class SearchScreen(ReportsWorkerErrors, Screen[None]):
    """Find a customer by name, company, reference, any email address or portal username."""

    # The app's action that opens this screen: there, its key is the screen's own.
    OPENED_BY = "open_search"

    class Counted(Message):
        """How many customers match the search of ``generation`` (asked after its first page)."""

        def __init__(self, generation: int, count: MatchCount) -> None:
            super().__init__()
            self.generation, self.count = generation, count

    class Failed(Message):
        """A page of the query of ``generation`` could not be read (the error itself goes to the
        error modal)."""

        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    BINDINGS = list(bindings.SEARCH) + list(bindings.SEARCH_BULK)
    TITLE = "Customer search"

    def __init__(self) -> None:
        super().__init__()
        # Each new query gets a number; results of older ones are dropped when they arrive.
        self._generation = 0
        self._rows: list[CustomerSummary] = []
        self._has_more = False
        # Where the next page starts (the store pages by cursor, never by offset).
        self._next_after: SearchCursor | None = None
        # The words the store matched (folded), marked in the rows; and how many match.
        self._terms: tuple[str, ...] = ()
        self._count: MatchCount | None = None
        # What of the newest query is being read, or failed to be: "search" (its first page;
        # the rows shown meanwhile are an earlier search's) or "more" (a next page), else None.
        self._loading: str | None = None
        self._failed: str | None = None
        self._widths = column_widths(80)
        self._restore: str | None = None
        # A full screen (a dashboard, the Outbox, ...) has been put over this one since it was shown.
        self._covered = False
        # The portal-state filter of the newest query: the Select reports a change on mount too.
        self._searched_state: PortalState | None = None
        # The references marked for a bulk email, in the order marked; kept across searches,
        # so customers found by several searches can be emailed together.
        self.marked: dict[str, None] = {}
        # How the results are sorted; S moves to the next column.
        self.order = CustomerOrder.name

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Input(placeholder="Search name, company, reference, email, username",
                        id="search-input", select_on_focus=False)
            yield Select(STATE_OPTIONS, value="all", allow_blank=False, id="state-filter", compact=True)
        yield Label("Searching…", id="search-status")
        yield RowTable(id="results", cursor_type="row", zebra_stripes=True)
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self._set_columns(self.app.size.width)
        self.focus_search()
        self._start_search()

    def focus_search(self) -> None:
        """Put the cursor in the search box (now, so keys typed right after `/` land in it),
        with the last search selected: what is typed next replaces it, Home or End keep it."""
        search = self.query_one("#search-input", Input)
        self.set_focus(search)
        search.select_all()

    def action_focus_search(self) -> None:
        self.focus_search()

    # --- querying -----------------------------------------------------------

    @property
    def search_text(self) -> str:
        return self.query_one("#search-input", Input).value

    @property
    def state_filter(self) -> PortalState | None:
        value = self.query_one("#state-filter", Select).value
        return None if value in ("all", Select.BLANK) else PortalState(str(value))

    def _start_search(self, *, keep: str | None = None, typed: bool = False) -> None:
        """Run the query afresh; ``keep`` puts the cursor back on that customer if still found.

        Only a query ``typed`` waits the typing pause: it is there for bursts of keys,
        not for the first page, a filter change or a return from a dashboard.
        """
        self._generation += 1
        self._loading, self._failed = "search", None
        self._restore = keep
        self._count = None
        self._show_status()
        limit = max(self.app.page_size, len(self._rows)) if keep else self.app.page_size
        delay = self.app.search_delay if typed else 0.0
        self._searched_state = self.state_filter
        self._query(self._generation, self.search_text, self.state_filter, None, limit, delay, self.order)

    def _load_more(self) -> None:
        if self._has_more and not self._loading:
            self._loading, self._failed = "more", None
            self._show_status()
            self._query(self._generation, self.search_text, self.state_filter, self._next_after,
                        self.app.page_size, 0.0, self.order)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _query(self, generation: int, text: str, state: PortalState | None, after: SearchCursor | None,
               limit: int, delay: float, order: CustomerOrder) -> None:
        """One page of results; a newer query cancels this one before it reaches the database."""
        worker = get_current_worker()
        if delay:
            time.sleep(delay)
        if worker.is_cancelled:
            return
        try:
            page = call(find_customers, text, state=state, limit=limit, after=after, order=order)
        except PortalError as error:
            self.post_message(self.Failed(generation))
            self.post_message(ShowError(error))
            return
        if not worker.is_cancelled:
            self.post_message(SearchResults(generation, page))

    @work(thread=True, exclusive=True, group="search-count", exit_on_error=False)
    def _count_matches(self, generation: int, text: str, state: PortalState | None) -> None:
        """How many customers match, asked after the first page is shown (it never delays it)."""
        try:
            count = call(count_customers, text, state=state)
        except PortalError as error:
            self.post_message(ShowError(error))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Counted(generation, count))

    @on(Counted)
    def _show_count(self, message: Counted) -> None:
        message.stop()
        generation, count = message.generation, message.count
        if generation == self._generation:
            self._count = count
            self._show_status()

    @on(Failed)
    def _show_failure(self, message: Failed) -> None:
        message.stop()
        if message.generation == self._generation:
            # One page is read at a time, so what was loading is what failed.
            self._loading, self._failed = None, self._loading
            if self._failed == "search":
                # The rows shown are the last search's: no next page of the new text follows them.
                self._has_more = False
            self._show_status()

    @on(SearchResults)
    def _show_results(self, message: SearchResults) -> None:
        if message.generation != self._generation:
            return
        table = self.query_one("#results", DataTable)
        page = message.page
        if page.after is None:
            if self._restore is not None and self._rows:
                # Keys pressed while the query ran moved the cursor: keep it where it is now.
                self._restore = self._highlighted_reference() or self._restore
            table.clear()
            self._rows = []
            self._terms = page.terms
            self._count_matches(message.generation, self.search_text, self.state_filter)
        # A customer added meanwhile shifts the pages by one: a row seen already is not added twice.
        shown = {c.reference for c in self._rows}
        fresh = [c for c in page.customers if c.reference not in shown]
        for customer in fresh:
            self._add_row(table, customer)
        self._rows.extend(fresh)
        self._has_more = page.has_more
        self._next_after = page.next_after
        self._loading = self._failed = None
        if self._restore is not None:
            keys = [c.reference for c in self._rows]
            if self._restore in keys:
                table.move_cursor(row=keys.index(self._restore), animate=False)
            self._restore = None
        self._show_status()
        # The store reads a bounded stretch of customers a call, so a page can come back short
        # (a rare word among many customers): go on until the screen is full.
        if self._has_more and (len(self._rows) < self.app.page_size
                               or table.cursor_row >= len(self._rows) - PREFETCH_ROWS):
            self._load_more()

    def _add_row(self, table: DataTable, customer: CustomerSummary) -> None:
        ref_w, name_w, company_w, email_w, _ = self._widths
        table.add_row(
            MARK if customer.reference in self.marked else "",
            self._marked(_cut(customer.reference, ref_w)), self._marked(_cut(customer.name, name_w)),
            self._marked(_cut(customer.company, company_w)),
            self._marked(_cut(customer.primary_email, email_w)) if customer.primary_email else "(empty)",
            STATE_WORDS[customer.state], key=customer.reference,
        )

    def _marked(self, text: str) -> str | Text:
        """The cell with the searched words marked where the store matched them."""
        spans = highlight_spans(text, self._terms) if self._terms else []
        if not spans:
            return text
        marked = Text(text)
        for start, end in spans:
            marked.stylize(HIGHLIGHT, start, end)
        return marked

    def _show_status(self) -> None:
        label = self.query_one("#search-status", Label)
        shown = len(self._rows)
        text = self.search_text.strip()
        # Typed words rank the results (whole reference, username or address first, then word
        # starts); the chosen column orders each rank.
        order = f"by {self.order.value}" + (", best match first" if self._terms else "")
        if self._failed == "search":
            before = "; the rows below are from before" if shown else ""
            label.update(f"The search did not run{before}. Edit the text to try again.")
        elif self._failed == "more":
            label.update(f"{shown} shown; the next rows could not be read. Move down to try again.")
        elif self._loading == "search" and shown:
            # The last search's rows stay until the new ones come (no blank flash between
            # keystrokes), but the line must not count them as matches of the new text.
            label.update(f"Searching for {text!r}…" if text else "Searching…")
        elif shown == 0 and (self._loading or self._has_more):
            label.update("Searching…")
        elif shown == 0:
            label.update(f"No customer matches {text!r}." if text else "No customers yet. Press ctrl+n to add one.")
        elif self._has_more:
            found = f"{self._count.text} match" if self._count else f"{shown}+ customers match"
            label.update(f"{found}; {shown} shown {order}, more below. {self._next_step()}")
        else:
            label.update(f"{shown} customer{'s' if shown != 1 else ''} {order}. {self._next_step()}")

    def _next_step(self) -> str:
        """What a key does next: with rows marked, how to email them (in place of Enter's hint,
        so the line still fits 80 columns)."""
        n = len(self.marked)
        return f"{n:,} marked: m emails them, U unmarks." if n else "Enter opens."

    # --- columns follow the terminal's width --------------------------------

    def _set_columns(self, width: int) -> None:
        self._widths = column_widths(width)
        table = self.query_one("#results", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_column("", width=1, key="mark")
        for title, w in zip(("Reference", "Name", "Company", "Primary email", "Portal"), self._widths):
            table.add_column(title, width=w)
        for customer in self._rows:
            self._add_row(table, customer)
        if self._rows:
            table.move_cursor(row=min(cursor, len(self._rows) - 1), animate=False)

    def on_resize(self) -> None:
        if column_widths(self.size.width) != self._widths:
            self._set_columns(self.size.width)

    # --- events -------------------------------------------------------------

    def on_screen_suspend(self) -> None:
        # A dashboard or another full screen: states may change there. A dialog over this one
        # (an error, the bulk send, help, the palette) changes no row; searching again when it
        # closes would bring back the error modal of a database that is down at every Esc.
        if not isinstance(self.app.screen, ModalScreen):
            self._covered = True

    def on_screen_resume(self) -> None:
        if not self.is_mounted:
            return
        search = self.query_one("#search-input", Input)
        if self.focused is search:
            # Back in the box: the next search is typed over the last one.
            search.select_all()
        # Back from a dashboard: states may have changed there, read them again. (Not on the
        # screen's first show, which on_mount has just searched for.)
        if self._covered:
            self._covered = False
            table = self.query_one("#results", DataTable)
            keep = self._rows[table.cursor_row].reference if self._rows else None
            self._start_search(keep=keep)

    @on(Input.Changed, "#search-input")
    def _text_changed(self) -> None:
        self._start_search(typed=True)

    @on(Select.Changed, "#state-filter")
    def _filter_changed(self) -> None:
        if self.state_filter != self._searched_state:
            self._start_search()

    @on(Input.Submitted, "#search-input")
    def _submit(self) -> None:
        table = self.query_one("#results", DataTable)
        if self._rows:
            self.post_message(OpenCustomer(self._rows[table.cursor_row].reference))

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenCustomer(str(event.row_key.value)))

    @on(DataTable.RowHighlighted, "#results")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self._rows) - PREFETCH_ROWS:
            self._load_more()

    def action_focus_results(self) -> None:
        if self._rows:
            # At once, not after the queued events: a key typed right after ↓ belongs to the results.
            self.set_focus(self.query_one("#results", DataTable))

    def action_next_order(self) -> None:
        """Sort the results by the next column (name, reference, company); the query runs again."""
        orders = list(CustomerOrder)
        self.order = orders[(orders.index(self.order) + 1) % len(orders)]
        self._start_search(keep=self._highlighted_reference())

    def _highlighted_reference(self) -> str | None:
        table = self.query_one("#results", DataTable)
        row = table.cursor_row
        return self._rows[row].reference if 0 <= row < len(self._rows) else None

    def action_next_state(self) -> None:
        select = self.query_one("#state-filter", Select)
        values = [value for _, value in STATE_OPTIONS]
        select.value = values[(values.index(str(select.value)) + 1) % len(values)]

    def action_clear_search(self) -> None:
        search = self.query_one("#search-input", Input)
        if search.value:
            search.value = ""
        search.focus()

    # --- bulk email ---------------------------------------------------------

    def _results_focused(self) -> bool:
        return self.focused is self.query_one("#results", DataTable)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted customer, then move down (so space, space marks a run)."""
        table = self.query_one("#results", DataTable)
        reference = self._highlighted_reference()
        if not self._results_focused() or reference is None:
            return
        if reference in self.marked:
            del self.marked[reference]
        else:
            self.marked[reference] = None
        table.update_cell(reference, "mark", MARK if reference in self.marked else "")
        if table.cursor_row < len(self._rows) - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)
        self._show_status()

    def action_unmark_all(self) -> None:
        if not self.marked:
            return
        self.marked.clear()
        table = self.query_one("#results", DataTable)
        for customer in self._rows:
            table.update_cell(customer.reference, "mark", "")
        self._show_status()

    def action_email_marked(self) -> None:
        if not self.marked:
            self.notify("No customer is marked: space marks the highlighted one; M emails every customer "
                        "the search matches.", severity="warning")
            return
        from tui.widgets.bulk_send import BulkScope

        self._ask_bulk(BulkScope(references=tuple(self.marked)))

    def action_email_matching(self) -> None:
        from tui.widgets.bulk_send import BulkScope

        self._ask_bulk(BulkScope(match=self.search_text.strip(), state=self.state_filter))

    def _ask_bulk(self, scope: BulkScope) -> None:
        # The bulk dialog (and the TextArea it shows) is imported when first asked for: it is
        # not on the way to the console's first frame.
        from tui.widgets.bulk_send import BulkSendModal

        def sent(result: BulkSend | None) -> None:
            if result is None or result.dry_run:
                return
            # Marks are for one send: cleared once it went through, kept when it was stopped
            # (sending again skips those just queued, as a link sent in the last 24 h).
            if scope.references is not None and not result.cancelled:
                self.action_unmark_all()
            self.notify(result.summary, title="Bulk email", timeout=10)

        self.app.push_screen(BulkSendModal(scope, agent=self.app.agent), sent)

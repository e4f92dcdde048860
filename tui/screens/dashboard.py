"""The Customer Dashboard: the customer's details and a panel with sections, PORTAL,
Emails and Activity, as the source document describes ("Click on PORTAL in the panel").

A timer checks the customer every ``poll_seconds`` in a thread worker; when
anything changed elsewhere (another console, the CLI, the customer in the
portal, the mailer) the screen reads the customer again and every section follows.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane

from store import activity, customer_side, outbox
from store.changes import dashboard_marker
from store.customer_values import CustomerDetail, CustomerUpdate, PortalView
from store.customers import get_customer
from store.errors import CustomerNotFound, PortalError
from store.portal_values import CustomerSide
from tui import bindings
from tui.calls import call
from tui.messages import CustomerChanged, CustomerGone, CustomerLoaded, PollFinished, ShowError, Snapshot
from tui.screens.edit_customer import EditCustomerScreen
from tui.widgets.activity_section import ActivitySection
from tui.widgets.copy_modal import CopyModal
from tui.widgets.emails_section import EmailsSection
from tui.widgets.footer import Footer
from tui.widgets.portal_panel import PortalPanel
from tui.widgets.status_line import StatusLine
from tui.workers import ReportsWorkerErrors

EMAILS_SHOWN = 100
EVENTS_SHOWN = 200
_TAB_ACTIONS = {
    "portal": {"edit_username", "send_email", "delete_username", "preview_email", "sign_in_history",
               "unlock", "sign_out_everywhere", "suspend", "resume"},
    "emails": {"retry"},
}


@dataclass(frozen=True)
class DashboardSnapshot(Snapshot):
    """A Snapshot with what the customer sees (the PORTAL panel's link and sign-in lines)."""

    side: CustomerSide | None = None


def read_snapshot(reference: str) -> DashboardSnapshot:
    """Everything the dashboard shows; the marker is read first, so a change in between is seen next time."""
    marker = dashboard_marker(reference)
    return DashboardSnapshot(
        detail=get_customer(reference),
        emails=outbox.list_outbox(reference=reference, limit=EMAILS_SHOWN),
        activity=activity.list_activity(reference, limit=EVENTS_SHOWN),
        marker=marker,
        side=customer_side.customer_side(reference),
    )


class DashboardScreen(ReportsWorkerErrors, Screen[None]):
    """One customer: details, PORTAL, Emails, Activity."""

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "Tabs"

    CSS_PATH = ["dashboard.tcss", "../widgets/portal_panel.tcss", "../widgets/emails_section.tcss",
                "../widgets/activity_section.tcss"]
    BINDINGS = list(bindings.DASHBOARD) + list(bindings.PORTAL) + list(bindings.EMAILS)

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.customer_name: str | None = None
        # The details shown now: the edit form starts from them.
        self._detail: CustomerDetail | None = None
        self._marker: tuple[object, ...] | None = None
        self._polling = False
        # Reads are numbered as they start; a read that lands after a newer one is dropped,
        # so a slow poll can never put an older view back.
        self._reads_started = 0
        self._shown_read = 0

    @property
    def portal_view(self) -> PortalView | None:
        """What the PORTAL panel shows now."""
        return self.query_one(PortalPanel).view

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="customer-details"):
            yield Static("Loading customer…", id="customer-heading", markup=False)
            yield Static("", id="customer-email", markup=False)
            yield Static("", id="customer-addresses", markup=False)
        with TabbedContent(initial="portal", id="sections"):
            with TabPane("PORTAL", id="portal"):
                yield PortalPanel(agent=self.app.agent, id="portal-panel")
            with TabPane("Emails", id="emails"):
                yield EmailsSection(agent=self.app.agent, id="emails-section")
            with TabPane("Activity", id="activity"):
                yield ActivitySection(id="activity-section")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Customer Dashboard"
        self.sub_title = self.reference
        self._load()
        self.set_interval(self.app.poll_seconds, self._poll)

    # --- reading the customer -------------------------------------------------

    def _load(self) -> None:
        self._reads_started += 1
        self._read(self._reads_started)

    @work(thread=True, group="dashboard-load", exit_on_error=False)
    def _read(self, number: int) -> None:
        try:
            snapshot = call(read_snapshot, self.reference)
        except CustomerNotFound as error:
            self.post_message(CustomerGone(error))
        except PortalError as error:
            self.post_message(ShowError(error))
        else:
            self.post_message(CustomerLoaded(snapshot, number))

    def _poll(self) -> None:
        # The customer's side's words follow the clock ("expires in", "Locked until") between reads.
        for panel in self.query(PortalPanel):  # none while the screen is being composed or removed
            panel.tick()
        # One poll at a time: a slow database gets one question a tick, never a pile of them.
        if not self._polling and self._marker is not None:
            self._polling = True
            self._reads_started += 1
            self._check(self._reads_started, self._marker)

    @work(thread=True, group="dashboard-poll", exit_on_error=False)
    def _check(self, number: int, shown: tuple[object, ...]) -> None:
        """Read the cheap marker; read everything only when it moved."""
        try:
            if call(dashboard_marker, self.reference) != shown:
                self.post_message(CustomerLoaded(call(read_snapshot, self.reference), number))
            self.post_message(PollFinished(None))
        except CustomerNotFound as error:
            self.post_message(CustomerGone(error))
        except PortalError as error:
            self.post_message(PollFinished(error))

    @on(PollFinished)
    def _polled(self, message: PollFinished) -> None:
        message.stop()
        self._polling = False
        self._not_refreshed(message.error)

    def _not_refreshed(self, error: PortalError | None) -> None:
        """Say in the title bar when the background check failed: the screen may be out of date."""
        heading = f"{self.customer_name} · {self.reference}" if self.customer_name else self.reference
        self.sub_title = heading if error is None else f"{heading} · not refreshed: {error.title.lower()}"

    @on(CustomerLoaded)
    def _show(self, message: CustomerLoaded) -> None:
        if message.number is not None:
            if message.number < self._shown_read:
                return  # a newer read is already on the screen
            self._shown_read = message.number
        snapshot = message.snapshot
        self._marker = snapshot.marker
        detail = snapshot.detail
        self._detail = detail
        self.customer_name = detail.name
        self.reference = detail.reference
        self._not_refreshed(None)
        company = f" · {detail.company}" if detail.company else ""
        self.query_one("#customer-heading", Static).update(
            f"{detail.name}{company} · {detail.reference} · customer since {detail.created_at:%Y-%m-%d}")
        self.query_one("#customer-email", Static).update(
            f"Primary Email Address: {detail.primary_email or '(empty)'}")
        addresses = self.query_one("#customer-addresses", Static)
        if detail.address_problem:
            addresses.update(f"! {detail.address_problem}")
            addresses.set_class(True, "-problem")
        else:
            count = len(detail.addresses)
            addresses.update(f"✓ {count} valid address{'es' if count != 1 else ''}: " + ", ".join(detail.addresses))
            addresses.set_class(False, "-problem")
        panel = self.query_one(PortalPanel)
        if panel.view != detail.portal:
            panel.view = detail.portal
        side = getattr(snapshot, "side", None)
        if side is not None:
            panel.side = side
        # The PORTAL keys are dimmed or not by the state, which may have changed in the panel itself.
        self.refresh_bindings()
        self.query_one(EmailsSection).emails = snapshot.emails
        self.query_one(ActivitySection).entries = snapshot.activity

    @on(CustomerGone)
    def _gone(self, message: CustomerGone) -> None:
        message.stop()
        self.dismiss()
        self.app.show_error(message.error)

    @on(CustomerChanged)
    def _changed(self, message: CustomerChanged) -> None:
        message.stop()
        self._load()

    # --- keys -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """PORTAL keys on the PORTAL tab, retry on the Emails tab: the footer shows what works here."""
        active = self.query_one(TabbedContent).active if self.is_mounted else "portal"
        for tab, actions in _TAB_ACTIONS.items():
            if action in actions and tab != active:
                return False
        # Delete and Send stay live in every state: pressed where they don't apply, the
        # panel says why (no username to delete; no valid address) instead of nothing happening.
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss()

    def action_edit_username(self) -> None:
        self.portal_edit_username()

    def action_send_email(self) -> None:
        self.portal_send()

    def action_delete_username(self) -> None:
        self.portal_delete()

    def action_preview_email(self) -> None:
        self.portal_preview()

    def action_sign_in_history(self) -> None:
        self.portal_history()

    def action_unlock(self) -> None:
        self.portal_unlock()

    def action_sign_out_everywhere(self) -> None:
        self.portal_sign_out()

    def action_suspend(self) -> None:
        self.portal_suspend()

    def action_resume(self) -> None:
        self.portal_resume()

    def action_retry(self) -> None:
        self.query_one(EmailsSection).retry_selected()

    def action_copy(self) -> None:
        """Ask which identifier to copy; Textual writes it through the terminal (OSC 52)."""
        detail = self._detail
        if detail is None:
            return
        choices = [("Reference", detail.reference)]
        if detail.portal.username:
            choices.append(("Portal username", detail.portal.username))
        choices += [("Address", address) for address in detail.addresses]

        def chosen(value: str | None) -> None:
            if value is not None:
                self.app.copy_to_clipboard(value)
                self.app.notify(f"Copied {value}", title="Clipboard")

        self.app.push_screen(CopyModal(choices), chosen)

    def action_edit_customer(self) -> None:
        """Open the form for name, company and Primary Email Address, based on what is shown."""
        if self._detail is None:
            return

        def saved(update: CustomerUpdate | None) -> None:
            if update is None:
                return
            self._load()  # the details and the PORTAL panel's recipients follow at once
            if not update.changed:
                self.app.notify("Nothing was changed.", title="Customer details")
                return
            words = ", ".join(field.replace("_", " ") for field in update.changed)
            text = f"Saved: {words}."
            if update.links_revoked:
                text += (f" {update.links_revoked_text} sent to the old address stopped working;"
                         f" {update.detail.portal.email_action_label} sends a new one.")
            self.app.notify(text, title=f"Customer {update.detail.reference}")

        self.app.push_screen(EditCustomerScreen(self._detail), saved)

    # Direct entry points for the command palette: they open the PORTAL tab first.

    def portal_edit_username(self) -> None:
        """Show PORTAL and put the cursor in the username field."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).focus_username()

    def portal_send(self) -> None:
        """Show PORTAL and send the one email its state allows."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).send_email()

    def portal_delete(self) -> None:
        """Show PORTAL and ask to delete the username."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).delete_username()

    def portal_preview(self) -> None:
        """Show PORTAL and preview the one email."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).preview_email()

    def portal_history(self) -> None:
        """Show PORTAL and the customer's sign-in history."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).show_history()

    def portal_unlock(self) -> None:
        """Show PORTAL and unlock the customer (or say why not)."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).unlock()

    def portal_sign_out(self) -> None:
        """Show PORTAL and end every portal session of the customer (or say why not)."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).sign_out_everywhere()

    def portal_suspend(self) -> None:
        """Show PORTAL and ask to suspend the customer's portal access (or say why not)."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).suspend()

    def portal_resume(self) -> None:
        """Show PORTAL and resume the customer's portal access (or say why not)."""
        self.action_show_tab("portal")
        self.query_one(PortalPanel).resume()

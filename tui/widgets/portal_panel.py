"""The PORTAL panel of the Customer Dashboard.

One reactive value, ``view`` (a PortalView from the service layer), and every
label and button derived from it in ``watch_view``: the Self Service Portal
Username with Update and Delete, the state in words, and exactly the one email
action the state allows. The actions run in thread workers with the version
the panel shows, so a change made elsewhere meanwhile is refused, never overwritten.

While the portal access is suspended (rule 16) no email action is offered: the panel says
why and names R Resume.

A second value, ``side`` (a CustomerSide), is what the customer sees: the newest link's
life, the last sign-in and failures since, and a lock with Unlock. Its words are derived
from the values and the clock (``tick`` redraws them), so "expires in 70 h" and "Locked
until 09:05" follow time between reads.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from store import clock, customer_side, panel
from store.customer_values import PortalView
from store.errors import PortalError, StaleEdit
from store.panel import MAX_SUSPEND_REASON
from store.portal_values import CustomerSide, EmailPreview, SignInRecord
from store.values import PortalState
from tui import bindings
from tui.calls import call
from tui.messages import ActionFinished, CustomerChanged, ShowError
from tui.widgets.confirm import ConfirmModal
from tui.widgets.email_preview import EmailPreviewModal
from tui.widgets.sign_in_history import SignInHistoryModal
from tui.workers import ReportsWorkerErrors


class PortalPanel(ReportsWorkerErrors, Vertical):
    """Username, state and the one email action of one customer."""

    class PreviewRead(Message):
        """The email the panel's send would queue, read for the preview."""

        def __init__(self, preview: EmailPreview) -> None:
            super().__init__()
            self.preview = preview

    class HistoryRead(Message):
        """The customer's last sign-in events, read for the history."""

        def __init__(self, records: tuple[SignInRecord, ...]) -> None:
            super().__init__()
            self.records = records

    BINDINGS = list(bindings.PORTAL_FIELD)

    view: reactive[PortalView | None] = reactive(None, init=False, always_update=True)
    # What the customer sees: the newest link, sign-ins, a lock (read with the view).
    side: reactive[CustomerSide | None] = reactive(None, init=False)
    # True while an action's worker runs: the buttons wait for it.
    busy: reactive[bool] = reactive(False, init=False)

    def __init__(self, *, agent: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent = agent
        # Set when the field must show the stored username even though the agent typed in it.
        self._reset_field = False
        # The view the field's text was based on when the agent began typing: Update saves
        # against its version, so a change made meanwhile elsewhere is refused however many
        # refreshes arrived since (a refresh must not rebase the edit silently).
        self._base: PortalView | None = None

    def compose(self) -> ComposeResult:
        yield Label("Self Service Portal Username", id="username-label", classes="field-label")
        with Horizontal(id="username-row"):
            yield Input(id="username-input", placeholder="no username: type one, then Update",
                        select_on_focus=False, max_length=200)
            yield Button("Update", id="update-button")
            yield Button("Delete", id="delete-button", variant="error")
        yield Label("", id="username-error", classes="field-error")
        yield Static("", id="username-conflict", classes="field-warning", markup=False)
        with Horizontal(id="state-row"):
            yield Label("State:", classes="muted")
            yield Label("", id="portal-state")
        yield Static("", id="link-status", markup=False)
        yield Static("", id="sign-in-status", markup=False)
        yield Static("", id="lock-status", markup=False)
        yield Button("", id="email-button", variant="primary")
        yield Static("", id="email-blocked", classes="note", markup=False)
        yield Static("", id="email-note", classes="note", markup=False)
        yield Static("", id="email-recipients", classes="muted", markup=False)

    def on_mount(self) -> None:
        self._derive(None, self.view)
        self.tick()

    # --- everything shown derives from `view` -------------------------------

    def watch_view(self, old: PortalView | None, new: PortalView | None) -> None:
        self._derive(old, new)

    def watch_busy(self) -> None:
        self._derive(self.view, self.view)

    def watch_side(self) -> None:
        self.tick()

    def tick(self) -> None:
        """Redraw the customer's side from ``side`` and the clock (the dashboard calls this
        every poll, so time-bound words move without a read)."""
        side, now = self.side, clock.now()
        try:
            link = self.query_one("#link-status", Static)
            sign_in = self.query_one("#sign-in-status", Static)
            lock = self.query_one("#lock-status", Static)
        except NoMatches:
            return  # a tick before the lines are composed, or while the screen goes: the next one draws
        if side is None:
            for line in (link, sign_in, lock):
                line.display = False
            return
        link.update(side.link_text(now))
        link.display = True
        sign_in.update(side.signin.sign_in_text(now))
        sign_in.display = True
        locked = side.signin.lock_text(now)
        lock.update(f"{locked} · l Unlock" if locked else "")
        lock.display = locked is not None
        self.set_class(locked is not None, "-locked")

    def _derive(self, old: PortalView | None, view: PortalView | None) -> None:
        field = self.query_one("#username-input", Input)
        update = self.query_one("#update-button", Button)
        delete = self.query_one("#delete-button", Button)
        email = self.query_one("#email-button", Button)
        if view is None:
            self.query_one("#portal-state", Label).update("Loading…")
            for button in (update, delete, email):
                button.disabled = True
            email.label = "Send email"
            return
        # Keep what the agent is typing; follow the stored username when nothing was typed.
        base = self._base or old
        typed = field.value.strip()
        conflict = None
        if self._reset_field or base is None or typed == (base.username or ""):
            field.value = view.username or ""
            field.cursor_position = len(field.value)
            self._reset_field = False
            self._base = view
        else:
            conflict = base.username_edit_conflict(view)
            if conflict is None:
                self._base = view  # changed elsewhere, but not what the edit was based on
        warning = self.query_one("#username-conflict", Static)
        warning.update(conflict or "")
        warning.display = conflict is not None
        self.query_one("#portal-state", Label).update(view.state_text)
        for state in ("-not_set_up", "-awaiting_customer", "-active", "-suspended"):
            self.set_class(state == f"-{view.state.value}", state)
        suspended = view.state is PortalState.suspended
        update.disabled = self.busy
        delete.disabled = self.busy or not view.can_delete
        email.label = view.email_action_label
        email.disabled = self.busy or not view.can_send
        # Suspended: no email action at all, only why and the way back.
        email.display = not suspended
        blocked = self.query_one("#email-blocked", Static)
        if suspended:
            blocked.update("No email while suspended: the portal refuses sign-in and every link · R Resume")
        else:
            blocked.update(f"Can't send: {view.email_blocked_reason}" if view.email_blocked_reason else "")
        blocked.display = suspended or view.email_blocked_reason is not None
        note = self.query_one("#email-note", Static)
        note.update(view.email_type_note or "")
        note.display = view.email_type_note is not None and not suspended
        recipients = self.query_one("#email-recipients", Static)
        addresses = view.addresses
        if len(addresses) > 1:
            recipients.update(f"Goes to all {len(addresses)} addresses: {', '.join(addresses)}")
        else:
            recipients.update(f"Goes to: {addresses[0]}" if addresses else "")
        recipients.display = bool(view.addresses) and not suspended

    def show_field_error(self, message: str | None) -> None:
        """Show (or clear, with None) the message under the username field."""
        error = self.query_one("#username-error", Label)
        error.update(message or "")
        error.set_class(message is not None, "-shown")
        self.query_one("#username-input", Input).set_class(message is not None, "-invalid")

    # --- the actions ----------------------------------------------------------

    def focus_username(self) -> None:
        """Put the cursor at the end of the username field."""
        field = self.query_one("#username-input", Input)
        # Focus now, not after the queued events: keys typed right after `u` belong in the field.
        self.screen.set_focus(field)
        field.cursor_position = len(field.value)

    @on(Input.Changed, "#username-input")
    def _typed(self) -> None:
        self.show_field_error(None)

    @on(Input.Submitted, "#username-input")
    @on(Button.Pressed, "#update-button")
    def update_username(self) -> None:
        """Update: set or change the username to what the field holds."""
        view = self.view
        if view is None or self.busy:
            return
        base = self._base or view
        typed = self.query_one("#username-input", Input).value
        if base.update_changes_nothing(typed):
            self.notify(f"The username is already {base.username}; nothing to update.")
            return
        self.busy = True
        self._set_username(base.reference, typed, base.version)

    @on(Button.Pressed, "#delete-button")
    def delete_username(self) -> None:
        """Delete, after a confirmation that says what it does."""
        view = self.view
        if view is None or self.busy:
            return
        if view.delete_refusal is not None:
            self.notify(view.delete_refusal.message, severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self._delete(view.reference, view.version)

        self.app.push_screen(
            ConfirmModal("Delete the portal username?", view.delete_consequence, confirm_label="Delete"),
            answered,
        )

    @on(Button.Pressed, "#email-button")
    def send_email(self) -> None:
        """The one email action the state allows."""
        view = self.view
        if view is None or self.busy:
            return
        if view.send_refusal is not None:
            self.post_message(ShowError(view.send_refusal))
            return
        self.busy = True
        self._send(view.reference, view.version)

    def preview_email(self) -> None:
        """The one email, previewed: its words as the customer gets them; nothing is sent."""
        view = self.view
        if view is None:
            return
        if view.send_refusal is not None:
            self.post_message(ShowError(view.send_refusal))
            return
        self._preview(view.reference)

    def show_history(self) -> None:
        """The customer's last sign-in events, in a modal."""
        if self.view is not None:
            self._history(self.view.reference)

    def unlock(self) -> None:
        """Unlock, when the portal's limits lock the customer out; otherwise say why not."""
        if self.view is None or self.side is None or self.busy:
            return
        refusal = self.side.signin.unlock_refusal(clock.now())
        if refusal is not None:
            self.notify(refusal.message, severity="warning")
            return
        self.busy = True
        self._unlock(self.view.reference)

    def sign_out_everywhere(self) -> None:
        """End every portal session of the customer, after a question; otherwise say why not."""
        view, side = self.view, self.side
        if view is None or side is None or self.busy:
            return
        refusal = side.signin.sign_out_refusal
        if refusal is not None:
            self.notify(refusal.message, severity="warning")
            return
        count = side.signin.open_sessions

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self._sign_out(view.reference)

        self.app.push_screen(ConfirmModal(
            "Sign out everywhere?",
            f"End the customer's {count} open portal session{'s' if count != 1 else ''}? They sign in "
            "again with their password; nothing else changes.", confirm_label="Sign out"), answered)

    def suspend(self) -> None:
        """Suspend the portal access, after a question that says what it does; otherwise say why not."""
        view = self.view
        if view is None or self.busy:
            return
        if view.suspend_refusal is not None:
            self.notify(view.suspend_refusal.message, severity="warning")
            return

        question = ConfirmModal(
            "Suspend portal access?",
            f"Suspend {view.username!r}? The portal refuses their sign-in and every link, their sessions "
            "end and no email is sent, until Resume (R); their username (and password, if set) are kept.",
            confirm_label="Suspend", reason_label="Reason (for the activity log and this panel):",
            reason_length=MAX_SUSPEND_REASON)

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self._suspend(view.reference, view.version, question.reason)

        self.app.push_screen(question, answered)

    def resume(self) -> None:
        """Resume a suspended portal access; otherwise say why not."""
        view = self.view
        if view is None or self.busy:
            return
        if view.resume_refusal is not None:
            self.notify(view.resume_refusal.message, severity="warning")
            return
        self.busy = True
        self._resume(view.reference, view.version)

    def action_leave_field(self) -> None:
        """Esc in the panel: drop what was typed and hand the keys back to the dashboard."""
        if self.view is not None:
            self._reset_field = True
            self.view = self.view
        self.show_field_error(None)
        self._hand_keys_back()

    def _hand_keys_back(self) -> None:
        """Focus the section tabs, so the dashboard's letter keys (m, d, e, ...) work again."""
        tabs = self.screen.query("Tabs")
        if tabs:
            tabs.first().focus()
        else:
            self.screen.set_focus(None)

    # --- workers: blocking calls off the event loop ---------------------------

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _set_username(self, reference: str, username: str, version: int) -> None:
        try:
            view = call(panel.set_username, reference, username, expected_version=version, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("update", error=error))
        else:
            self.post_message(ActionFinished("update", view=view,
                                             toast=f"Username set to {view.username}: {view.state_text}."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _delete(self, reference: str, version: int) -> None:
        try:
            view = call(panel.delete_username, reference, expected_version=version, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("delete", error=error))
        else:
            self.post_message(ActionFinished(
                "delete", view=view, toast=f"Username deleted: {view.state_text}; the action is now "
                f"{view.email_action_label}."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _send(self, reference: str, version: int) -> None:
        try:
            queued = call(panel.send_portal_email, reference, expected_version=version, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("send", error=error))
        else:
            self.post_message(ActionFinished(
                "send", toast=f"{queued.kind.type_name} email queued to {', '.join(queued.to)}."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _unlock(self, reference: str) -> None:
        try:
            cleared = call(customer_side.unlock_customer, reference, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("unlock", error=error))
        else:
            self.post_message(ActionFinished(
                "unlock", toast=f"Unlocked: {cleared} counted wrong password{'s' if cleared != 1 else ''} "
                "cleared; the customer can sign in now."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _sign_out(self, reference: str) -> None:
        try:
            ended = call(customer_side.sign_out_everywhere, reference, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("sign-out", error=error))
        else:
            self.post_message(ActionFinished(
                "sign-out", toast=f"Signed out everywhere: {ended} portal session{'s' if ended != 1 else ''} ended."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _suspend(self, reference: str, version: int, reason: str) -> None:
        try:
            view = call(panel.suspend_portal, reference, reason, expected_version=version, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("suspend", error=error))
        else:
            self.post_message(ActionFinished(
                "suspend", view=view, toast="Portal access suspended: sign-in, links and emails stop until Resume."))

    @work(thread=True, exclusive=True, group="portal-action", exit_on_error=False)
    def _resume(self, reference: str, version: int) -> None:
        try:
            view = call(panel.resume_portal, reference, expected_version=version, actor=self.agent)
        except PortalError as error:
            self.post_message(ActionFinished("resume", error=error))
        else:
            self.post_message(ActionFinished("resume", view=view, toast=f"Portal access resumed: {view.state_text}."))

    # Reading only: not the portal-action group, so they never wait for (or cancel) an action.
    @work(thread=True, group="portal-read", exit_on_error=False)
    def _preview(self, reference: str) -> None:
        try:
            preview = call(customer_side.preview_email, reference)
        except PortalError as error:
            self.post_message(ShowError(error))
        else:
            self.post_message(self.PreviewRead(preview))

    @on(PreviewRead)
    def _show_preview(self, message: PreviewRead) -> None:
        message.stop()
        self.app.push_screen(EmailPreviewModal(message.preview))

    @work(thread=True, group="portal-read", exit_on_error=False)
    def _history(self, reference: str) -> None:
        try:
            records = call(customer_side.sign_in_history, reference)
        except PortalError as error:
            self.post_message(ShowError(error))
        else:
            self.post_message(self.HistoryRead(records))

    @on(HistoryRead)
    def _show_history(self, message: HistoryRead) -> None:
        message.stop()
        name = getattr(self.screen, "customer_name", None) or (self.view.reference if self.view else "")
        self.app.push_screen(SignInHistoryModal(name, message.records))

    @on(Worker.StateChanged)
    def _action_broke(self, event: Worker.StateChanged) -> None:
        # An unexpected error (the app shows it): the buttons must not stay waiting for it.
        if event.worker.group == "portal-action" and event.state is WorkerState.ERROR:
            self.busy = False

    @on(ActionFinished)
    def _finished(self, message: ActionFinished) -> None:
        message.stop()
        self.busy = False
        error = message.error
        if error is not None:
            if error.field == "username":
                # Taken or invalid: said at the field; nothing was written.
                self.show_field_error(error.message)
                self.focus_username()
                return
            if isinstance(error, StaleEdit):
                # The screen must show what is stored now, not what the agent typed: at once
                # from the newest view the panel holds; the reload then follows as usual.
                self._reset_field = True
                if self.view is not None:
                    self.view = self.view
            self.post_message(ShowError(error))
            self.post_message(CustomerChanged())
            return
        self.show_field_error(None)
        if message.view is not None:
            self._reset_field = True
            self.view = message.view
        if message.action == "update" and self.query_one("#username-input", Input).has_focus:
            # Saved: the next step (m to send the email) should not type into the field.
            self._hand_keys_back()
        if message.toast:
            self.notify(message.toast)
        self.post_message(CustomerChanged())

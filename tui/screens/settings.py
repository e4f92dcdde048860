"""Settings: the account's Email Notifications switches, portal URL, link lifetimes,
sender and link use. Every change goes through store.settings in a thread worker."""
from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Select, Static, Switch

from store.customer_values import AccountSettings
from store.errors import InvalidSetting, PortalError, StaleSetting
from store.settings import MAX_LINK_HOURS, get_settings, setting_text, update_setting
from store.values import EmailKind
from tui import bindings
from tui.calls import call
from tui.messages import ShowError
from tui.widgets.confirm import ConfirmModal
from tui.widgets.footer import Footer
from tui.widgets.status_line import StatusLine
from tui.workers import ReportsWorkerErrors


@dataclass(frozen=True)
class SwitchSpec:
    """An Email Notifications switch: its setting key, the type name and what "on" does."""

    key: str
    kind: EmailKind
    explanation: str


@dataclass(frozen=True)
class TextSpec:
    """A setting typed as text: its key, its label and what a valid value looks like."""

    key: str
    label: str
    help: str


SWITCHES = (
    SwitchSpec("credential_create_email", EmailKind.credential_create,
               "When on, every new customer gets this email automatically."),
    SwitchSpec("password_reset_email", EmailKind.password_reset,
               "When on, the portal's Forgot Password / Create Credential send it."),
)
TEXT_FIELDS = (
    TextSpec("portal_url", "Portal URL", "Where the emails' links lead: https://host/path"),
    TextSpec("setup_link_hours", "Setup link lifetime (hours)",
             f"Credential Create links last 1 to {MAX_LINK_HOURS} hours."),
    TextSpec("reset_link_hours", "Reset link lifetime (hours)",
             f"Password Reset links last 1 to {MAX_LINK_HOURS} hours."),
    TextSpec("sender", "Sender", "Who the emails are from: Name <address>"),
)
LINK_USES = (
    ("open: a link is used up when it is opened", "open"),
    ("submit: a link is used up when its form is sent", "submit"),
)
TEXT_KEYS = frozenset(spec.key for spec in TEXT_FIELDS)
LABELS = {spec.key: spec.label for spec in TEXT_FIELDS} | {
    spec.key: spec.kind.type_name for spec in SWITCHES} | {"link_use": "Link use"}


class SettingField(Vertical):
    """One text setting: its input, and under it whether it is saved, edited or refused."""

    saved: reactive[str] = reactive("", init=False)
    error: reactive[str | None] = reactive(None, init=False)

    def __init__(self, spec: TextSpec) -> None:
        super().__init__(id=f"field-{spec.key}", classes="setting-field")
        self.spec = spec
        # The saved value an edit began from: Enter saves against it, so a value saved
        # elsewhere meanwhile is refused, not overwritten (store.settings.update_setting).
        self.base = ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="setting-row"):
            yield Label(self.spec.label, classes="setting-label")
            yield Input(id=self.spec.key, compact=True, max_length=500)
        yield Static("", classes="setting-hint", markup=False)

    @property
    def input(self) -> Input:
        """Where the setting is typed."""
        return self.query_one(Input)

    @property
    def edited(self) -> bool:
        """True when the typed text differs from the saved value."""
        return self.input.value != self.saved

    def load(self, text: str) -> None:
        """Show the saved value, dropping any edit and error."""
        self.saved = text
        self.base = text
        self.error = None
        with self.input.prevent(Input.Changed):
            self.input.value = text
        self._show_status()

    def follow(self, text: str) -> None:
        """The saved value changed elsewhere: show it, but never over an edit in progress."""
        if self.edited or self.error is not None:
            self.saved = text
        else:
            self.load(text)

    def watch_saved(self) -> None:
        self._show_status()

    def watch_error(self) -> None:
        self._show_status()

    @on(Input.Changed)
    def _edited(self) -> None:
        # A new edit replaces the refused value; its message would now be about the wrong text.
        self.error = None
        self._show_status()

    def _show_status(self) -> None:
        hint = self.query_one(".setting-hint", Static)
        self.set_class(self.error is not None, "-error")
        self.set_class(self.error is None and self.edited, "-edited")
        if self.error is not None:
            hint.update(f"Not saved: {self.error}")
        elif self.edited and self.saved != self.base:
            hint.update(f"Changed elsewhere to {self.saved} while you were editing; Enter is refused once.")
        elif self.edited:
            hint.update(f"Edited, not saved (Enter saves). Saved: {self.saved}")
        else:
            hint.update(self.spec.help)


class SettingsScreen(ReportsWorkerErrors, Screen[None]):
    """The account's settings, saved one at a time; what is saved and what is only typed is shown."""

    # The app's action that opens this screen: there, its key is the screen's own.
    OPENED_BY = "open_settings"

    class Loaded(Message):
        """The first read of the settings."""

        def __init__(self, settings: AccountSettings) -> None:
            super().__init__()
            self.settings = settings

    class ReadAgain(Message):
        """A later read (None when it failed: the next tick tries again), and the number of
        saves begun when it was asked, so a read older than a save is told apart."""

        def __init__(self, settings: AccountSettings | None, changes: int) -> None:
            super().__init__()
            self.settings, self.changes = settings, changes

    class SaveDone(Message):
        """One setting saved (its new settings), or refused or failed (the error)."""

        def __init__(self, key: str, settings: AccountSettings | None, error: PortalError | None) -> None:
            super().__init__()
            self.key, self.settings, self.error = key, settings, error

    CSS_PATH = "settings.tcss"
    TITLE = "Settings"
    BINDINGS = list(bindings.SETTINGS)

    def __init__(self) -> None:
        super().__init__()
        self.settings: AccountSettings | None = None
        # Counts saves started here, so a background read taken before one isn't shown after it.
        self._changes = 0
        # Saves sent and not yet answered.
        self._pending = 0
        self._reading = False
        # Labels of fields typed in but not saved, kept current for when the screen goes away.
        self._unsaved: list[str] = []
        self._leaving = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-form"):
            yield Label("Email Notifications", classes="section-title")
            for spec in SWITCHES:
                # The type's name on a line of its own; under it the switch, its state in
                # words and what "on" does, side by side, so no part runs into another.
                with Vertical(classes="switch-row", id=f"row-{spec.key}"):
                    yield Label(spec.kind.type_name, classes="switch-title")
                    with Horizontal(classes="switch-control"):
                        yield Switch(id=spec.key)
                        yield Label("Off", classes="switch-state", id=f"state-{spec.key}")
                        yield Static(spec.explanation, classes="switch-help")
            yield Static("Either way, an agent's send from PORTAL always goes out.",
                         classes="switch-note")
            yield Label("Portal links and sender", classes="section-title")
            for text_spec in TEXT_FIELDS:
                yield SettingField(text_spec)
            with Horizontal(classes="setting-row", id="row-link_use"):
                yield Label("Link use", classes="setting-label")
                yield Select(LINK_USES, id="link_use", allow_blank=False, compact=True)
            yield Static("Use submit if mail filters open links first.",
                         classes="setting-hint", id="hint-link_use")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#settings-form").disabled = True
        self.load_settings()
        # Another console or the CLI may change a setting while this screen is open.
        self.set_interval(self.app.poll_seconds, self._poll)

    def on_unmount(self) -> None:
        # Left by a global key (search, quit) rather than Escape: say what was not saved.
        if self._unsaved and not self._leaving:
            self.app.notify(f"Settings closed; edits to {', '.join(self._unsaved)} were not saved.",
                            severity="warning")

    # --- reading and writing, off the event loop ------------------------------

    @work(thread=True, exclusive=True, group="settings-load", exit_on_error=False)
    def load_settings(self) -> None:
        """Read the saved settings and show them."""
        try:
            settings = call(get_settings)
        except PortalError as error:
            self.post_message(ShowError(error))
            return
        self.post_message(self.Loaded(settings))

    def _poll(self) -> None:
        if self.settings is not None and not self._reading:
            self._reading = True
            self._read_again(self._changes)

    @work(thread=True, group="settings-poll", exit_on_error=False)
    def _read_again(self, changes: int) -> None:
        """Read the settings in the background; a failure waits for the next tick."""
        try:
            settings = call(get_settings)
        except PortalError:
            settings = None
        self.post_message(self.ReadAgain(settings, changes))

    def save(self, key: str, text: str) -> None:
        """Save one setting; a refused value is shown at its field, nothing else changes.
        A text setting saves against the value its edit began from."""
        self._changes += 1
        self._pending += 1
        self._save(key, text, self._field(key).base if key in TEXT_KEYS else None)

    @work(thread=True, group="settings-save", exit_on_error=False)
    def _save(self, key: str, text: str, expected: str | None) -> None:
        try:
            settings = call(update_setting, key, text, actor=self.app.agent, expected=expected)
        except InvalidSetting as error:
            self.post_message(self.SaveDone(error.field or key, None, error))
        except PortalError as error:
            self.post_message(self.SaveDone(key, None, error))
        else:
            self.post_message(self.SaveDone(key, settings, None))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        self._show_settings(message.settings)

    @on(ReadAgain)
    def _read_again_done(self, message: ReadAgain) -> None:
        message.stop()
        self._follow(message.settings, message.changes)

    @on(SaveDone)
    def _save_done(self, message: SaveDone) -> None:
        message.stop()
        if isinstance(message.error, InvalidSetting):
            self._refused(message.key, message.error)
        elif message.error is not None:
            self._failed(message.key, message.error)
        else:
            self._saved(message.key, message.settings)

    # --- showing results (event loop) -------------------------------------------

    def _show_settings(self, settings: AccountSettings) -> None:
        """The first read: nothing is edited yet, so following the database shows it all."""
        self._apply(settings)
        self.query_one("#settings-form").disabled = False
        self.query_one(f"#{SWITCHES[0].key}", Switch).focus()

    def _follow(self, settings: AccountSettings | None, changes: int) -> None:
        """Show settings read in the background, unless a save started here since."""
        self._reading = False
        if settings is not None and changes == self._changes and settings != self.settings:
            self._apply(settings)

    def _apply(self, settings: AccountSettings) -> None:
        """Show what the database holds now; text being typed stays, its hint shows the saved value."""
        self.settings = settings
        for spec in SWITCHES:
            self._show_switch(spec.key, getattr(settings, spec.key))
        for text_spec in TEXT_FIELDS:
            self._field(text_spec.key).follow(setting_text(settings, text_spec.key))
        select = self.query_one("#link_use", Select)
        with select.prevent(Select.Changed):
            select.value = settings.link_use
        self._note_unsaved()

    def _show_switch(self, key: str, on: bool) -> None:
        switch = self.query_one(f"#{key}", Switch)
        with switch.prevent(Switch.Changed):
            switch.value = on
        # In words too: the slider's colour is lost with NO_COLOR.
        self.query_one(f"#state-{key}", Label).update("On" if on else "Off")

    def _field(self, key: str) -> SettingField:
        return self.query_one(f"#field-{key}", SettingField)

    def _saved(self, key: str, settings: AccountSettings) -> None:
        self._pending -= 1
        if key in TEXT_KEYS:
            self._field(key).load(setting_text(settings, key))
        if self._pending == 0:
            self._apply(settings)
        else:
            # Another save is on its way; its answer shows the whole form, so its control isn't reset.
            self.settings = settings
            self._note_unsaved()
        self.notify(f"{LABELS[key]}: {setting_text(settings, key)}", title="Setting saved")

    def _refused(self, key: str, error: InvalidSetting) -> None:
        self._pending -= 1
        if key in TEXT_KEYS:
            field = self._field(key)
            field.error = error.message
            if isinstance(error, StaleSetting):
                field.base = field.saved  # said and seen: the next Enter saves over it
            field.input.focus()
        else:
            self._undo(key)
            self.app.show_error(error)

    def _failed(self, key: str, error: PortalError) -> None:
        """The database refused or was unreachable: put controls back to what is saved."""
        self._pending -= 1
        if key not in TEXT_KEYS:
            self._undo(key)
        self.app.show_error(error)

    def _undo(self, key: str) -> None:
        if self.settings is None:
            return
        if key == "link_use":
            select = self.query_one("#link_use", Select)
            with select.prevent(Select.Changed):
                select.value = self.settings.link_use
        else:
            self._show_switch(key, getattr(self.settings, key))

    # --- input ------------------------------------------------------------------

    @on(Switch.Changed)
    def _switch_toggled(self, event: Switch.Changed) -> None:
        key = event.switch.id or ""
        self.query_one(f"#state-{key}", Label).update("On" if event.value else "Off")
        self.save(key, "on" if event.value else "off")

    @on(Select.Changed, "#link_use")
    def _link_use_chosen(self, event: Select.Changed) -> None:
        if self.settings is not None and event.value != self.settings.link_use:
            self.save("link_use", str(event.value))

    @on(Input.Changed)
    def _note_unsaved(self) -> None:
        """Keep the list of unsaved fields current (read again when the screen goes away)."""
        self._unsaved = [field.spec.label for field in self.edited_fields()]

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        key = event.input.id or ""
        field = self._field(key)
        if field.edited or field.error is not None:
            self.save(key, event.value)
        else:
            self.notify(f"{LABELS[key]} is already saved.")

    def edited_fields(self) -> list[SettingField]:
        """Fields whose text differs from what is saved."""
        return [field for field in self.query(SettingField) if field.edited]

    def action_save_all(self) -> None:
        """Save every edited field; each refused one shows why at its place."""
        fields = self.edited_fields()
        if not fields:
            self.notify("Nothing to save: every field shows its saved value.")
        for field in fields:
            self.save(field.spec.key, field.input.value)

    def action_back(self) -> None:
        """Leave; typed but unsaved values are only dropped when the agent says so."""
        fields = self.edited_fields()
        if not fields:
            self.dismiss()
            return
        names = ", ".join(field.spec.label for field in fields)

        def answered(leave: bool | None) -> None:
            if leave:
                self._leaving = True
                self.dismiss()

        self.app.push_screen(
            ConfirmModal("Leave Settings?", f"Your edits to {names} are not saved. Leave without saving them?",
                         confirm_label="Leave", cancel_label="Stay"),
            answered,
        )

"""Settings: the Email Notifications switches and the text settings, saved through the
service layer; a refused value stays where it was typed and nothing is saved."""
from __future__ import annotations

import pytest
from peewee import SqliteDatabase
from textual.pilot import Pilot
from textual.widgets import Input, Select, Switch

from store import db
from store.settings import get_settings, update_setting
from tests.tui.conftest import SIZES, settle
from tui.screens.settings import SettingField, SettingsScreen
from tui.widgets.confirm import ConfirmModal
from tui.widgets.error_modal import ErrorModal


async def open_settings(pilot: Pilot) -> SettingsScreen:
    """Go to Settings the way the agent does, and wait until the saved values show."""
    await pilot.press("ctrl+s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


async def type_into(pilot: Pilot, key: str, text: str) -> None:
    """Replace a text setting's input with ``text`` (not yet saved); the last key is really typed."""
    field = pilot.app.screen.query_one(f"#{key}", Input)
    field.focus()
    await pilot.pause()
    # Pressing every key costs ~0.1 s each; the last one goes through the keyboard path.
    field.value = text[:-1]
    field.cursor_position = len(field.value)
    await pilot.press(text[-1])
    await pilot.pause()


async def save_field(pilot: Pilot, key: str, text: str) -> None:
    """Type ``text`` into a setting and press Enter, then wait for the save worker."""
    await type_into(pilot, key, text)
    await pilot.press("enter")
    await settle(pilot)


class TestSettingsSnapshots:
    @pytest.mark.parametrize("size", SIZES)
    def test_settings_show_the_saved_values(self, snap_compare, console_app, size) -> None:
        """The form shows both switches, every text setting with its hint, and link use."""

        async def run_before(pilot: Pilot) -> None:
            await open_settings(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_invalid_portal_url_is_shown_at_its_field(self, snap_compare, console_app, size) -> None:
        """A refused URL keeps what was typed, says why under it, and the old URL stays saved."""
        before = get_settings().portal_url

        async def run_before(pilot: Pilot) -> None:
            await open_settings(pilot)
            await save_field(pilot, "portal_url", "ftp://portal")

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)
        assert get_settings().portal_url == before

    @pytest.mark.parametrize("size", SIZES)
    def test_an_edit_says_it_is_not_saved_yet(self, snap_compare, console_app, size) -> None:
        """Typed but not saved: the field says so and shows the saved value beside it."""

        async def run_before(pilot: Pilot) -> None:
            await open_settings(pilot)
            await type_into(pilot, "reset_link_hours", "4")

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)
        assert get_settings().reset_link_hours == 2


class TestTextSettings:
    async def test_a_valid_portal_url_is_saved(self, console_app) -> None:
        """The passing twin of the refused URL: Enter saves it, normalised, and the hint clears."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await save_field(pilot, "portal_url", "https://billing.example.com/portal/")
            assert get_settings().portal_url == "https://billing.example.com/portal"
            field = screen.query_one("#field-portal_url", SettingField)
            assert field.input.value == "https://billing.example.com/portal"
            assert field.error is None and not field.edited
            assert any("Portal URL" in n.message for n in app._notifications)

    @pytest.mark.parametrize("typed", ["0", "99999", "abc"])
    async def test_an_invalid_lifetime_is_refused_at_its_field(self, console_app, typed: str) -> None:
        """Out of range or not a number: the message is under the field, the text stays, nothing is saved."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await save_field(pilot, "setup_link_hours", typed)
            field = screen.query_one("#field-setup_link_hours", SettingField)
            assert field.error is not None and "1 to 720" in field.error
            assert field.input.value == typed
            assert field.has_class("-error")
            assert get_settings().setup_link_hours == 72

    async def test_a_valid_lifetime_is_saved(self, console_app) -> None:
        """The passing twin: a lifetime in range is saved and shown as saved."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await save_field(pilot, "reset_link_hours", "24")
            assert get_settings().reset_link_hours == 24
            assert not screen.query_one("#field-reset_link_hours", SettingField).edited

    async def test_typing_again_clears_the_refusal(self, console_app) -> None:
        """The message belongs to the refused text; a new edit shows the field as edited instead."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await save_field(pilot, "setup_link_hours", "0")
            await pilot.press("5")
            field = screen.query_one("#field-setup_link_hours", SettingField)
            assert field.error is None and field.edited and field.has_class("-edited")

    async def test_a_sender_without_an_address_is_refused(self, console_app) -> None:
        """The sender needs Name <address>; the old sender stays."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await save_field(pilot, "sender", "Billing Team")
            assert screen.query_one("#field-sender", SettingField).error is not None
            assert get_settings().sender == "Acme Billing <billing@acme.example>"

    async def test_a_valid_sender_is_saved(self, console_app) -> None:
        """The passing twin: name and address are both saved."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_settings(pilot)
            await save_field(pilot, "sender", "Billing Team <team@acme.example>")
            assert get_settings().sender == "Billing Team <team@acme.example>"

    async def test_ctrl_s_saves_every_edited_field(self, console_app) -> None:
        """Several edits go with one key; a refused one stays with its message, the others are saved."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await type_into(pilot, "setup_link_hours", "48")
            await type_into(pilot, "reset_link_hours", "abc")
            await pilot.press("ctrl+s")
            await settle(pilot)
            settings = get_settings()
            assert (settings.setup_link_hours, settings.reset_link_hours) == (48, 2)
            assert screen.query_one("#field-reset_link_hours", SettingField).error is not None


class TestSwitchesAndLinkUse:
    async def test_toggled_switches_are_saved(self, console_app) -> None:
        """Each switch saves as it is toggled, and says On/Off in words (for NO_COLOR)."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            assert get_settings().credential_create_email is True
            assert screen.focused is screen.query_one("#credential_create_email", Switch)
            await pilot.press("space")
            await settle(pilot)
            assert get_settings().credential_create_email is False
            assert str(screen.query_one("#state-credential_create_email").render()) == "Off"
            await pilot.press("tab", "enter")
            await settle(pilot)
            settings = get_settings()
            assert (settings.credential_create_email, settings.password_reset_email) == (False, False)

    async def test_a_click_toggles_a_switch_too(self, console_app) -> None:
        """With the mouse: a click on the switch saves like the keyboard does."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_settings(pilot)
            await pilot.click("#password_reset_email")
            await settle(pilot)
            assert get_settings().password_reset_email is False

    async def test_link_use_is_saved_when_chosen(self, console_app) -> None:
        """Choosing submit saves it at once."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            screen.query_one("#link_use", Select).value = "submit"
            await settle(pilot)
            assert get_settings().link_use == "submit"


class TestKeyboard:
    async def test_tab_reaches_every_setting_in_reading_order(self, console_app) -> None:
        """Keyboard only: Tab walks the switches, the text settings and link use, top to bottom."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            seen = [screen.focused.id]
            for _ in range(6):
                await pilot.press("tab")
                seen.append(screen.focused.id)
            assert seen == ["credential_create_email", "password_reset_email", "portal_url",
                            "setup_link_hours", "reset_link_hours", "sender", "link_use"]


class TestLeaving:
    async def test_escape_goes_back_when_nothing_is_edited(self, console_app) -> None:
        """No question when there is nothing to lose."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_settings(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, (SettingsScreen, ConfirmModal))

    async def test_escape_with_unsaved_edits_asks_first(self, console_app) -> None:
        """Typed values are not dropped silently: the agent is asked, and No keeps them."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await type_into(pilot, "portal_url", "https://new.example")
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            assert "Portal URL" in app.screen.message
            await pilot.press("n")
            await settle(pilot)
            assert app.screen is screen
            assert screen.query_one("#portal_url", Input).value == "https://new.example"
            await pilot.press("escape", "y")
            await settle(pilot)
            assert not isinstance(app.screen, (SettingsScreen, ConfirmModal))
            assert get_settings().portal_url == "http://127.0.0.1:8080"

    async def test_no_error_modal_for_a_refused_field(self, console_app) -> None:
        """A refused value is shown at its field, not in a modal that would hide the field."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_settings(pilot)
            await save_field(pilot, "portal_url", "not a url")
            assert isinstance(app.screen, SettingsScreen)

    async def test_leaving_by_a_global_key_says_what_was_not_saved(self, console_app) -> None:
        """ctrl+f goes home without the question; a warning still names the unsaved field."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_settings(pilot)
            await type_into(pilot, "sender", "New <new@acme.example>")
            await pilot.press("ctrl+f")
            await settle(pilot)
            assert not isinstance(app.screen, SettingsScreen)
            assert any("Sender were not saved" in n.message for n in app._notifications)
            assert get_settings().sender == "Acme Billing <billing@acme.example>"


class TestChangesMadeElsewhere:
    async def test_a_switch_changed_elsewhere_shows_without_reopening(self, console_app) -> None:
        """Another console or the CLI switches an email type off: the open screen follows."""
        app = console_app(poll_seconds=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            update_setting("password_reset_email", "off", actor="bob")
            await pilot.pause(0.4)
            await settle(pilot)
            assert screen.query_one("#password_reset_email", Switch).value is False

    async def test_an_edit_in_progress_is_kept_when_the_saved_value_changes(self, console_app) -> None:
        """Someone else saves the field being typed in: the typing stays, the hint shows their value."""
        app = console_app(poll_seconds=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await type_into(pilot, "setup_link_hours", "48")
            update_setting("setup_link_hours", "24", actor="bob")
            await pilot.pause(0.4)
            await settle(pilot)
            field = screen.query_one("#field-setup_link_hours", SettingField)
            assert field.input.value == "48" and field.saved == "24" and field.edited
            assert "Changed elsewhere to 24 while you were editing" in str(field.query_one(".setting-hint").render())

    async def test_a_setting_saved_elsewhere_is_not_overwritten_after_refreshes(self, console_app) -> None:
        """Another console saves the lifetime being typed here; several refreshes later Enter is
        refused at the field and theirs stays; a second Enter, the change now seen, saves ours."""
        app = console_app(poll_seconds=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            await type_into(pilot, "setup_link_hours", "48")
            update_setting("setup_link_hours", "24", actor="bob")
            await pilot.pause(0.6)
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            field = screen.query_one("#field-setup_link_hours", SettingField)
            assert get_settings().setup_link_hours == 24
            assert field.error is not None and "Changed elsewhere to '24'" in field.error
            assert not isinstance(app.screen, ErrorModal)
            await pilot.press("enter")
            await settle(pilot)
            assert get_settings().setup_link_hours == 48 and field.error is None


class TestDatabaseGone:
    async def test_a_toggle_that_cannot_be_saved_goes_back_and_says_why(self, console_app, tmp_path) -> None:
        """An unreachable database: the error modal says so, and the switch shows what is really saved."""
        app = console_app(poll_seconds=60)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_settings(pilot)
            working = db.database.obj
            (tmp_path / "gone").mkdir()
            # A directory is no SQLite file: every query fails as with a database that went away.
            db.database.initialize(SqliteDatabase(str(tmp_path / "gone")))
            try:
                await pilot.press("space")
                await settle(pilot)
                assert isinstance(app.screen, ErrorModal)
                assert app.screen.error.title == "Database unavailable"
            finally:
                db.database.initialize(working)
            await pilot.press("escape")
            await settle(pilot)
            assert screen.query_one("#credential_create_email", Switch).value is True
            assert str(screen.query_one("#state-credential_create_email").render()) == "On"
            assert get_settings().credential_create_email is True

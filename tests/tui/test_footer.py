"""The footer of every screen: rebuilt once for binding changes that come together."""
from __future__ import annotations

from textual.widgets._footer import FooterKey

from tests.tui.conftest import settle
from tui.widgets.footer import Footer


def shown_keys(screen) -> list[str]:
    return [key.key for key in screen.query(FooterKey)]


async def test_binding_changes_before_a_frame_rebuild_the_footer_once(console_app, monkeypatch) -> None:
    """Three changes of the screen's bindings before the next frame (at the console's start,
    focus and the first results make two): the footer is rebuilt once, after the frame, with
    every key the screen shows; a change after that rebuilds it again. (Textual's own
    footer rebuilds three times.)"""
    app = console_app(poll_seconds=60.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rebuilt: list[list[str]] = []
        rebuild = Footer.recompose

        async def counting_recompose(self: Footer) -> None:
            await rebuild(self)
            rebuilt.append(shown_keys(self.screen))

        monkeypatch.setattr(Footer, "recompose", counting_recompose)
        screen = app.screen
        footer = screen.query_one(Footer)

        def three_changes() -> None:
            for _ in range(3):
                screen.refresh_bindings()

        footer.call_later(three_changes)
        await settle(pilot)
        expected = [binding.key for _, binding, _, _ in screen.active_bindings.values() if binding.show]
        assert len(rebuilt) == 1
        assert set(expected) <= set(rebuilt[0]) and "ctrl+n" in expected
        footer.call_later(screen.refresh_bindings)
        await settle(pilot)
        assert len(rebuilt) == 2

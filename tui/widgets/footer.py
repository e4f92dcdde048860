"""The footer of every screen: Textual's, rebuilt once however many times the bindings
changed before the next frame."""
from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer rebuilds every key it shows after the refresh that follows a change of
    the screen's bindings, once for each change. Focus and the first results change them
    twice in the console's first frame, and the second rebuild (about 11 ms with the search
    screen's keys) showed the same keys again; here one queued rebuild shows them all, since
    it reads the bindings when it runs."""

    _rebuild_queued = False

    def bindings_changed(self, screen: Screen) -> None:
        # As Textual's, but nothing more is queued while a rebuild waits for its refresh.
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_queued:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False
        await self.recompose()

"""Type-ahead across screen changes.

Textual sends a key to whatever has focus when the key is handled. Right after a
screen is pushed nothing on it has focus yet, so keys typed in the same burst as
the key that opened it (a fast typist after ctrl+n, or keystrokes that arrive
together over a slow SSH link) would be dropped. The app holds such keys until the
new screen has focused its first widget (each screen names it in AUTO_FOCUS), then
handles them in order.

The same holds inside a text field: Textual runs a field's own editing keys (ctrl+u,
backspace, the arrows, Enter) as bindings only once the key has bubbled back up to the
app, after the letters typed behind it were already inserted. So `ctrl+u zelda.one` in one
burst cleared the name it had just received. The app queues such a key on the field
itself, behind the letters before it and ahead of those after it.
"""
from __future__ import annotations

import sys
from typing import Any

from textual.timer import Timer

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import NoScreen
from textual.screen import Screen
from textual.widgets import Input

def _is_text_field(widget: object) -> bool:
    """An Input or a TextArea. TextArea (with its document and syntax modules, about 7 ms) is
    not imported for the question: until something imported it, no widget can be one."""
    if isinstance(widget, Input):
        return True
    text_area = sys.modules.get("textual.widgets._text_area")
    return text_area is not None and isinstance(widget, text_area.TextArea)


# Keys are held at most this long: a screen that never focuses anything gets them anyway.
HOLD_SECONDS = 0.5
# A text field's own editing keys and their actions: those Input declares itself, not the
# scrolling keys it inherits (↓ in the search box belongs to the screen: it moves to the results).
_FIELD_KEYS = {key.strip(): binding.action for binding in Input.BINDINGS if isinstance(binding, Binding)
               for key in binding.key.split(",")}


class TypeAheadApp(App[None]):
    """An App that keeps keys typed before a newly pushed screen has focus."""

    # App keys whose action runs before the next key is read, rather than after the key
    # has travelled to the focused widget and back: otherwise the keys typed right after
    # it reach the old screen's field before the new screen exists.
    EAGER_KEYS: frozenset[str] = frozenset()
    # Screen actions that only put the cursor in a field (synchronously): run ahead the same
    # way when no text field has the cursor, so the letters typed after `u` land in the field.
    EAGER_SCREEN_ACTIONS: frozenset[str] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: list[events.Key] = []
        # The pushed screen that has not focused anything yet.
        self._unfocused_screen: Screen[Any] | None = None
        self._release_timer: Timer | None = None

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        result = super().push_screen(screen, *args, **kwargs)
        if isinstance(screen, Screen):
            self._unfocused_screen = screen
        return result

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._hold(event) or await self._eager(event) or await self._in_field_order(event):
                return
        await super().on_event(event)

    async def _in_field_order(self, event: events.Key) -> bool:
        """Queue a text field's own editing key on the field, in order with the letters."""
        field = self.focused
        if not isinstance(field, Input) or event.is_printable:
            return False
        action = _FIELD_KEYS.get(event.key)
        if action is None:
            return False  # not an editing key (↓, PgDn, ...): the screen's binding takes it as before
        if await self._check_bindings(event.key, priority=True):
            return True  # a priority key (the app's) comes first, as in Textual's own order
        field.call_later(self.run_action, action, field)
        return True

    async def _eager(self, event: events.Key) -> bool:
        """Run the screen's or app's binding of an eager key now; priority bindings come first."""
        key = event.key
        in_field = _is_text_field(self.focused)
        # `/` and `?` lead elsewhere like ctrl+f and f1, but in a text field they are characters.
        eager_key = key in self.EAGER_KEYS and not (in_field and event.is_printable)
        # In a text field a letter is the field's; a key that prints nothing (↓) may still move on.
        if not eager_key and (not self.EAGER_SCREEN_ACTIONS or (in_field and event.is_printable)):
            return False
        if eager_key and await self._check_bindings(key, priority=True):
            return True
        # Only actions of the app (open a screen, move focus) and the screen's cursor moves:
        # any other action may read fields whose typed-ahead keys are still on their way,
        # so it waits its turn behind them.
        for namespace, bindings in self.screen._binding_chain:
            if namespace is not self.screen and namespace is not self:
                # The focused widget's own key comes before the screen's, as in Textual's order:
                # ↓ in the results moves the table's cursor. A text field's inherited scrolling
                # keys don't count: ↓ in the search box moves on to the results.
                if (not eager_key and key in bindings.key_to_bindings
                        and not _is_text_field(namespace)):
                    return False
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if not self._runs_ahead(binding.action, namespace, eager_key):
                    continue
                if await self.run_action(binding.action, namespace):
                    return True
        return False

    def _runs_ahead(self, action: str, namespace: object, eager_key: bool) -> bool:
        if namespace is self.screen:
            # The screen's own cursor moves run ahead whichever key they are bound to
            # (`/` is both the app's open_search and the search screen's focus_search).
            return (eager_key and action.startswith("app.")) or action.split("(")[0] in self.EAGER_SCREEN_ACTIONS
        return eager_key

    def _hold(self, key: events.Key) -> bool:
        """Keep the key when earlier keys wait or the new screen has no focus yet."""
        waiting = self._unfocused_screen is not None and self._unfocused_screen is self.screen
        if not (self._held_keys or waiting):
            return False
        if not self._held_keys:
            self._arm_release()
        self._held_keys.append(key)
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        try:
            focused_on = event.widget.screen
        except NoScreen:
            return
        if self._unfocused_screen is not None and focused_on is self._unfocused_screen:
            self._unfocused_screen = None
            if self._held_keys:
                self.call_next(self._release_keys)

    def _arm_release(self) -> None:
        """Release the held keys after HOLD_SECONDS at the latest."""
        self._release_timer = self.set_timer(HOLD_SECONDS, self._release_keys)

    async def _release_keys(self) -> None:
        """Handle the held keys in order; a key that opens another screen holds the rest again."""
        if self._release_timer is not None:
            self._release_timer.stop()
            self._release_timer = None
        self._unfocused_screen = None
        keys, self._held_keys = self._held_keys, []
        for index, key in enumerate(keys):
            if self._unfocused_screen is not None:
                self._held_keys = keys[index:]
                self._arm_release()
                return
            if not (await self._eager(key) or await self._in_field_order(key)):
                await super().on_event(key)

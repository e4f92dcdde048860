"""Every key of the console, in one place, so the footer, the help screen and the
command palette agree.

Letter keys never fire while a text input has focus (the input takes the
letter); each global action therefore also has a control key that works
everywhere, and the footer shows that one.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeyGroup:
    """A titled set of bindings, as the help screen lists them."""

    title: str
    bindings: tuple[Binding, ...]


APP = (
    Binding("ctrl+f,slash", "open_search", "Search", id="search"),
    Binding("ctrl+n,n", "new_customer", "New customer", id="new-customer"),
    Binding("ctrl+s,s", "open_settings", "Settings", id="settings"),
    Binding("ctrl+o,o", "open_outbox", "Outbox", id="outbox"),
    Binding("f1,question_mark", "help", "Help", id="help"),
    Binding("ctrl+q,q", "quit", "Quit", id="quit", priority=False),
)

SEARCH = (
    Binding("down", "focus_results", "Results", show=False),
    Binding("ctrl+t", "next_state", "Filter", id="state-filter"),
    Binding("escape", "clear_search", "Clear", show=False),
)

DASHBOARD = (
    Binding("escape", "back", "Back", id="back"),
    Binding("p,1", "show_tab('portal')", "PORTAL", id="tab-portal"),
    Binding("e,2", "show_tab('emails')", "Emails", id="tab-emails"),
    Binding("a,3", "show_tab('activity')", "Activity", id="tab-activity"),
)

PORTAL = (
    Binding("u", "edit_username", "Username", id="portal-username"),
    Binding("m", "send_email", "Send email", id="portal-send"),
    Binding("d", "delete_username", "Delete", id="portal-delete"),
)

EMAILS = (Binding("r", "retry", "Retry failed", id="email-retry"),)

CONFIRM = (
    Binding("y", "confirm", "Yes"),
    Binding("n,escape", "cancel", "No"),
)

DISMISS = (Binding("escape,enter", "dismiss_modal", "Close"),)

NEW_CUSTOMER = (
    Binding("ctrl+s", "save", "Save", priority=True),
    Binding("escape", "cancel", "Cancel"),
)

PALETTE = Binding("ctrl+p", "command_palette", "Commands")

# What the help screen lists; descriptions there say a little more than the footer.
HELP = (
    KeyGroup("Everywhere", APP + (PALETTE,)),
    KeyGroup("Customer search", SEARCH + (Binding("enter", "open", "Open the customer"),
                                          Binding("tab", "focus_next", "Next field"))),
    KeyGroup("Customer Dashboard", DASHBOARD),
    KeyGroup("PORTAL", PORTAL + (Binding("enter", "update", "Update (in the username field)"),)),
    KeyGroup("Emails", EMAILS),
    KeyGroup("New customer", NEW_CUSTOMER),
    KeyGroup("Questions", CONFIRM),
)


def key_text(binding: Binding) -> str:
    """Every key of a binding, as a person reads it: ctrl+f, /."""
    names = {"slash": "/", "question_mark": "?", "escape": "esc"}
    return ", ".join(names.get(key.strip(), key.strip()) for key in binding.key.split(","))

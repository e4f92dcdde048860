"""Every key of the console, in one place, so the footer, the help screen and the
command palette agree.

Letter keys never fire while a text input has focus (the input takes the
letter). Outside a field a letter is still easily typed by mistake (a name typed
before the search box had the cursor), so no global action is a letter: each has a
control key that works everywhere; `/` and `?` are the only printable global keys,
and they open a screen without changing anything.
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
    Binding("ctrl+f,slash", "open_search", "Search", id="search",
            tooltip="Back to customer search, the last search selected: type to replace it"),
    Binding("f1,question_mark", "help", "Help", id="help", tooltip="This list of keys"),
    # Priority: it works in a form or a question too (where the app's other keys wait).
    Binding("ctrl+q", "quit", "Quit", id="quit", show=False, priority=True,
            tooltip="Close the console; asks first while a form is open, a setting is edited "
                    "but not saved, or an action is still running"),
    # Shown in the footer by the search screen only; they work everywhere.
    Binding("ctrl+n", "new_customer", "New customer", id="new-customer", show=False,
            tooltip="Add a customer"),
    Binding("ctrl+s", "open_settings", "Settings", id="settings", show=False,
            tooltip="Settings: Email Notifications, portal URL, link lifetimes, sender"),
    Binding("ctrl+o", "open_outbox", "Outbox", id="outbox", show=False,
            tooltip="Queued, sent and failed emails of every customer"),
    # F2 (no ctrl+letter is left that no terminal or field takes): on-call's first look.
    Binding("f2", "open_overview", "Overview", id="overview", show=False,
            tooltip="Overview: customers by portal state, outbox health, mailers, portal sign-ins"),
)



def shown_here(binding: Binding, description: str) -> Binding:
    """An app-wide key the screen's footer shows: the same keys, action and help text.
    (A quit key keeps its priority, else the app's own would take its place and hide it.)"""
    return Binding(binding.key, f"app.{binding.action}", description, priority=binding.priority,
                   tooltip=binding.tooltip)


# App actions that open a screen or put the cursor in a field.
_LEADS_ELSEWHERE = frozenset({"open_search", "help", "new_customer", "open_settings", "open_outbox",
                              "open_overview"})
# Keys that open a screen or move the cursor to another field: handled before the next
# key is read, so what is typed right after them lands where they lead (tui/typeahead.py).
# Every key of such an action is one, `/` as much as ctrl+f; a printable one (/, ?) is
# only a character while a text field has the cursor.
EAGER_KEYS = frozenset(
    key for binding in APP if binding.action in _LEADS_ELSEWHERE for key in binding.key.split(",")
) | {"tab", "shift+tab"}
# Screen actions that move the cursor: into a text field (`u` username, `/` search box) or,
# with ↓, from the search box to the results (so an `S` typed right after it sorts, not types).
EAGER_SCREEN_ACTIONS = frozenset({"edit_username", "focus_search", "focus_results"})

# The search results and the Outbox, as k9s and htop users expect; the table's own
# PgUp/PgDn page and ↑↓ move (listed in help below).
TABLE = (
    Binding("g,home", "first_row", "First", show=False, tooltip="First row of the table"),
    Binding("G,end", "last_row", "Last", show=False, tooltip="Last row of the table (search: of those loaded)"),
)
TABLE_PAGING = Binding("pageup,pagedown", "page", "Page", tooltip="A page up or down in the table")

ACTIVITY = (Binding("S", "next_sort", "Sort", tooltip="Sort the activity log: newest first, by who, by what"),)

SEARCH = (
    Binding("ctrl+t", "next_state", "Filter", id="state-filter",
            tooltip="Next portal state filter: all, not set up, awaiting customer, active, suspended"),
    *(shown_here(binding, "New" if binding.id == "new-customer" else binding.description)
      for binding in APP if binding.id in ("new-customer", "settings", "outbox", "quit")),
    Binding("ctrl+f,slash", "focus_search", "Search", show=False, tooltip="Cursor to the search box"),
    Binding("down", "focus_results", "Results", show=False, tooltip="From the search box to the results"),
    Binding("escape", "clear_search", "Clear", show=False, tooltip="Empty the search box"),
    Binding("S", "next_order", "Sort", show=False,
            tooltip="In the results: sort by name, reference or company, in turn"),
)
# Bulk email from the search results (letters: the search box takes them as text).
SEARCH_BULK = (
    Binding("space", "toggle_mark", "Mark", show=False,
            tooltip="In the results: mark or unmark the highlighted customer for a bulk email, then move down"),
    Binding("m", "email_marked", "Email marked", show=False,
            tooltip="In the results: send each marked customer the one email its state allows (asks first, "
                    "with the counts)"),
    Binding("M", "email_matching", "Email all matching", show=False,
            tooltip="In the results: the same to every customer the search and filter match (asks first)"),
    Binding("U", "unmark_all", "Unmark all", show=False, tooltip="In the results: clear every mark"),
)

BULK_SEND = (
    Binding("y", "confirm", "Send", tooltip="Yes, queue the emails"),
    Binding("n,escape", "cancel", "Cancel / stop",
            tooltip="Before: send nothing. While queueing: stop after the batch in hand (what was queued stays "
                    "queued and is reported). After: close"),
)

DASHBOARD = (
    Binding("escape", "back", "Back", id="back", tooltip="Back to customer search (in a field: leave it)"),
    Binding("p,1", "show_tab('portal')", "PORTAL", id="tab-portal", show=False,
            tooltip="Show the PORTAL section"),
    Binding("e,2", "show_tab('emails')", "Emails", id="tab-emails", show=False,
            tooltip="Show this customer's emails"),
    Binding("a,3", "show_tab('activity')", "Activity", id="tab-activity", show=False,
            tooltip="Show this customer's activity log"),
    Binding("c", "edit_customer", "Edit customer", id="edit-customer",
            tooltip="Edit the customer's name, company and Primary Email Address"),
    Binding("y", "copy", "Copy", id="copy", show=False,
            tooltip="Copy the reference, the portal username or an address to the clipboard (works over SSH)"),
)

COPY = (
    Binding("escape", "cancel", "Close", tooltip="Close without copying"),
    *(Binding(str(number), f"pick({number - 1})", str(number), show=False,
              tooltip="Copy the value with this number") for number in range(1, 10)),
)

EDIT_CUSTOMER = (
    Binding("ctrl+s", "save", "Save", tooltip="Save the customer's details"),
    Binding("escape", "cancel", "Cancel", tooltip="Close the form without saving"),
)

PORTAL = (
    Binding("u", "edit_username", "Username", id="portal-username",
            tooltip="Cursor to the Self Service Portal Username; type, then Enter to Update"),
    Binding("m", "send_email", "Send email", id="portal-send",
            tooltip="Send the one email the state allows (Create Credentials or Reset Password)"),
    Binding("d", "delete_username", "Delete", id="portal-delete",
            tooltip="Delete the username (and password), after a question"),
    # The customer's side ("I can't log in"): not in the footer (80 columns are full); the
    # panel's lock line names `l`, and help and the palette list them all.
    Binding("v", "preview_email", "Preview email", id="portal-preview", show=False,
            tooltip="Preview the one email: its subject and text as the customer gets them"),
    Binding("h", "sign_in_history", "Sign-in history", id="portal-history", show=False,
            tooltip="The customer's last 50 sign-in events: time, address, result"),
    Binding("l", "unlock", "Unlock", id="portal-unlock", show=False,
            tooltip="Unlock: let a customer the portal's limits lock out sign in again at once"),
    Binding("o", "sign_out_everywhere", "Sign out everywhere", id="portal-sign-out", show=False,
            tooltip="End every portal session of the customer"),
    # Suspend / Resume (rule 16): the panel's suspended line names `R`.
    Binding("s", "suspend", "Suspend", id="portal-suspend", show=False,
            tooltip="Suspend portal access (non-payment, a dispute): sign-in, links and emails stop; "
                    "username and password are kept"),
    Binding("R", "resume", "Resume", id="portal-resume", show=False,
            tooltip="Resume a suspended customer's portal access as it was before"),
)

# The sign-in history and email preview modals (tui/widgets/sign_in_history.py, email_preview.py).
SIGN_IN_HISTORY = (Binding("escape,h", "close", "Close", tooltip="Close the sign-in history"),)
EMAIL_PREVIEW = (Binding("escape,v", "close", "Close", tooltip="Close the preview (nothing is sent)"),)

# The username field of the PORTAL panel (tui/widgets/portal_panel.py): esc drops what was
# typed and hands the keys back to the dashboard.
PORTAL_FIELD = (Binding("escape", "leave_field", "Leave field", show=False,
                        tooltip="In the username field: drop what was typed and leave the field"),)

# The Emails section's table shows r in the footer only while a failed email is highlighted
# (tui/widgets/emails_section.py); the dashboard's copy, hidden, lets r work from the tabs too.
EMAILS_TABLE = (Binding("r", "retry", "Retry", id="email-retry", tooltip="Send the highlighted failed email again"),)
EMAILS = (Binding("r", "retry", "Retry", id="email-retry", show=False, tooltip=EMAILS_TABLE[0].tooltip),)

CONFIRM = (
    Binding("y", "confirm", "Yes", tooltip="Yes, do it"),
    Binding("n,escape", "cancel", "No", tooltip="No, leave everything as it is"),
)

DISMISS = (Binding("escape,enter", "dismiss_modal", "Close", tooltip="Close the message"),)

NEW_CUSTOMER = (
    # Not priority: a priority key is handled before the letters typed ahead of it reach
    # their field, and would save what the form held a moment earlier.
    Binding("ctrl+s", "save", "Save", tooltip="Save the new customer"),
    Binding("escape", "cancel", "Cancel", tooltip="Close the form without saving"),
)

SETTINGS = (
    Binding("escape", "back", "Back", tooltip="Back; asks first when an edit is not saved"),
    Binding("ctrl+s", "save_all", "Save edits", tooltip="Save every edited field"),
)

OUTBOX = (
    Binding("escape", "back", "Back", tooltip="Back to where you came from"),
    # Offered only while a failed email is highlighted (OutboxScreen.check_action).
    Binding("r", "retry", "Retry failed", tooltip="Send the highlighted failed email again, with a fresh link"),
    Binding("f", "next_filter", "Filter", tooltip="Next status filter: all, queued, sending, sent, failed"),
    Binding("S", "next_sort", "Sort", tooltip="Sort by the next column; a click on a column's title sorts "
                                              "by it, a second click reverses"),
)

OVERVIEW = (
    Binding("escape", "back", "Back", tooltip="Back to where you came from"),
)

HELP_SCREEN = (Binding("escape,f1,question_mark,q", "close", "Close", tooltip="Close the list of keys"),)
# The list's footer entry says how to scroll it (the keys are VerticalScroll's own).
HELP_KEYS = (Binding("down", "scroll_down", "Scroll", key_display="↑↓", tooltip="Scroll the list of keys"),)

PALETTE = Binding("ctrl+p", "command_palette", "Commands",
                  tooltip="Command palette: every action, and customers by name")

# What the help screen lists, by where the keys work.
HELP = (
    KeyGroup("Everywhere", APP + (PALETTE,)),
    # The search screen's own keys; its copies of the app-wide ones are listed under Everywhere.
    KeyGroup("Customer search", tuple(b for b in SEARCH if not b.action.startswith("app.")) + (
        Binding("enter", "open", "Open", tooltip="Open the highlighted customer's dashboard"),
        Binding("tab", "focus_next", "Next", tooltip="Search box, state filter, results"))),
    KeyGroup("Bulk email (search results)", SEARCH_BULK + BULK_SEND),
    KeyGroup("Tables (search results, Outbox, Emails, Activity)", TABLE + (TABLE_PAGING,)),
    KeyGroup("Customer Dashboard", DASHBOARD),
    KeyGroup("PORTAL", PORTAL + (Binding("enter", "update", "Update", tooltip="Update (in the username field)"),)
             + PORTAL_FIELD),
    KeyGroup("Sign-in history", SIGN_IN_HISTORY),
    KeyGroup("Email preview", EMAIL_PREVIEW),
    KeyGroup("Emails", EMAILS),
    KeyGroup("Activity", ACTIVITY),
    KeyGroup("Edit customer", EDIT_CUSTOMER),
    KeyGroup("Copy", COPY[:1] + (
        Binding(",".join(b.key for b in COPY[1:]), "pick", "Pick", tooltip=COPY[1].tooltip),
        Binding("enter", "select", "Copy", tooltip="Copy the highlighted value"))),
    KeyGroup("New customer", NEW_CUSTOMER + (
        Binding("enter", "next", "Next", tooltip="Next field; in the last one, save"),)),
    KeyGroup("Settings", SETTINGS + (
        Binding("enter", "save", "Save", tooltip="Save the setting in the field (in a text field)"),
        Binding("space", "toggle", "Toggle", tooltip="Switch an Email Notification on or off"))),
    KeyGroup("Outbox", OUTBOX + (
        Binding("enter", "open", "Open", tooltip="Open the highlighted email's customer"),)),
    KeyGroup("Overview", OVERVIEW + (
        Binding("enter", "open_state", "Customers",
                tooltip="On a portal state: customer search filtered by it"),)),
    KeyGroup("Questions", CONFIRM),
    KeyGroup("Messages", DISMISS),
)


def key_text(binding: Binding) -> str:
    """Every key of a binding, as a person reads it: ctrl+f, /."""
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "down": "↓", "pageup": "PgUp",
             "pagedown": "PgDn", "home": "Home", "end": "End"}
    return ", ".join(names.get(key.strip(), key.strip()) for key in binding.key.split(","))


def help_text(binding: Binding) -> str:
    """The longer description the help screen shows."""
    return binding.tooltip or binding.description

"""The command palette (ctrl+p): every action of the console, customers by name, and
the PORTAL actions of the customer that is open."""
from __future__ import annotations

import asyncio
from functools import partial
from typing import Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from store.errors import PortalError
from store.search import find_customers
from tui import bindings
from tui.calls import call

# Customers the palette lists for one query; the search screen pages through the rest.
CUSTOMER_HITS = 8
# The dashboard's palette entry points of the customer's side, and the key each has.
_PORTAL_ACTION = {"portal_preview": "preview_email", "portal_history": "sign_in_history",
                  "portal_unlock": "unlock", "portal_sign_out": "sign_out_everywhere",
                  "portal_suspend": "suspend", "portal_resume": "resume"}


class PortalCommands(Provider):
    """Commands for every binding of the console plus "open customer" by name."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        """(name, callback, help) of every action possible on the screen the palette was opened from."""
        app = self.app
        for binding in bindings.APP:
            yield binding.description, partial(app.run_action, binding.action), f"key {bindings.key_text(binding)}"
        from tui.screens.dashboard import DashboardScreen

        screen = self.screen
        if isinstance(screen, DashboardScreen):
            name = screen.customer_name or screen.reference
            view = screen.portal_view
            if view is not None:
                yield (f"{view.email_action_label} to {name}", screen.portal_send,
                       "PORTAL: queue the one email the portal state allows")
                if view.can_delete:
                    yield (f"Delete the portal username of {name}", screen.portal_delete,
                           "PORTAL: asks first")
                yield (f"Change the portal username of {name}", screen.portal_edit_username,
                       "PORTAL: type the new username, then Update")
                # Offered in every state: pressed where they don't apply, they say why.
                for description, run in (
                    (f"Preview the email to {name}", screen.portal_preview),
                    (f"Sign-in history of {name}", screen.portal_history),
                    (f"Unlock the portal sign-in of {name}", screen.portal_unlock),
                    (f"Sign {name} out of the portal everywhere", screen.portal_sign_out),
                    (f"Suspend the portal access of {name}", screen.portal_suspend),
                    (f"Resume the portal access of {name}", screen.portal_resume),
                ):
                    binding = next(b for b in bindings.PORTAL if b.action == _PORTAL_ACTION[run.__name__])
                    yield description, run, f"PORTAL, key {bindings.key_text(binding)}: {bindings.help_text(binding)}"
            for binding in bindings.DASHBOARD[1:]:
                label = (f"Show {binding.description}" if binding.action.startswith("show_tab")
                         else f"{binding.description} {name}")
                yield label, partial(screen.run_action, binding.action), f"key {bindings.key_text(binding)}"
            yield "Back to customer search", partial(screen.run_action, "back"), "key esc"
        from tui.screens.search import SearchScreen

        if isinstance(screen, SearchScreen):
            # Bulk email; marking itself is a key on a row (space), not a command.
            for binding in bindings.SEARCH_BULK[1:]:
                yield (f"Search: {binding.description}", partial(screen.run_action, binding.action),
                       f"key {bindings.key_text(binding)}: {bindings.help_text(binding)}")
        from tui.screens.outbox import OutboxScreen

        if isinstance(screen, OutboxScreen):
            # The Outbox's own keys; Retry only when the highlighted email can be sent again.
            for binding in bindings.OUTBOX:
                if screen.check_action(binding.action, ()):
                    yield (f"Outbox: {binding.description}", partial(screen.run_action, binding.action),
                           f"key {bindings.key_text(binding)}: {bindings.help_text(binding)}")

    async def discover(self) -> Hits:
        """Every command, before anything is typed."""
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose name matches, then customers found by the service layer's search."""
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        text = query.strip()
        if len(text) < 2:
            return
        try:
            # The search reads the database: off the event loop, like every query.
            page = await asyncio.to_thread(call, find_customers, text, limit=CUSTOMER_HITS)
        except PortalError:
            return
        for customer in page.customers:
            label = f"Open customer {customer.name} ({customer.reference})"
            detail = " · ".join(part for part in (customer.company, customer.state.label) if part)
            yield Hit(0.5, label, partial(self._open, customer.reference), text=label, help=detail)

    def _open(self, reference: str) -> None:
        from tui.messages import OpenCustomer

        self.app.post_message(OpenCustomer(reference))

"""The console app. (Placeholder screen until the console issue lands.)"""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class PortalConsoleApp(App):
    TITLE = "Portal Console"
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Customer search comes with the console issue. Use `portal-console --help` meanwhile.")
        yield Footer()


def run_console() -> None:
    PortalConsoleApp().run()

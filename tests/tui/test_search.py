"""Customer search: results as you type, the state filter, paging, opening a customer."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Label

from tests.tui.conftest import settle


class TestSearchPilot:
    async def test_first_page_lists_demo_customers_by_name(self, console_app) -> None:
        """The home screen shows customers before anything is typed."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#results", DataTable)
            assert table.row_count == 60

"""The hostile-input catalogue's helpers: what the four tables hold, so every refused row
can prove nothing was written."""
from __future__ import annotations

import pytest

from store.customers import add_customer
from store.panel import set_username
from store.settings import update_setting
from tests.portal.conftest import make_client  # noqa: F401  (the portal's in-process client)
from tests.store.conftest import count

AGENT = "alice"
TABLES = ("customer", "portal_login", "outbox_email", "activity_event")
TEN_KB = "x" * 10_240


def table_counts() -> dict[str, int]:
    """Rows in customer, portal_login, outbox_email and activity_event, read with plain SQL."""
    return {table: count(table) for table in TABLES}


@pytest.fixture
def ada(store_db) -> str:
    """Ada with the portal username ada.lovelace, both email switches on; her reference."""
    update_setting("credential_create_email", "on", actor=AGENT)
    update_setting("password_reset_email", "on", actor=AGENT)
    reference = add_customer(name="Ada Lovelace", company="Analytical Engines",
                             primary_email="ada@engines.example", actor=AGENT).reference
    set_username(reference, "ada.lovelace", expected_version=None, actor=AGENT)
    return reference


@pytest.fixture
def grace(ada) -> str:
    """A second customer, no portal username: the one hostile edits are tried on."""
    return add_customer(name="Grace Hopper", company="Navy", primary_email="grace@navy.example",
                        actor=AGENT).reference

"""Helpers for store tests: customers made through the service layer, and raw looks at tables."""
from __future__ import annotations

import pytest

from store import db
from store.customers import add_customer
from store.settings import update_setting

AGENT = "alice"


def count(table: str, where: str = "1=1", params: tuple = ()) -> int:
    """Rows in a table, read with plain SQL so tests see what the database really holds."""
    placeholder = "%s" if db.is_postgres() else "?"
    sql = f"SELECT COUNT(*) FROM {table} WHERE {where}".replace("?", placeholder)
    return db.database.execute_sql(sql, params).fetchone()[0]


def column(table: str, name: str, where: str = "1=1", params: tuple = ()) -> list:
    placeholder = "%s" if db.is_postgres() else "?"
    sql = f"SELECT {name} FROM {table} WHERE {where} ORDER BY id".replace("?", placeholder)
    return [row[0] for row in db.database.execute_sql(sql, params).fetchall()]


@pytest.fixture
def customer(store_db) -> str:
    """One customer with two valid addresses, no portal login, no email queued."""
    return add_customer(name="Ada Lovelace", company="Analytical Engines",
                        primary_email="ada@engines.example; billing@engines.example", actor=AGENT).reference


@pytest.fixture
def switches_on(store_db) -> None:
    update_setting("credential_create_email", "on", actor=AGENT)
    update_setting("password_reset_email", "on", actor=AGENT)

"""Moving an embedded SQLite database to PostgreSQL: every table, the same rows, the search
working on the copy, and a plain refusal (nothing written) when the target holds data."""
from __future__ import annotations

import pytest

from store import db
from store.copy import CopyRefused, copy_database
from store.customers import add_customer, get_customer
from store.search import find_customers
from store.models import ALL_MODELS
from store.panel import send_portal_email, set_username
from store.settings import update_setting

AGENT = "alice"


@pytest.fixture
def sqlite_source(tmp_path, fixed_clock) -> str:
    """A SQLite file with customers in every state, emails, links, activity and settings."""
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    db.init(url)
    update_setting("credential_create_email", "on", actor=AGENT)
    update_setting("portal_url", "https://portal.example", actor=AGENT)
    ada = add_customer(name="Zoë Lovelace", company="Analytical Engines",
                       primary_email="ada@engines.example; billing@engines.example", actor=AGENT).reference
    set_username(ada, "ada.l", expected_version=None, actor=AGENT)
    send_portal_email(ada, actor=AGENT)
    for i in range(30):
        add_customer(name=f"Customer {i}", primary_email=f"c{i}@x.example", actor=AGENT)
    db.close()
    return url


@pytest.fixture
def empty_target(postgres_url) -> str:
    """The session's PostgreSQL database with the store's tables empty."""
    db.init(postgres_url)
    names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
    db.database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    db.close()
    return postgres_url


def counts(url: str) -> dict[str, int]:
    db.init(url)
    try:
        return {m._meta.table_name: m.select().count() for m in ALL_MODELS}
    finally:
        db.close()


def test_every_table_is_copied_and_the_copy_works(sqlite_source, empty_target):
    before = counts(sqlite_source)
    seen: list[str] = []
    report = copy_database(sqlite_source, empty_target, progress=lambda table, done, total: seen.append(table))
    assert dict(report.tables) == before == counts(empty_target)
    assert before["customer"] == 31 and before["outbox_email"] == 32 and before["activity_event"] > 31
    assert {m._meta.table_name for m in ALL_MODELS} == {name for name, _ in report.tables}
    assert "customer" in seen
    db.init(empty_target)
    try:
        # Values survive the move (booleans, times, text), and the search index was rebuilt.
        detail = get_customer("C000001")
        assert detail.name == "Zoë Lovelace" and detail.portal.username == "ada.l"
        assert [c.reference for c in find_customers("zoe").customers] == ["C000001"]
        assert [c.reference for c in find_customers("ada.l").customers] == ["C000001"]
        # New rows get new ids after the copied ones (the sequences moved on).
        assert add_customer(name="After", primary_email="after@x.example", actor=AGENT).reference == "C000032"
    finally:
        db.close()


def test_a_target_holding_data_is_refused_and_left_alone(sqlite_source, empty_target):
    db.init(empty_target)
    add_customer(name="Already Here", primary_email="here@x.example", actor=AGENT)
    db.close()
    before = counts(empty_target)
    with pytest.raises(CopyRefused, match=r"not empty \(.*1 in customer"):
        copy_database(sqlite_source, empty_target)
    assert counts(empty_target) == before


def test_a_missing_source_or_a_wrong_target_is_refused(tmp_path, empty_target):
    with pytest.raises(CopyRefused, match="There is no SQLite database"):
        copy_database(f"sqlite:///{tmp_path / 'nothing.db'}", empty_target)
    with pytest.raises(CopyRefused, match="must be a PostgreSQL"):
        copy_database(f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}")

"""The schema comes up from the migrations on both backends."""
from store import db
from store.models import ALL_MODELS


def test_migrations_create_every_table(store_db):
    """A fresh database gets every table from store/migrations, and a second init applies nothing."""
    tables = set(db.database.get_tables())
    assert {m._meta.table_name for m in ALL_MODELS} <= tables
    assert db.migrate_schema() == []

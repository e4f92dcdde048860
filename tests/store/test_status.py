"""What the console's status line reads from the store."""


def test_the_status_line_names_the_database_without_its_credentials(store_db):
    """The status line says which database, never the user or password of its URL."""
    from store.status import console_status

    status = console_status()
    assert (status.queued, status.failed) == (0, 0)
    if store_db.startswith("sqlite"):
        assert status.database == "SQLite portal.db"
    else:
        name = store_db.rsplit("/", 1)[1]
        assert status.database == f"PostgreSQL {name} on 127.0.0.1:5432"
        assert "postgres@" not in status.database

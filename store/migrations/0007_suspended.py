# Suspend / Resume portal access (rule 16 of docs/design.md): when set, the customer's portal
# access is stopped but their username and password are kept. The search index's state
# follows it: its triggers (and on PostgreSQL the function they call) are made again to read
# the new column. No login is suspended yet, so the states already indexed stay right.
from peewee import PostgresqlDatabase

from store import search_index
from store.models import UTCDateTimeField


def _reinstall_triggers(db):
    if isinstance(db, PostgresqlDatabase):
        search_index.create_postgres_triggers(db)
    else:
        search_index.create_sqlite_triggers(db)


def up(migrator, db):
    migrator.migrate(migrator.add_column('portal_login', 'suspended_at', UTCDateTimeField(null=True)))
    _reinstall_triggers(db)


def down(migrator, db):
    # The triggers read the column: they go first, and come back without it.
    if isinstance(db, PostgresqlDatabase):
        search_index.drop_postgres_triggers(db)
    else:
        search_index.drop_sqlite_triggers(db)
    migrator.migrate(migrator.drop_column('portal_login', 'suspended_at'))
    _reinstall_triggers(db)
    search_index.rebuild(db)

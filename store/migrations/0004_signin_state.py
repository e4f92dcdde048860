# Sign-in state kept in the database, shared by every portal process and surviving a restart:
# counted sign-in and prompt attempts, server-side sessions, the sign-in history, and how
# many times an opened link's form was sent.
from peewee import *
from store.models import UTCDateTimeField


def up(migrator, db):
    class Customer(Model):
        class Meta:
            database = db
            table_name = 'customer'

    class PortalAttempt(Model):
        kind = CharField(max_length=10)
        subject = CharField(max_length=64)
        address = CharField(max_length=64)
        at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'portal_attempt'
            indexes = ((('kind', 'subject', 'at'), False), (('kind', 'address', 'at'), False))

    class PortalSession(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE', index=True)
        id_hash = CharField(unique=True, max_length=64)
        address = CharField(max_length=64)
        created_at = UTCDateTimeField()
        last_seen_at = UTCDateTimeField()
        ended_at = UTCDateTimeField(null=True)
        ended_reason = CharField(null=True, max_length=20)
        class Meta:
            database = db
            table_name = 'portal_session'

    class SignInEvent(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        at = UTCDateTimeField(index=True)
        event = CharField(max_length=20)
        address = CharField(max_length=64)
        detail = CharField(max_length=200, default='')
        class Meta:
            database = db
            table_name = 'sign_in_event'
            indexes = ((('customer', 'at'), False),)

    db.create_tables([PortalAttempt, PortalSession, SignInEvent])
    # Plain SQL: the same statement on SQLite and PostgreSQL, without rebuilding the table.
    db.execute_sql('ALTER TABLE portal_link ADD COLUMN form_tries INTEGER NOT NULL DEFAULT 0')


def down(migrator, db):
    migrator.migrate(migrator.drop_column('portal_link', 'form_tries'))
    migrator.migrate(migrator.drop_table('sign_in_event'))
    migrator.migrate(migrator.drop_table('portal_session'))
    migrator.migrate(migrator.drop_table('portal_attempt'))

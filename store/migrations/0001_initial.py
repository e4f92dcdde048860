# Generated from a schema diff on 2026-11-24 18:04.
from peewee import *
from store.models import UTCDateTimeField

def up(migrator, db):
    class AccountSetting(Model):
        portal_url = CharField(max_length=500)
        credential_create_email = BooleanField()
        password_reset_email = BooleanField()
        setup_link_hours = IntegerField()
        reset_link_hours = IntegerField()
        sender_name = CharField(max_length=200)
        sender_address = CharField(max_length=320)
        link_use = CharField(max_length=10)
        is_demo = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'account_setting'
    db.create_tables([AccountSetting])

    class Customer(Model):
        reference = CharField(unique=True, max_length=64)
        name = CharField(max_length=200)
        company = CharField(max_length=200)
        primary_email = CharField(max_length=2000)
        version = IntegerField(default=1)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'customer'
    db.create_tables([Customer])

    class ActivityEvent(Model):
        customer = ForeignKeyField(Customer, null=True, on_delete='CASCADE')
        at = UTCDateTimeField(index=True)
        actor = CharField(max_length=64)
        action = CharField(max_length=64)
        detail = TextField(default='')
        old_value = TextField(null=True)
        new_value = TextField(null=True)
        class Meta:
            database = db
            table_name = 'activity_event'
    db.create_tables([ActivityEvent])

    class PortalLink(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        purpose = CharField(max_length=10)
        token_hash = CharField(unique=True, max_length=64)
        created_at = UTCDateTimeField()
        expires_at = UTCDateTimeField()
        used_at = UTCDateTimeField(null=True)
        revoked_at = UTCDateTimeField(null=True)
        revoked_reason = CharField(null=True, max_length=200)
        class Meta:
            database = db
            table_name = 'portal_link'
            indexes = ((('customer', 'purpose'), False),)
    db.create_tables([PortalLink])

    class OutboxEmail(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        kind = CharField(max_length=32)
        to_addresses = TextField()
        customer_name = CharField(max_length=200)
        link = ForeignKeyField(PortalLink, null=True, on_delete='SET NULL')
        link_url = TextField()
        link_expires_at = UTCDateTimeField()
        status = CharField(index=True, max_length=10)
        attempts = IntegerField(default=0)
        next_attempt_at = UTCDateTimeField(index=True, null=True)
        claimed_by = CharField(null=True, max_length=200)
        claimed_at = UTCDateTimeField(null=True)
        last_error = TextField(null=True)
        refused_addresses = TextField(default='[]')
        message_id = CharField(null=True, max_length=300)
        delivered_via = CharField(null=True, max_length=500)
        queued_by = CharField(max_length=64)
        created_at = UTCDateTimeField()
        sent_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'outbox_email'
    db.create_tables([OutboxEmail])

    class PortalLogin(Model):
        customer = ForeignKeyField(Customer, unique=True, on_delete='CASCADE')
        username = CharField(max_length=64)
        username_key = CharField(unique=True, max_length=256)
        password_hash = CharField(null=True)
        password_set_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        class Meta:
            database = db
            table_name = 'portal_login'
    db.create_tables([PortalLogin])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('portal_login'))
    migrator.migrate(migrator.drop_table('outbox_email'))
    migrator.migrate(migrator.drop_table('portal_link'))
    migrator.migrate(migrator.drop_table('activity_event'))
    migrator.migrate(migrator.drop_table('customer'))
    migrator.migrate(migrator.drop_table('account_setting'))

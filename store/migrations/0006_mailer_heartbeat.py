# On-call at a glance: every running dispatcher records a heartbeat, so the overview and
# `portal-console status` can say when email waits and no mailer runs; and a priority on
# outbox emails, so an email an agent sends by hand goes before a bulk backlog. The claim
# reads queued rows in (priority, next_attempt_at) order and the overview counts deliveries
# by sent_at: both get an index, or a large outbox is read whole every poll.
from peewee import *
from store.models import UTCDateTimeField


def up(migrator, db):
    class MailerHeartbeat(Model):
        name = CharField(max_length=200, unique=True)
        host = CharField(max_length=200)
        pid = IntegerField()
        role = CharField(max_length=20)
        started_at = UTCDateTimeField()
        last_pass_at = UTCDateTimeField(index=True)
        sent = IntegerField(default=0)
        failed = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'mailer_heartbeat'

    db.create_tables([MailerHeartbeat])
    # Plain SQL: the same statements on SQLite and PostgreSQL, without rebuilding the table.
    db.execute_sql('ALTER TABLE outbox_email ADD COLUMN priority INTEGER NOT NULL DEFAULT 0')
    db.execute_sql('CREATE INDEX outbox_email_claim_order ON outbox_email (status, priority, next_attempt_at, id)')
    db.execute_sql('CREATE INDEX outbox_email_sent_at ON outbox_email (sent_at)')


def down(migrator, db):
    db.execute_sql('DROP INDEX outbox_email_sent_at')
    db.execute_sql('DROP INDEX outbox_email_claim_order')
    migrator.migrate(migrator.drop_column('outbox_email', 'priority'))
    migrator.migrate(migrator.drop_table('mailer_heartbeat'))

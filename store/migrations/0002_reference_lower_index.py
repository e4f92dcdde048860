# References are found whatever their case (c000002 opens C000002); this index keeps the
# case-insensitive lookup a single index probe at a million customers.


def up(migrator, db):
    db.execute_sql("CREATE INDEX IF NOT EXISTS customer_reference_lower ON customer (lower(reference))")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS customer_reference_lower")

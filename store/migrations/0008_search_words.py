# Customer search's word starts on PostgreSQL: a GIN index whose keys are every word start of
# 1 to 8 characters of a customer's words (an expression index over customer_search.words, so
# the existing triggers keep it in step with nothing more). A word start is one exact key,
# where the pg_trgm index of the words column first built the whole set of each of its
# trigrams (issue 14: 'acme', 'ing', common usernames); that index goes. The planner's
# statistics of the expression say how many customers hold a key (search.py asks them), so
# they are made here on a large sample. Also made again, from the code as it is: the folding
# functions (the same rules, in PL/pgSQL: a bulk refresh folds every customer) and the
# triggers' function (it stands aside inside store.search_index.batch). SQLite has had its
# word index (FTS5) since 0005: nothing to do there.
from peewee import PostgresqlDatabase

from store import search_index
from store.search_text import postgres_functions

STARTS_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_search_starts(words text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $starts$
    SELECT coalesce(array_agg(DISTINCT left(w, n)), '{}')
    FROM string_to_table(btrim(words, ' '), '  ') AS w, generate_series(1, least(length(w), 8)) AS n
    WHERE w <> ''
$starts$"""


def up(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    for statement in postgres_functions():
        db.execute_sql(statement)
    search_index.create_postgres_triggers(db)
    db.execute_sql(STARTS_FUNCTION)
    db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_starts ON customer_search "
                   "USING gin (portal_search_starts(words))")
    db.execute_sql("ALTER INDEX customer_search_starts ALTER COLUMN 1 SET STATISTICS 1000")
    db.execute_sql("DROP INDEX IF EXISTS customer_search_words_trgm")
    db.execute_sql("ANALYZE customer_search")


def down(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql("DROP INDEX IF EXISTS customer_search_starts")
    db.execute_sql("DROP FUNCTION IF EXISTS portal_search_starts(text)")
    try:
        with db.atomic():  # needs pg_trgm, which may be missing: search then reads the table
            db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_words_trgm "
                           "ON customer_search USING gin (words gin_trgm_ops)")
    except Exception:  # noqa: BLE001 - any refusal leaves the index absent, as 0005 would
        pass

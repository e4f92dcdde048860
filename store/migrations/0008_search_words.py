# Customer search's word starts on PostgreSQL, as B-tree rows (punctuated, word, customer id):
# a word start is a range of the index, so the customers holding one are counted by reading
# at most that many index entries, where the pg_trgm index first builds the whole set of a
# frequent trigram (issue 14: 'acme', 'ing', common usernames). Statement triggers on
# customer_search keep it in step, in the same transaction as the change. A set small enough
# to sort is then read by a GIN index of each customer's word starts (1 to 8 characters),
# which replaces the trigram index of the words column. The folding functions are made
# again too: the same rules, in PL/pgSQL (a bulk refresh folds every customer). SQLite has
# had its word index (FTS5) since 0005: nothing to do there.
from peewee import PostgresqlDatabase

from store import search_index
from store.search_text import postgres_functions


def up(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    for statement in postgres_functions():
        db.execute_sql(statement)
    db.execute_sql("""
        CREATE TABLE customer_search_word (
            punctuated boolean NOT NULL,
            word text COLLATE "C" NOT NULL,
            customer_id integer NOT NULL,
            PRIMARY KEY (punctuated, word, customer_id))""")
    search_index.create_postgres_triggers(db)
    search_index.fill_words(db)
    search_index.create_start_index(db)
    # The word starts' trigram index: the two above answer everything it did.
    db.execute_sql("DROP INDEX IF EXISTS customer_search_words_trgm")


def down(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    for name in ("customer_search_word_insert", "customer_search_word_update", "customer_search_word_delete",
                 "customer_search_word_truncate"):
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON customer_search")
    db.execute_sql("DROP TABLE IF EXISTS customer_search_word")
    db.execute_sql("DROP INDEX IF EXISTS customer_search_starts")
    db.execute_sql("DROP FUNCTION IF EXISTS portal_search_starts(text)")
    try:
        with db.atomic():  # needs pg_trgm, which may be missing: search then reads the table
            db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_words_trgm "
                           "ON customer_search USING gin (words gin_trgm_ops)")
    except Exception:  # noqa: BLE001 - any refusal means the index stays absent, as before
        pass
    db.execute_sql("DROP FUNCTION IF EXISTS portal_search_word_trigger()")
    db.execute_sql("DROP FUNCTION IF EXISTS portal_search_word_rows(text)")

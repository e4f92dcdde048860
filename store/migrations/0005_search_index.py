# Customer search at a million customers: a folded document per customer kept in step by
# triggers, with a trigram index over it (FTS5 on SQLite, pg_trgm GIN on PostgreSQL); the
# index is filled from the customers already there. It reads only the customer and
# portal_login tables as 0001 made them, so it runs the same before or after 0003/0004.
import logging

from peewee import PostgresqlDatabase

from store import search_index


def up(migrator, db):
    search_index.install(db)
    problem = search_index.trigram_index_problem(db)
    if problem:
        logging.getLogger("store.search").warning(problem)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        search_index.drop_postgres_triggers(db)
        db.execute_sql("DROP TABLE IF EXISTS customer_search")
        for function in ("portal_search_trigger()", "portal_search_refresh(integer)",
                         "portal_search_words(text)", "portal_search_doc(text, text, text, text, text)",
                         "portal_fold(text)"):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {function}")
    else:
        search_index.drop_sqlite_triggers(db)
        db.execute_sql("DROP TABLE IF EXISTS customer_search_fts")
        db.execute_sql("DROP TABLE IF EXISTS customer_search")

"""The customer search index: one row a customer in ``customer_search`` with its folded sort
keys, portal state, document and word starts, kept in step by triggers on the customer and
portal login tables (in the same transaction as the change), and text indexes over it: on
SQLite an FTS5 trigram table (substrings) and an FTS5 word table (whole keys, word starts);
on PostgreSQL a pg_trgm GIN index on the document (substrings), a GIN index of the whole keys
and one of the word starts.

Triggers rather than the service layer: every writer (the console, the portal, the mailer,
an import) changes customers and logins, and none of them can forget the index.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from .search_text import fold, postgres_functions, search_doc, search_keys, search_parts, search_words

# (customers indexed so far, customers in all) as a rebuild goes.
Progress = Callable[[int, int], None]

# The portal state as search.STATE_CODES numbers it: no login, suspended, no password yet,
# active (store.records.state_of, in SQL).
STATE_SQL = ("CASE WHEN l.id IS NULL THEN 0 WHEN l.suspended_at IS NOT NULL THEN 3 "
             "WHEN l.password_hash IS NULL THEN 1 ELSE 2 END")
# The same before migration 0007 adds portal_login.suspended_at: migration 0005 installs the
# index on the tables as they are then, and 0007 installs it again with the column.
STATE_SQL_BEFORE_0007 = "CASE WHEN l.id IS NULL THEN 0 WHEN l.password_hash IS NULL THEN 1 ELSE 2 END"
# The portal login columns the state and the document are derived from.
LOGIN_COLUMNS = "username, password_hash, suspended_at, customer_id"
LOGIN_COLUMNS_BEFORE_0007 = "username, password_hash, customer_id"
# The folded sort key of each order the results can be sorted in.
SORT_KEYS = ("name_key", "company_key", "reference_key")

def _refresh_select(state_sql: str) -> str:
    return f"""
    SELECT c.id, {state_sql}, portal_fold(c.name), portal_fold(c.company), portal_fold(c.reference),
           d.doc, portal_search_words(d.doc),
           array_remove(string_to_array(substr(d.doc, strpos(d.doc, chr(10)) + 1), chr(10)), '')
    FROM customer c
    LEFT JOIN portal_login l ON l.customer_id = c.id
    CROSS JOIN LATERAL (SELECT portal_search_doc(c.name, c.company, c.reference, l.username,
                                                 c.primary_email) AS doc) d
"""


_UPSERT_TAIL = """
    ON CONFLICT (customer_id) DO UPDATE SET state = excluded.state, name_key = excluded.name_key,
        company_key = excluded.company_key, reference_key = excluded.reference_key,
        doc = excluded.doc, words = excluded.words
"""
_COLUMNS = "customer_id, state, name_key, company_key, reference_key, doc, words"


def register_functions(db: SqliteDatabase) -> None:
    """The folding functions SQLite's triggers call, on every connection the store opens."""
    db.register_function(fold, "portal_fold", 1, deterministic=True)
    db.register_function(search_doc, "portal_search_doc", 5, deterministic=True)
    db.register_function(search_words, "portal_search_words", 1, deterministic=True)
    db.register_function(search_keys, "portal_search_keys", 1, deterministic=True)
    db.register_function(search_parts, "portal_search_parts", 1, deterministic=True)


def _index_ddl(collate: str) -> list[str]:
    statements = []
    for key in SORT_KEYS:
        statements.append(f"CREATE INDEX IF NOT EXISTS customer_search_{key} "
                          f"ON customer_search ({key}{collate}, customer_id)")
        statements.append(f"CREATE INDEX IF NOT EXISTS customer_search_state_{key} "
                          f"ON customer_search (state, {key}{collate}, customer_id)")
    return statements


# --- SQLite -------------------------------------------------------------------------

def _sqlite_rows(state_sql: str, where: str) -> str:
    """The index rows of the customers ``where`` picks, as one INSERT ... SELECT. SQLite has
    no LATERAL: the document is computed in a subquery over the joined row."""
    return f"""
        INSERT INTO customer_search ({_COLUMNS})
        SELECT id, state, name_key, company_key, reference_key, doc, portal_search_words(doc) FROM (
            SELECT c.id AS id, {state_sql} AS state, portal_fold(c.name) AS name_key,
                   portal_fold(c.company) AS company_key, portal_fold(c.reference) AS reference_key,
                   portal_search_doc(c.name, c.company, c.reference, l.username, c.primary_email) AS doc
            FROM customer c LEFT JOIN portal_login l ON l.customer_id = c.id
            WHERE {where})"""


def _sqlite_refresh(customer_id: str, state_sql: str) -> str:
    return _sqlite_rows(state_sql, f"c.id = {customer_id}") + f"\n        WHERE true {_UPSERT_TAIL};"


_FTS_INSERT = """
    INSERT INTO customer_search_fts (rowid, doc) VALUES (new.customer_id, new.doc);
    INSERT INTO customer_search_words (rowid, keys, parts)
    VALUES (new.customer_id, portal_search_keys(new.doc), portal_search_parts(new.doc));"""
_FTS_DELETE = """
    INSERT INTO customer_search_fts (customer_search_fts, rowid, doc) VALUES ('delete', old.customer_id, old.doc);
    INSERT INTO customer_search_words (customer_search_words, rowid, keys, parts)
    VALUES ('delete', old.customer_id, portal_search_keys(old.doc), portal_search_parts(old.doc));"""
# Whole keys and letter-and-digit runs are single tokens (every character but white space and
# control characters belongs to one).
WORD_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M* P* S*'"

# Prefix indexes up to 8 letters: a start of a letter-and-digit run is then one lookup
# however many runs share it ('acme' starts acmefreight, acmehealth, ... of every domain).
WORDS_TABLE = f"""CREATE VIRTUAL TABLE IF NOT EXISTS customer_search_words USING fts5(
    keys, parts, content='', detail='column', prefix='1 2 3 4 5 6 7 8', tokenize="{WORD_TOKENIZER}")"""


def has_suspension(db: Database) -> bool:
    """Whether portal_login has suspended_at (migration 0007): the state rule reads it then."""
    return any(column.name == "suspended_at" for column in db.get_columns("portal_login"))


def sqlite_triggers(suspension: bool = True) -> dict[str, str]:
    """The SQLite triggers, by name (``suspension``: portal_login has suspended_at)."""
    state_sql = STATE_SQL if suspension else STATE_SQL_BEFORE_0007
    login_columns = LOGIN_COLUMNS if suspension else LOGIN_COLUMNS_BEFORE_0007
    return {
        "customer_search_customer_ai": f"""
            CREATE TRIGGER customer_search_customer_ai AFTER INSERT ON customer BEGIN
                {_sqlite_refresh("new.id", state_sql)}
            END""",
        "customer_search_customer_au": f"""
            CREATE TRIGGER customer_search_customer_au
            AFTER UPDATE OF name, company, reference, primary_email ON customer BEGIN
                {_sqlite_refresh("new.id", state_sql)}
            END""",
        "customer_search_customer_ad": """
            CREATE TRIGGER customer_search_customer_ad AFTER DELETE ON customer BEGIN
                DELETE FROM customer_search WHERE customer_id = old.id;
            END""",
        "customer_search_login_ai": f"""
            CREATE TRIGGER customer_search_login_ai AFTER INSERT ON portal_login BEGIN
                {_sqlite_refresh("new.customer_id", state_sql)}
            END""",
        "customer_search_login_au": f"""
            CREATE TRIGGER customer_search_login_au
            AFTER UPDATE OF {login_columns} ON portal_login BEGIN
                {_sqlite_refresh("old.customer_id", state_sql)}
                {_sqlite_refresh("new.customer_id", state_sql)}
            END""",
        "customer_search_login_ad": f"""
            CREATE TRIGGER customer_search_login_ad AFTER DELETE ON portal_login BEGIN
                {_sqlite_refresh("old.customer_id", state_sql)}
            END""",
        # The two FTS5 tables follow customer_search: the trigram one reads its text from it
        # (external content), the word one keeps only its index (contentless).
        "customer_search_fts_ai": f"""
            CREATE TRIGGER customer_search_fts_ai AFTER INSERT ON customer_search BEGIN
                {_FTS_INSERT}
            END""",
        "customer_search_fts_ad": f"""
            CREATE TRIGGER customer_search_fts_ad AFTER DELETE ON customer_search BEGIN
                {_FTS_DELETE}
            END""",
        "customer_search_fts_au": f"""
            CREATE TRIGGER customer_search_fts_au AFTER UPDATE OF doc, words ON customer_search
            WHEN old.doc IS NOT new.doc OR old.words IS NOT new.words BEGIN
                {_FTS_DELETE}
                {_FTS_INSERT}
            END""",
    }


SQLITE_TRIGGERS = sqlite_triggers()


def _install_sqlite(db: SqliteDatabase) -> None:
    db.execute_sql("""
        CREATE TABLE IF NOT EXISTS customer_search (
            customer_id INTEGER PRIMARY KEY, state INTEGER NOT NULL,
            name_key TEXT NOT NULL, company_key TEXT NOT NULL, reference_key TEXT NOT NULL,
            doc TEXT NOT NULL, words TEXT NOT NULL)""")
    db.execute_sql("""
        CREATE VIRTUAL TABLE IF NOT EXISTS customer_search_fts USING fts5(
            doc, content='customer_search', content_rowid='customer_id', tokenize='trigram')""")
    db.execute_sql(WORDS_TABLE)
    for statement in _index_ddl(""):
        db.execute_sql(statement)
    # The state and sort keys by customer id, apart from the long text: a set found in the
    # FTS5 index is sorted from this narrow index (search.py names it).
    db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_keys "
                   "ON customer_search (customer_id, state, name_key, company_key, reference_key)")
    create_sqlite_triggers(db)


def create_sqlite_triggers(db: SqliteDatabase) -> None:
    for name, statement in sqlite_triggers(has_suspension(db)).items():
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
        db.execute_sql(statement)


def drop_sqlite_triggers(db: SqliteDatabase) -> None:
    """For a bulk load (bench/seed_customers.py): rows inserted meanwhile are indexed by rebuild()."""
    for name in SQLITE_TRIGGERS:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")


def _sqlite_fill(state_sql: str) -> str:
    return _sqlite_rows(state_sql, "c.id >= ? AND c.id < ?")


# --- PostgreSQL ---------------------------------------------------------------------

_POSTGRES_COLUMNS = _COLUMNS + ", keys"


def _postgres_refresh(state_sql: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION portal_search_refresh(target integer) RETURNS void
LANGUAGE sql AS $refresh$
    INSERT INTO customer_search ({_POSTGRES_COLUMNS})
    {_refresh_select(state_sql)}
    WHERE c.id = target
    {_UPSERT_TAIL}, keys = excluded.keys;
$refresh$"""

_POSTGRES_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $trigger$
BEGIN
    IF current_setting('portal.search_batch', true) = 'on' THEN
        RETURN NULL;  -- a batch (search_index.batch) refreshes its customers at its end
    END IF;
    IF TG_TABLE_NAME = 'customer' THEN
        PERFORM portal_search_refresh(NEW.id);
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM portal_search_refresh(OLD.customer_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.customer_id <> OLD.customer_id) THEN
            PERFORM portal_search_refresh(NEW.customer_id);
        END IF;
    END IF;
    RETURN NULL;
END
$trigger$"""

# --- PostgreSQL: the word starts' GIN index -----------------------------------------------
#
# Every word start of 1 to START_LENGTH characters of a customer's words is a key of a GIN
# index over customer_search (an expression index: nothing is stored, PostgreSQL keeps it in
# step with the row). A word start is then one exact key, where the trigram index first
# built the whole set of each of its trigrams ('acm' of 290,000 Acme customers, 'ing' of
# every billing@): a set is read as one bitmap, and several words' keys are ANDed by the
# index, which skips through the common ones' lists by the rarest. The planner's statistics
# of the expression (most common keys, a large sample) say how many customers hold a key to
# within a few percent: search.py asks them before choosing how to read a set. pg_trgm is
# not needed for it.

# The longest word start that is a key (a longer one is found by its first START_LENGTH
# characters and a row test).
START_LENGTH = 8
START_INDEX = "customer_search_starts"
_STARTS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION portal_search_starts(words text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $starts$
    SELECT coalesce(array_agg(DISTINCT left(w, n)), '{{}}')
    FROM string_to_table(btrim(words, ' '), '  ') AS w, generate_series(1, least(length(w), {START_LENGTH})) AS n
    WHERE w <> ''
$starts$"""


def create_start_index(db: PostgresqlDatabase) -> None:
    """The function and the GIN index of word starts, with a sample large enough that the
    planner knows every key held by more than a few thousand customers."""
    db.execute_sql(_STARTS_FUNCTION)
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {START_INDEX} ON customer_search "
                   "USING gin (portal_search_starts(words))")
    db.execute_sql(f"ALTER INDEX {START_INDEX} ALTER COLUMN 1 SET STATISTICS 1000")


def postgres_triggers(suspension: bool = True) -> dict[str, str]:
    """The PostgreSQL triggers, by name (``suspension``: portal_login has suspended_at)."""
    login_columns = LOGIN_COLUMNS if suspension else LOGIN_COLUMNS_BEFORE_0007
    return {
        "customer_search_customer": """
            CREATE TRIGGER customer_search_customer
            AFTER INSERT OR UPDATE OF name, company, reference, primary_email ON customer
            FOR EACH ROW EXECUTE FUNCTION portal_search_trigger()""",
        "customer_search_login": f"""
            CREATE TRIGGER customer_search_login
            AFTER INSERT OR DELETE OR UPDATE OF {login_columns} ON portal_login
            FOR EACH ROW EXECUTE FUNCTION portal_search_trigger()""",
    }


POSTGRES_TRIGGERS = postgres_triggers()
POSTGRES_TRIGGER_TABLES = {"customer_search_customer": "customer", "customer_search_login": "portal_login"}
TRIGRAM_INDEXES = {
    "customer_search_doc_trgm": "CREATE INDEX IF NOT EXISTS customer_search_doc_trgm "
                                "ON customer_search USING gin (doc gin_trgm_ops)",
}


def _install_postgres(db: PostgresqlDatabase) -> None:
    for statement in postgres_functions():
        db.execute_sql(statement)
    db.execute_sql("""
        CREATE TABLE IF NOT EXISTS customer_search (
            customer_id integer PRIMARY KEY REFERENCES customer (id) ON DELETE CASCADE,
            state smallint NOT NULL,
            name_key text COLLATE "C" NOT NULL, company_key text COLLATE "C" NOT NULL,
            reference_key text COLLATE "C" NOT NULL,
            doc text COLLATE "C" NOT NULL, words text COLLATE "C" NOT NULL,
            keys text[] COLLATE "C" NOT NULL)""")
    # Whole keys (reference, username, addresses) by GIN: an exact key is one lookup (the
    # trigram index can't see the line breaks that mark a whole key in the document).
    db.execute_sql("CREATE INDEX IF NOT EXISTS customer_search_keys ON customer_search USING gin (keys)")
    # A large sample, so the planner's estimate of how many customers hold a whole key or a
    # word inside a word (search.py asks it) is good down to a few hundred in a million.
    for column in ("doc", "keys"):
        db.execute_sql(f"ALTER TABLE customer_search ALTER COLUMN {column} SET STATISTICS 1000")
    db.execute_sql(_POSTGRES_TRIGGER_FUNCTION)
    for statement in _index_ddl(""):
        db.execute_sql(statement)
    create_postgres_triggers(db)
    create_start_index(db)
    create_trigram_indexes(db)


def create_postgres_triggers(db: PostgresqlDatabase) -> None:
    """The triggers, and the functions they call, for the state rule the schema allows."""
    suspension = has_suspension(db)
    db.execute_sql(_postgres_refresh(STATE_SQL if suspension else STATE_SQL_BEFORE_0007))
    db.execute_sql(_POSTGRES_TRIGGER_FUNCTION)
    for name, statement in postgres_triggers(suspension).items():
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON {POSTGRES_TRIGGER_TABLES[name]}")
        db.execute_sql(statement)


def drop_postgres_triggers(db: PostgresqlDatabase) -> None:
    for name in POSTGRES_TRIGGERS:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON {POSTGRES_TRIGGER_TABLES[name]}")


def create_trigram_indexes(db: PostgresqlDatabase) -> str | None:
    """Create pg_trgm and the GIN indexes; None when done, else why not (search then scans)."""
    try:
        with db.atomic():  # a savepoint: a refusal must not undo the caller's transaction
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for statement in TRIGRAM_INDEXES.values():
                db.execute_sql(statement)
    except Exception as error:  # noqa: BLE001 - any refusal (no package, no privilege) means: fall back
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return reason
    return None


def _postgres_fill(state_sql: str) -> str:
    return f"INSERT INTO customer_search ({_POSTGRES_COLUMNS}) {_refresh_select(state_sql)} WHERE c.id >= %s AND c.id < %s"


# --- both ---------------------------------------------------------------------------

def install(db: Database) -> None:
    """Create the index, its triggers and functions, and fill it from the customers."""
    if isinstance(db, PostgresqlDatabase):
        _install_postgres(db)
    else:
        _install_sqlite(db)
    rebuild(db)


def rebuild(db: Database, progress: Progress | None = None, chunk: int = 20_000) -> None:
    """Fill the index afresh from the customer and portal login tables, in one transaction;
    ``progress(done, total)`` hears about each chunk of customers."""
    postgres = isinstance(db, PostgresqlDatabase)
    state_sql = STATE_SQL if has_suspension(db) else STATE_SQL_BEFORE_0007
    fill = _postgres_fill(state_sql) if postgres else _sqlite_fill(state_sql)
    with db.atomic():
        sort_indexes: list[str] = []
        if not postgres:
            # The FTS5 tables are filled afresh below; their triggers must not see the rows go.
            drop_sqlite_triggers(db)
            # Sorting every row into seven B-trees at the end is faster than inserting each
            # row into them in the customers' order (200,000 customers: 9.0 s -> 6.2 s).
            for name, sql in db.execute_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer_search' "
                    "AND sql IS NOT NULL").fetchall():
                sort_indexes.append(sql)
                db.execute_sql(f'DROP INDEX "{name}"')
        db.execute_sql("DELETE FROM customer_search")
        low, high, total = db.execute_sql("SELECT min(id), max(id), count(*) FROM customer").fetchone()
        done = 0
        for start in range(low or 0, (high or -1) + 1, chunk):
            cursor = db.execute_sql(fill, (start, start + chunk))
            done = min(total, done + max(cursor.rowcount, 0))
            if progress:
                progress(done, total)
        if postgres:
            db.execute_sql("ANALYZE customer_search")
        else:
            for statement in sort_indexes:
                db.execute_sql(statement)
            _fill_sqlite_text_indexes(db)
            create_sqlite_triggers(db)


# FTS5 keeps the entries of a transaction in memory until they reach 'hashsize' bytes (1 MB
# by default), then writes them out as a segment that later merges rewrite. A rebuild writes
# far fewer, larger segments with more room: the trigram build of 200,000 customers took
# 4.1 s, now 2.1 s. It is set back afterwards, so everyday writes hold no more memory.
_REBUILD_HASHSIZE = 64 * 1024 * 1024
_DEFAULT_HASHSIZE = 1024 * 1024


def _set_hashsize(db: SqliteDatabase, size: int) -> None:
    for table in ("customer_search_fts", "customer_search_words"):
        db.execute_sql(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?)", (size,))


def _fill_sqlite_text_indexes(db: SqliteDatabase) -> None:
    _set_hashsize(db, _REBUILD_HASHSIZE)
    db.execute_sql("INSERT INTO customer_search_fts (customer_search_fts) VALUES ('rebuild')")
    db.execute_sql("INSERT INTO customer_search_words (customer_search_words) VALUES ('delete-all')")
    db.execute_sql("INSERT INTO customer_search_words (rowid, keys, parts) "
                   "SELECT customer_id, portal_search_keys(doc), portal_search_parts(doc) FROM customer_search")
    _set_hashsize(db, _DEFAULT_HASHSIZE)


def _set_batch(db: PostgresqlDatabase, on: bool) -> None:
    """Whether the customer and login triggers stand aside until the transaction ends."""
    db.execute_sql("SELECT set_config('portal.search_batch', %s, true)", ("on" if on else "off",))


def refresh(db: Database, customer_ids: Sequence[int]) -> None:
    """Make the index rows of these customers afresh from their customer and login rows, in
    one statement (PostgreSQL; on SQLite the triggers always have)."""
    if not customer_ids or not isinstance(db, PostgresqlDatabase):
        return
    state_sql = STATE_SQL if has_suspension(db) else STATE_SQL_BEFORE_0007
    db.execute_sql(f"INSERT INTO customer_search ({_POSTGRES_COLUMNS}) {_refresh_select(state_sql)} "
                   f"WHERE c.id = ANY(%s) {_UPSERT_TAIL}, keys = excluded.keys", (list(customer_ids),))


@contextmanager
def batch(db: Database) -> Iterator[list[int]]:
    """A savepoint for writing many customers at once (an import): on PostgreSQL the
    per-customer triggers stand aside inside it (each costs a planned statement, 2-3 ms), and
    at its end the index rows of every customer the body put in the yielded list are made in
    one statement, before the savepoint is released. The body must list every customer it
    writes or whose login it writes. On SQLite the triggers index as they go (cheap there)."""
    written: list[int] = []
    with db.atomic():
        if not isinstance(db, PostgresqlDatabase):
            yield written
            return
        # Local to the transaction, and undone with the savepoint when the body fails.
        _set_batch(db, True)
        yield written
        _set_batch(db, False)
        refresh(db, written)


@contextmanager
def suspended(db: Database, progress: Progress | None = None) -> Iterator[None]:
    """For a bulk load of customers (demo data, the benchmark): the triggers are off meanwhile,
    and the index is rebuilt once at the end (on PostgreSQL with its GIN indexes made afresh,
    faster than growing them row by row)."""
    postgres = isinstance(db, PostgresqlDatabase)
    if postgres:
        drop_postgres_triggers(db)
        for name in (*TRIGRAM_INDEXES, START_INDEX):
            db.execute_sql(f"DROP INDEX IF EXISTS {name}")
    else:
        drop_sqlite_triggers(db)
    # On an error the caller's transaction is rolled back (PostgreSQL: the triggers come back
    # with it); a SQLite bulk load cut short leaves them off, and the next start puts them
    # back and rebuilds (ensure).
    yield
    rebuild(db, progress)
    if postgres:
        create_postgres_triggers(db)
        create_start_index(db)
        create_trigram_indexes(db)
        # The planner's statistics of the word starts come from the index's expression.
        db.execute_sql("ANALYZE customer_search")
    else:
        create_sqlite_triggers(db)


def trigram_index_problem(db: Database) -> str | None:
    """Why search runs without its trigram index, in words for the person starting a process;
    None when the index is there. On PostgreSQL it tries once more to create a missing one."""
    if not isinstance(db, PostgresqlDatabase):
        return None
    present = db.execute_sql(
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'customer_search' AND indexname IN %s",
        (tuple(TRIGRAM_INDEXES),)).fetchone()[0]
    if present == len(TRIGRAM_INDEXES):
        return None
    reason = create_trigram_indexes(db)
    if reason is None:
        return None
    return (f"Customer search runs without its index: the PostgreSQL extension pg_trgm could not be "
            f"created ({reason}). Search still works but reads every customer (slow beyond ~100,000). "
            "Ask the database owner to run CREATE EXTENSION pg_trgm; the index is then made at the next start.")


def ensure(db: Database) -> str | None:
    """Put back what a later migration may have dropped (SQLite loses a table's triggers
    when a migration rebuilds that table; on PostgreSQL the triggers and the index of word
    starts), then say whether the trigram index is there."""
    if isinstance(db, PostgresqlDatabase):
        current = db.execute_sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'customer_search' "
                                 "AND column_name = 'keys'").fetchone()
        if not current:
            # An index made by an earlier form of migration 0005: made anew.
            with db.atomic():
                db.execute_sql("DROP TABLE IF EXISTS customer_search")
                install(db)
        present = {row[0] for row in db.execute_sql(
            "SELECT tgname FROM pg_trigger WHERE tgname IN %s", (tuple(POSTGRES_TRIGGERS),)).fetchall()}
        if present != set(POSTGRES_TRIGGERS):
            with db.atomic():
                create_postgres_triggers(db)
                rebuild(db)
        if not db.execute_sql("SELECT 1 FROM pg_indexes WHERE indexname = %s", (START_INDEX,)).fetchone():
            with db.atomic():
                create_start_index(db)
                db.execute_sql("ANALYZE customer_search")
    elif isinstance(db, SqliteDatabase):
        made = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'customer_search_words'").fetchone()
        if made is None or " ".join(made[0].split()) != " ".join(WORDS_TABLE.replace(" IF NOT EXISTS", "").split()):
            # An index made by an earlier form of migration 0005: made anew.
            with db.atomic():
                drop_sqlite_triggers(db)
                db.execute_sql("DROP TABLE IF EXISTS customer_search_fts")
                db.execute_sql("DROP TABLE IF EXISTS customer_search_words")
                install(db)
        present = {row[0] for row in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'customer_search_%'").fetchall()}
        if present != set(SQLITE_TRIGGERS):
            with db.atomic():
                create_sqlite_triggers(db)
                rebuild(db)
    return trigram_index_problem(db)

"""The search index beyond what search answers: PostgreSQL's GIN index of word starts (its
keys, and the migration that builds it on a database with customers), and batch writes (the
import) indexing exactly as the per-customer triggers do."""
from __future__ import annotations

import pytest

from store import db, search_index
from store.customers import add_customer, update_customer
from store.search import find_customers
from store.importer import import_customers, read_customer_csv
from store.panel import delete_username, set_username

from .conftest import AGENT

LONG = "Ünïcode" + "ß" * 120  # folds to a word far longer than a key


def add(name: str, company: str = "", email: str = "") -> str:
    return add_customer(name=name, company=company, primary_email=email, actor=AGENT).reference


def index_rows() -> list[tuple]:
    keys = ", keys" if db.is_postgres() else ""
    return db.database.execute_sql(
        f"SELECT customer_id, state, name_key, company_key, reference_key, doc, words{keys} "
        "FROM customer_search ORDER BY customer_id").fetchall()


def start_keys(reference: str) -> set[str]:
    row = db.database.execute_sql(
        "SELECT portal_search_starts(s.words) FROM customer_search s JOIN customer c ON c.id = s.customer_id "
        "WHERE c.reference = %s", (reference,)).fetchone()
    return set(row[0])


def expected_keys(reference: str) -> set[str]:
    """Every start of 1 to START_LENGTH characters of every word of the customer's index row."""
    words = db.database.execute_sql(
        "SELECT s.words FROM customer_search s JOIN customer c ON c.id = s.customer_id WHERE c.reference = %s",
        (reference,)).fetchone()[0]
    return {word[:n] for word in words.split() for n in range(1, min(len(word), search_index.START_LENGTH) + 1)}


@pytest.fixture
def postgres(store_db) -> str:
    if not db.is_postgres():
        pytest.skip("the GIN index of word starts is PostgreSQL's (SQLite's word index is FTS5)")
    return store_db


class TestWordStartKeys:
    def test_every_start_of_every_word_up_to_eight_characters_is_a_key(self, postgres):
        ada = add("Ada Lovelace", "Analytical Engines", "ada.l@engines.example; billing@engines.example")
        renee = add(LONG, "O'Brien Ltd", "renee@obrien.example")
        for reference in (ada, renee):
            assert start_keys(reference) == expected_keys(reference)
        assert {"a", "ad", "ada", "ada.", "ada.l", "ada.l@en", "billing@", "lovelace", "c000001"} <= start_keys(ada)
        assert {"o'brien", "obrien", "unicodes"} <= start_keys(renee)
        assert max(len(key) for key in start_keys(renee)) == search_index.START_LENGTH

    def test_the_keys_follow_changes_of_customers_and_logins(self, postgres):
        ada = add("Ada Lovelace", "Analytical Engines", "ada@engines.example")
        set_username(ada, "countess.a", expected_version=None, actor=AGENT)
        update_customer(ada, expected_version=None, actor=AGENT, name="Ada King", primary_email="ak@king.example")
        assert start_keys(ada) == expected_keys(ada)
        assert {"countess", "king", "ak@king."} <= start_keys(ada) and "lovelace" not in start_keys(ada)
        delete_username(ada, expected_version=None, actor=AGENT)
        assert "countess" not in start_keys(ada)

    def test_a_long_word_is_found_by_its_start_beyond_the_key(self, postgres):
        long = add(LONG, "Acme", "long@acme.example")
        add("Unicodesx Other", "Acme", "other@acme.example")  # the same key, not the same start
        assert [c.reference for c in find_customers("unicodesssss").customers] == [long]


class TestSqliteRebuild:
    """A rebuild (a bulk load's, a migration's) drops the sort indexes while it fills the table and
    gives FTS5 more memory; everything must be as it was afterwards."""

    @staticmethod
    def sort_indexes() -> list[tuple]:
        return db.database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer_search' "
            "AND sql IS NOT NULL ORDER BY name").fetchall()

    def test_its_indexes_and_memory_setting_are_back_and_the_triggers_index_again(self, store_db):
        if db.is_postgres():
            pytest.skip("SQLite's rebuild (PostgreSQL's GIN indexes are made afresh by suspended())")
        ada = add("Ada Lovelace", "Analytical Engines", "ada@engines.example")
        add("Grace Hopper", email="grace@navy.example")
        indexes, rows = self.sort_indexes(), index_rows()
        search_index.rebuild(db.database.obj)
        assert self.sort_indexes() == indexes and len(indexes) == 7
        assert index_rows() == rows
        for table in ("customer_search_fts", "customer_search_words"):
            setting = db.database.execute_sql(f"SELECT v FROM {table}_config WHERE k = 'hashsize'").fetchone()
            assert setting is None or setting[0] == 1024 * 1024
        assert [c.reference for c in find_customers("analytical").customers] == [ada]
        after = add("Barbara Liskov")
        assert [c.reference for c in find_customers("lisk").customers] == [after]
        plan = " ".join(str(row) for row in db.database.execute_sql(
            "EXPLAIN QUERY PLAN SELECT customer_id FROM customer_search ORDER BY name_key, customer_id LIMIT 5"))
        assert "customer_search_name_key" in plan


class TestBatchWrites:
    CSV = ("reference,name,company,primary email\n"
           "R-1,Ada Lovelace,Analytical Engines,ada@engines.example\n"
           ",Grace Hopper,,grace@navy.example; admiral@navy.example\n"
           "R-3,Zoë Müller,Straße & Söhne,zoe@strasse.example\n")

    def test_an_import_indexes_its_customers_as_the_triggers_do(self, store_db):
        import_customers(read_customer_csv(self.CSV.encode()), actor=AGENT)
        imported = index_rows()
        assert len(imported) == 3
        search_index.rebuild(db.database.obj)  # what the per-customer functions give
        assert index_rows() == imported
        assert [c.name for c in find_customers("admiral@navy").customers] == ["Grace Hopper"]
        assert [c.name for c in find_customers("straße").customers] == ["Zoë Müller"]

    def test_a_failed_batch_leaves_nothing_and_the_triggers_index_again(self, store_db):
        with pytest.raises(RuntimeError):
            with db.write():
                with search_index.batch(db.database.obj) as written:
                    written.append(int(add("Half Written")[1:]))
                    raise RuntimeError("abandon")
        with db.write():
            with pytest.raises(RuntimeError):
                with search_index.batch(db.database.obj):
                    raise RuntimeError("abandon the savepoint only")
            # In the same transaction, the triggers index again.
            after = add("After The Batch")
        assert [c.reference for c in find_customers("after batch").customers] == [after]
        assert find_customers("half").customers == ()

    def test_inside_a_batch_the_triggers_stand_aside_and_its_list_is_indexed_at_the_end(self, postgres):
        with db.write():
            with search_index.batch(db.database.obj) as written:
                listed = add("Listed Customer")
                unlisted = add("Unlisted Customer")
                written.append(int(listed[1:]))
        assert [c.reference for c in find_customers("listed").customers] == [listed]
        assert unlisted not in {c.reference for c in find_customers("customer").customers}


class TestMigration:
    def test_the_migration_builds_the_index_for_customers_already_there(self, postgres):
        from playhouse.migrations import Runner

        ada = add("Ada Lovelace", "Analytical Engines", "ada@engines.example")
        runner = Runner(db.database.obj, str(db.MIGRATIONS_DIR))
        runner.down("0008_search_words")
        indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_search'"
        assert search_index.START_INDEX not in {r[0] for r in db.database.execute_sql(indexes).fetchall()}
        later = add("Olga Later", "Preexisting", "olga@later.example")
        assert db.migrate_schema() == ["0008_search_words"]
        assert search_index.START_INDEX in {r[0] for r in db.database.execute_sql(indexes).fetchall()}
        assert start_keys(ada) == expected_keys(ada) and start_keys(later) == expected_keys(later)
        assert [c.reference for c in find_customers("preex").customers] == [later]
        assert [c.reference for c in find_customers("lo").customers] == [ada]

    def test_a_lost_index_of_word_starts_comes_back_at_start(self, postgres):
        ada = add("Ada Lovelace", "Analytical Engines", "ada@engines.example")
        db.database.execute_sql(f"DROP INDEX {search_index.START_INDEX}")
        assert db.check_search_index() is None
        indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_search'"
        assert search_index.START_INDEX in {r[0] for r in db.database.execute_sql(indexes).fetchall()}
        assert [c.reference for c in find_customers("lovel").customers] == [ada]

    def test_without_the_trigram_index_search_still_answers(self, postgres):
        """pg_trgm missing (no package, no privilege): words inside words are found by reading
        the table, word starts still by their own index (it needs no extension)."""
        ada = add("Ada Lovelace", "Analytical Engines", "ada@engines.example")
        add("Grace Hopper", "Navy", "grace@navy.example")
        db.database.execute_sql("DROP INDEX customer_search_doc_trgm")
        assert [c.reference for c in find_customers("ovelac").customers] == [ada]
        assert [c.reference for c in find_customers("lo engi").customers] == [ada]
        assert [c.name for c in find_customers("g").customers] == ["Grace Hopper"]

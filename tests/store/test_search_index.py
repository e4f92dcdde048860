"""The search index's own tables stay in step with the customers: PostgreSQL's word table after
every kind of write, a batch write (the import) indexing as the triggers would, the migration
that builds the word table on a database with customers, and start-up putting back its triggers."""
from __future__ import annotations

import pytest

from store import db, search_index
from store.customers import add_customer, find_customers, update_customer
from store.importer import import_customers, read_customer_csv
from store.panel import delete_username, set_username
from store.search_text import is_part

from .conftest import AGENT

LONG = "Ünïcode" + "ß" * 120  # folds to more than WORD_LENGTH characters


def add(name: str, company: str = "", email: str = "") -> str:
    return add_customer(name=name, company=company, primary_email=email, actor=AGENT).reference


def words_held() -> set[tuple[bool, str, int]]:
    return set(db.database.execute_sql("SELECT punctuated, word, customer_id FROM customer_search_word").fetchall())


def words_expected() -> set[tuple[bool, str, int]]:
    """What the word table must hold: every word of each customer's index row (its words
    column), split into runs and punctuated words, cut to WORD_LENGTH characters."""
    expected = set()
    for customer_id, words in db.database.execute_sql("SELECT customer_id, words FROM customer_search").fetchall():
        for word in words.split():
            expected.add((not is_part(word), word[:search_index.WORD_LENGTH], customer_id))
    return expected


def index_rows() -> list[tuple]:
    keys = ", keys" if db.is_postgres() else ""
    return db.database.execute_sql(
        f"SELECT customer_id, state, name_key, company_key, reference_key, doc, words{keys} "
        "FROM customer_search ORDER BY customer_id").fetchall()


@pytest.fixture
def postgres(store_db) -> str:
    if not db.is_postgres():
        pytest.skip("the word table is PostgreSQL's (SQLite's word index is FTS5)")
    return store_db


@pytest.fixture
def people(postgres) -> dict[str, str]:
    return {
        "ada": add("Ada Lovelace", "Analytical Engines", "ada.l@engines.example; billing@engines.example"),
        "renee": add("Renée O'Brien-Smith", "O'Brien Ltd", "renee@obrien.example"),
        "long": add(LONG, "Acme", "long@acme.example"),
    }


class TestTheWordTableFollowsEveryWrite:
    def test_new_customers_have_every_word_start(self, people):
        held = words_held()
        assert held == words_expected()
        ada = int(people["ada"][1:])
        assert {(False, "ada", ada), (True, "ada.l@engines.example", ada), (False, "engines", ada)} <= held
        assert any(punctuated and word == "o'brien-smith" for punctuated, word, _ in held)
        assert max(len(word) for _, word, _ in held) == search_index.WORD_LENGTH

    def test_updates_of_customers_and_logins_move_their_words(self, people):
        set_username(people["ada"], "countess.a", expected_version=None, actor=AGENT)
        update_customer(people["renee"], expected_version=None, actor=AGENT, name="Renée Zimmer",
                        primary_email="rz@zimmer.example")
        assert words_held() == words_expected()
        words = {word for _, word, _ in words_held()}
        assert {"countess.a", "countess", "zimmer", "rz@zimmer.example"} <= words
        assert "obrien.example" not in words and "renee@obrien.example" not in words
        set_username(people["ada"], "ada.k", expected_version=None, actor=AGENT)
        delete_username(people["ada"], expected_version=None, actor=AGENT)
        assert words_held() == words_expected()
        assert not {"countess", "ada.k"} & {word for _, word, _ in words_held()}

    def test_a_deleted_customer_leaves_no_words(self, people):
        db.database.execute_sql("DELETE FROM customer WHERE reference = %s", (people["renee"],))
        assert words_held() == words_expected()
        assert int(people["renee"][1:]) not in {customer_id for _, _, customer_id in words_held()}

    def test_a_rolled_back_change_leaves_the_words_as_they_were(self, people):
        before = words_held()
        with pytest.raises(RuntimeError):
            with db.write():
                set_username(people["ada"], "ghost", expected_version=None, actor=AGENT)
                raise RuntimeError("abandon")
        assert words_held() == before

    def test_a_long_word_is_found_by_its_start(self, people):
        assert [c.reference for c in find_customers("unicodess").customers] == [people["long"]]


class TestBatchWrites:
    CSV = ("reference,name,company,primary email\n"
           "R-1,Ada Lovelace,Analytical Engines,ada@engines.example\n"
           ",Grace Hopper,,grace@navy.example; admiral@navy.example\n"
           "R-3,Zoë Müller,Straße & Söhne,zoe@strasse.example\n")

    def test_an_import_indexes_its_customers_as_the_triggers_do(self, store_db):
        import_customers(read_customer_csv(self.CSV.encode()), actor=AGENT)
        imported = index_rows()
        assert len(imported) == 3
        search_index.rebuild(db.database.obj)  # what the per-customer triggers and functions give
        assert index_rows() == imported
        if db.is_postgres():
            assert words_held() == words_expected()
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
                with search_index.batch(db.database.obj) as written:
                    raise RuntimeError("abandon the savepoint only")
            # Inside the same transaction the triggers index again.
            after = add("After The Batch")
        assert [c.reference for c in find_customers("after batch").customers] == [after]
        assert find_customers("half").customers == ()

    def test_a_batch_indexes_only_what_it_lists(self, postgres):
        """On PostgreSQL the triggers stand aside in a batch: what it lists is indexed at its end."""
        with db.write():
            with search_index.batch(db.database.obj) as written:
                listed = add("Listed Customer")
                written.append(int(listed[1:]))
        assert [c.reference for c in find_customers("listed").customers] == [listed]
        assert words_held() == words_expected()


class TestMigration:
    def test_the_migration_builds_the_word_table_for_customers_already_there(self, people):
        from playhouse.migrations import Runner

        runner = Runner(db.database.obj, str(db.MIGRATIONS_DIR))
        runner.down("0008_search_words")
        assert search_index.WORD_TABLE not in db.database.get_tables()
        later = add("Olga Later", "Preexisting", "olga@later.example")
        assert db.migrate_schema() == ["0008_search_words"]
        assert words_held() == words_expected()
        assert int(later[1:]) in {customer_id for _, _, customer_id in words_held()}
        assert [c.reference for c in find_customers("preex").customers] == [later]

    def test_lost_word_triggers_come_back_at_start(self, people):
        db.database.execute_sql("DROP TRIGGER customer_search_word_update ON customer_search")
        db.database.execute_sql("DROP TRIGGER customer_search_word_insert ON customer_search")
        added = add("Unseen Newcomer")
        assert db.check_search_index() is None
        assert words_held() == words_expected()
        assert [c.reference for c in find_customers("newc").customers] == [added]

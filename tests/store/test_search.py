"""Customer search: what matches, how it ranks, paging by cursor, short and common words,
accents, the match count, and the index following every change (each test on both backends)."""
from __future__ import annotations

import pytest

from store import db, search, search_index
from store.customers import add_customer, update_customer
from store.search import count_customers, find_customers
from store.panel import delete_username, set_username
from store.search_text import fold, highlight_spans
from store.values import CustomerOrder, PortalState

from .conftest import AGENT


def refs(text: str = "", **kwargs) -> list[str]:
    return [c.reference for c in find_customers(text, limit=100, **kwargs).customers]


def names(text: str = "", **kwargs) -> list[str]:
    return [c.name for c in find_customers(text, limit=100, **kwargs).customers]


def every_page(text: str = "", *, limit: int, **kwargs) -> list[str]:
    """All results, read page by page with the cursor (a page may come back short)."""
    seen, after, calls = [], None, 0
    while True:
        page = find_customers(text, limit=limit, after=after, **kwargs)
        assert len(page.customers) <= limit
        seen.extend(c.reference for c in page.customers)
        calls += 1
        assert calls < 500, "paging never ended"
        if not page.has_more:
            return seen
        after = page.next_after


def add(name: str, company: str = "", email: str = "", reference: str | None = None) -> str:
    return add_customer(name=name, company=company, primary_email=email, reference=reference,
                        actor=AGENT).reference


@pytest.fixture
def people(store_db) -> dict[str, str]:
    return {
        "canada": add("Nina Canada", "Dry Goods", "nina@dry.example"),
        "adams": add("Ann Adams", "Globex", "ann@globex.example"),
        "ada": add("Ada Lovelace", "Analytical Engines", "countess@engines.example; billing@engines.example"),
        "user": add("Bob Stone", "Quarry", "bob@quarry.example"),
        "zoe": add("Zoë Müller", "Straße & Söhne", "zoe@strasse.example"),
    }


class TestRanking:
    def test_an_exact_username_comes_before_word_starts_which_come_before_the_rest(self, people):
        """'ada': Bob's username is exactly 'ada'; Ada and Adams start a word; Canada holds it."""
        set_username(people["user"], "ada", expected_version=None, actor=AGENT)
        assert refs("ada") == [people["user"], people["ada"], people["adams"], people["canada"]]

    def test_an_exact_reference_or_address_comes_first(self, people):
        add("Ann Billing", "Billing Co", "ann@billing.example")
        assert refs("billing@engines.example")[0] == people["ada"]
        other = add("Zed C1", reference="C1")
        found = refs("c1")
        assert found[0] == other and set(found) == {other}

    def test_within_a_tier_the_chosen_order_decides(self, people):
        by_company = refs("a", order=CustomerOrder.company)
        by_name = refs("a", order=CustomerOrder.name)
        assert set(by_company) == set(by_name)
        assert names("a", order=CustomerOrder.name) == sorted(names("a"), key=fold)


class TestMatching:
    def test_every_field_matches_and_every_word_must(self, people):
        set_username(people["user"], "rocky", expected_version=None, actor=AGENT)
        for text in ("lovelace", "ANALYTICAL", people["ada"], "billing@eng", "rocky", "ada lovelace", "ove engi"):
            assert people["ada" if text != "rocky" else "user"] in refs(text), text
        assert refs("ada stone") == []
        assert refs("nothing-like-this") == []

    def test_accents_and_case_are_ignored_both_ways(self, people):
        for text in ("zoe", "ZOË", "muller", "müller", "MÜLLER", "strasse", "straße", "sohne", "söhne"):
            assert refs(text) == [people["zoe"]], text
        add("José Núñez", "Café Ørsted", "jose@cafe.example")
        assert names("jose nunez orsted") == ["José Núñez"]
        assert names("josé") == names("JOSE") == ["José Núñez"]

    def test_one_or_two_letters_match_only_at_a_word_start(self, people):
        """'a' is in nearly every name; only words starting with it tell the agent anything."""
        assert set(refs("a")) == {people["ada"], people["adams"]}
        assert set(refs("lo")) == {people["ada"]}
        assert refs("zz") == [] and refs("ov") == []
        assert set(refs("z")) == {people["zoe"]}
        assert set(refs("ov")) == set()
        assert refs("ove") == [people["ada"]]

    def test_a_word_with_punctuation_matches_as_typed_not_its_parts_anywhere(self, store_db):
        """'katherine.so' is a start of katherine.sokolov; Sofia Katherine holds both parts,
        and katherine.smith the first, yet neither holds it."""
        sokolov = add("Katherine Sokolov", "", "katherine.sokolov@mail.example")
        add("Sofia Katherine", "Katherine Solutions", "sofia@mail.example")
        add("Katherine Smith", "", "katherine.smith@mail.example")
        assert refs("katherine.so") == [sokolov]
        assert refs("KATHERINE.SOKOLOV@mail") == [sokolov]
        assert len(refs("katherine")) == 3

    def test_the_state_filter_narrows_every_search(self, people):
        set_username(people["ada"], "countess", expected_version=None, actor=AGENT)
        assert refs("a", state=PortalState.awaiting_customer) == [people["ada"]]
        assert refs("a", state=PortalState.not_set_up) == [people["adams"]]
        assert refs("", state=PortalState.active) == []


class TestTheIndexFollowsEveryChange:
    def test_usernames_names_and_addresses_are_found_as_soon_as_they_are_saved(self, people):
        set_username(people["adams"], "annie.a", expected_version=None, actor=AGENT)
        assert refs("annie") == [people["adams"]]
        delete_username(people["adams"], expected_version=None, actor=AGENT)
        assert refs("annie") == []
        update_customer(people["adams"], expected_version=None, actor=AGENT, name="Ann Zimmer",
                        primary_email="ann@zimmer.example")
        assert refs("zimmer") == [people["adams"]] and refs("globex.example") == []

    def test_a_rolled_back_change_leaves_the_index_as_it_was(self, people):
        with pytest.raises(RuntimeError):
            with db.write():
                set_username(people["adams"], "ghost", expected_version=None, actor=AGENT)
                raise RuntimeError("abandon")
        assert refs("ghost") == []

    def test_the_migration_indexes_customers_already_there(self, people):
        """A database made before the index: its customers are found once the migration runs."""
        from playhouse.migrations import Runner

        runner = Runner(db.database.obj, str(db.MIGRATIONS_DIR))
        runner.down("0005_search_index")
        add("Olga Later", "Preexisting", "olga@later.example")
        db.migrate_schema()
        assert names("preexist") == ["Olga Later"]
        assert len(refs("")) == len(people) + 1

    def test_lost_triggers_come_back_at_start(self, people):
        """A later migration that rebuilds a table (SQLite) drops its triggers; start-up puts them back."""
        if db.is_postgres():
            db.database.execute_sql("DROP TRIGGER customer_search_login ON portal_login")
        else:
            db.database.execute_sql("DROP TRIGGER customer_search_login_ai")
        set_username(people["adams"], "unseen", expected_version=None, actor=AGENT)
        assert db.check_search_index() is None
        assert refs("unseen") == [people["adams"]]


class TestManyMatches:
    @pytest.fixture
    def crowd(self, store_db) -> list[str]:
        made = [add(f"Person {i:02d} Smith", "Smithy Works" if i % 3 else "Other", f"p{i}@smith.example")
                for i in range(30)]
        made.append(add("Blacksmith Jones", "Forge", "jones@forge.example"))
        return made

    @pytest.mark.parametrize("text", ["smith", "s", "", "p1", "smithy"])
    def test_dense_matches_page_the_same_as_a_sorted_candidate_set(self, crowd, monkeypatch, text):
        """With bounds this small every path runs: sorted candidates, walks of the sort index
        with short pages, each tier in turn; the pages join up to the same answer."""
        expected = every_page(text, limit=7)
        assert expected == refs(text)
        narrowed = dict(state=PortalState.not_set_up, order=CustomerOrder.company)
        expected_narrowed = refs(text, **narrowed)
        monkeypatch.setattr(search, "SORT_BOUND", 4)
        monkeypatch.setattr(search, "WALK_ROWS", 5)
        monkeypatch.setattr(search, "WALK_ROWS_POSTGRES", 5)
        # A short walk is followed by sorting the set (CLUSTER_BOUND above it), or not.
        for cluster in (4, 1000):
            monkeypatch.setattr(search, "CLUSTER_BOUND", cluster)
            for limit in (1, 3, 7):
                assert every_page(text, limit=limit) == expected, (cluster, limit)
            assert every_page(text, limit=4, **narrowed) == expected_narrowed, cluster

    def test_a_dense_set_lying_together_far_on_fills_the_first_page_in_one_call(self, crowd, monkeypatch):
        """Fifty thousand Margarets sorted by name lie together after every other first name:
        a walk from the start finds none of them in its stretch. The set is then sorted whole,
        so the page is full at once, not after a call for every stretch up to them."""
        zulus = [add(f"Zed Zulu {i:02d}", "", f"z{i}@zulu.example") for i in range(10)]
        monkeypatch.setattr(search, "SORT_BOUND", 4)
        monkeypatch.setattr(search, "WALK_ROWS", 5)
        monkeypatch.setattr(search, "WALK_ROWS_POSTGRES", 5)
        page = find_customers("zulu", limit=3)
        assert [c.reference for c in page.customers] == zulus[:3] and page.has_more
        assert every_page("zulu", limit=3) == zulus
        monkeypatch.setattr(search, "CLUSTER_BOUND", 4)  # a set too big to sort: walked on
        if not db.is_postgres():  # PostgreSQL's planner may estimate a table this small below the bounds
            assert find_customers("zulu", limit=3).customers == ()
        assert every_page("zulu", limit=3) == zulus

    def test_the_blacksmith_comes_after_every_word_start(self, crowd, monkeypatch):
        monkeypatch.setattr(search, "SORT_BOUND", 4)
        monkeypatch.setattr(search, "WALK_ROWS", 5)
        monkeypatch.setattr(search, "WALK_ROWS_POSTGRES", 5)
        assert every_page("smith", limit=5)[-1] == crowd[-1]

    def test_the_old_offset_still_pages(self, crowd):
        first = find_customers("smith", limit=10)
        second = find_customers("smith", limit=10, offset=10)
        assert [c.reference for c in first.customers + second.customers] == refs("smith")[:20]

    def test_the_count_is_exact_up_to_its_bound(self, crowd, monkeypatch):
        assert count_customers("smith").count == 31 and not count_customers("smith").more
        assert count_customers("smithy", state=PortalState.not_set_up).count == 20
        assert count_customers("nobody").text == "0 customers"
        monkeypatch.setattr(search, "COUNT_BOUND", 10)
        capped = count_customers("smith")
        assert (capped.count, capped.more, capped.text) == (10, True, "10+ customers")


class TestHighlighting:
    def test_spans_cover_what_matched_in_the_text_as_shown(self):
        assert highlight_spans("Zoë Müller", ("zoe",)) == [(0, 3)]
        assert highlight_spans("Straße", ("strasse",)) == [(0, 6)]
        assert highlight_spans("Ada Lovelace", ("a",)) == [(0, 1)]
        assert highlight_spans("Nina Canada", ("ada", "nin")) == [(0, 3), (8, 11)]
        assert highlight_spans("ann@adams.example", ("ad",)) == [(4, 6)]
        assert highlight_spans("abc", ()) == []


def test_trigram_indexes_are_made_again_when_missing(store_db):
    """On PostgreSQL the GIN indexes (pg_trgm) are checked at start and made when missing."""
    if not db.is_postgres():
        assert search_index.trigram_index_problem(db.database.obj) is None
        return
    db.database.execute_sql("DROP INDEX customer_search_doc_trgm")
    assert db.check_search_index() is None
    names_ = {r[0] for r in db.database.execute_sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_search'").fetchall()}
    assert set(search_index.TRIGRAM_INDEXES) <= names_

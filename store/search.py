"""Customer search over the index of store/search_index.py, fast at a million customers
(docs/search.md says it at length).

What matches: every word of the query (folded: no case, no accents) must match. A word of
three or more characters matches anywhere in the name, company, reference, any address
or the portal username; a word of one or two characters only at the start of a word there
('a' finds Ada and ada@x.example, not Barbara).

How results rank: tier 0 when every word is a whole reference, portal username or address;
tier 1 when every word is at least the start of a word; tier 2 otherwise. Within a tier,
the chosen order (name, company or reference, folded), then the customer's id. Pages follow
a keyset cursor (tier, sort key, id), never OFFSET.

How it stays fast: each tier's customers are a set the index answers over every word,
asked tier by tier until the page is full. A set of at most SORT_BOUND is sorted whole; a
bigger (dense) one is read in sort order from the sort index, at most WALK_ROWS rows a call
(a page can then come back short, with a cursor to go on from). When those rows hold none
of its members (they lie together further on: a first name held by 5% of customers, sorted
by name) and the set holds at most CLUSTER_BOUND, it is sorted whole after all. Every call
does bounded work, however common the words.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Callable

from .db import database, is_postgres
from .search_index import START_LENGTH
from .search_text import KEY_END, WORD_MARK, is_part, parts_of, terms_of
from .values import CustomerOrder, CustomerSummary, MatchCount, PortalState, SearchCursor, SearchPage

# A tier's set this small is sorted whole (its rows need no test: the index query is exact).
SORT_BOUND = 20000
# Rows of a sort index one call reads at most when the matches are too many to sort
# (PostgreSQL fetches each from the heap, about four times SQLite's cost a row).
WALK_ROWS = 20000
WALK_ROWS_POSTGRES = 5000
# A dense set no bigger than this is sorted whole after all when a walk finds none of it:
# its members lie together further on in the sort order (see page).
CLUSTER_BOUND = 100000
# Matches are counted exactly up to this many; beyond, the count says "10,000+".
COUNT_BOUND = 10000
SHORT = 2

STATE_CODES = {PortalState.not_set_up: 0, PortalState.awaiting_customer: 1, PortalState.active: 2,
               PortalState.suspended: 3}
_STATES = {code: state for state, code in STATE_CODES.items()}
SORT_COLUMNS = {CustomerOrder.name: "name_key", CustomerOrder.company: "company_key",
                CustomerOrder.reference: "reference_key"}
# Tiers: a whole key, a word start, anywhere.
EXACT, PREFIX, ANYWHERE = 0, 1, 2

# (SQL, parameters) of each query a call ran.
Trace = list[tuple[str, tuple[Any, ...]]]


@dataclass(frozen=True)
class _Sql:
    """SQL text and its parameters, built together so they never drift apart."""

    text: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: "_Sql") -> "_Sql":
        return _Sql(self.text + other.text, self.params + other.params)


def _like_escaped(text: str) -> str:
    """``text`` as a LIKE pattern that matches only itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _join(parts: list[_Sql], glue: str) -> _Sql:
    return _Sql(glue.join(p.text for p in parts), tuple(x for p in parts for x in p.params))


class _Dialect:
    """What differs between the backends: placeholders, and the substring test."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.p = "%s" if postgres else "?"

    def contains(self, alias: str, column: str, needle: str) -> _Sql:
        function = "strpos" if self.postgres else "instr"
        return _Sql(f"{function}({alias}.{column}, {self.p}) > 0", (needle,))


# A set of customers, as (column, needle) tests: all of ``need``, and not all of ``unless``.
Needles = tuple[tuple[str, str], ...]


def _exact(term: str) -> tuple[str, str]:
    return ("doc", KEY_END + term + KEY_END)


def _prefix(term: str) -> tuple[str, str]:
    return ("words", WORD_MARK + term)


def _match(term: str) -> tuple[str, str]:
    return ("doc", term) if len(term) > SHORT else _prefix(term)


def _tier_sets(terms: tuple[str, ...]) -> dict[int | None, tuple[Needles, Needles]]:
    """Each tier's customers as an index query: a whole key for every word (tier 0); a word
    start for every word but not all whole keys (1); anywhere, but not all word starts (2).
    None: every match."""
    exact = tuple(_exact(t) for t in terms)
    prefix = tuple(_prefix(t) for t in terms)
    match = tuple(_match(t) for t in terms)
    return {None: (match, ()), EXACT: (exact, ()), PREFIX: (prefix, exact), ANYWHERE: (match, prefix)}


_DISPLAY = """
SELECT p.tier, p.k, p.customer_id, p.state, c.reference, c.name, c.company, c.primary_email, l.username
FROM ({inner}) p
JOIN customer c ON c.id = p.customer_id
LEFT JOIN portal_login l ON l.customer_id = c.id
ORDER BY p.tier, p.k, p.customer_id
"""


class _Search:
    """One call's work: the queries it runs go through ``run`` (and into ``trace``)."""

    def __init__(self, terms: tuple[str, ...], state: PortalState | None, order: CustomerOrder,
                 trace: Trace | None) -> None:
        self.d = _Dialect(is_postgres())
        self.terms = terms
        self.state = state
        self.key = SORT_COLUMNS[order]
        self.trace = trace
        self.sets = _tier_sets(terms)
        # Tier -> the planner's estimates of its set on PostgreSQL (see _postgres_estimate).
        self.estimated: dict[int | None, tuple[int | None, int | None]] = {}

    def run(self, sql: _Sql, *, bitmap: bool = False) -> list[tuple]:
        """Run one statement. On PostgreSQL with settings of its own, in the same query string
        (one round trip; a string of statements is one transaction, so they end with it):
        no JIT, which compiles a query the planner costs high (a set it overestimates) for
        100-150 ms before running it in 10; no parallel workers, which cost more to start
        than they save on a set this bounded; with ``bitmap``, plain scans off: the planner
        can misjudge a set (it can't know how rare a trigram is), and candidates must come
        from a GIN index, never from reading the table in some order hoping for matches."""
        text = sql.text
        if self.d.postgres:
            settings = ["jit = off", "max_parallel_workers_per_gather = 0",
                        *(["enable_seqscan = off", "enable_indexscan = off"] if bitmap else [])]
            text = "".join(f"SET LOCAL {setting}; " for setting in settings) + text
        if self.trace is not None:
            self.trace.append((text, sql.params))
        return list(database.execute_sql(text, sql.params).fetchall())

    # --- a set of customers, from the trigram index -------------------------------------

    def _row_test(self, alias: str, needles: Needles) -> _Sql:
        return _join([self.d.contains(alias, column, needle) for column, needle in needles], " AND ")

    def _like(self, alias: str, needles: Needles) -> _Sql:
        parts = []
        for column, needle in needles:
            pattern = "%" + _like_escaped(needle) + "%"
            parts.append(_Sql(f"{alias}.{column} LIKE {self.d.p}", (pattern,)))
        return _join(parts, " AND ")

    @staticmethod
    def _index_part(needle: tuple[str, str]) -> tuple[str, str, bool]:
        """How the FTS5 indexes find a needle: (table, query, exact). Not exact: the query
        finds more (a row test then decides)."""
        column, text = needle

        def quoted(value: str) -> str:
            return '"' + value.replace('"', '""') + '"'

        if text.startswith(KEY_END) and text.endswith(KEY_END):
            return "customer_search_words", "keys : " + quoted(text.strip(KEY_END)), True
        if column == "words":
            term = text[len(WORD_MARK):]
            if is_part(term):
                return "customer_search_words", f"parts : {quoted(term)} *", True
            # "katherine.so": a word starting with it has a run starting with each of the term's
            # runs; asking for all of them (not only the first, 'katherine', some 8,000 rows at
            # a million) leaves few rows for the row test, which decides.
            runs = parts_of(term)
            return "customer_search_words", " AND ".join(f"parts : {quoted(r)} *" for r in runs), False
        return "customer_search_fts", "doc : " + quoted(text), True

    def _sqlite_source(self, tier: int | None) -> tuple[str, str, _Sql | None]:
        """Which FTS5 table finds ``tier``'s set, its query, and the row tests left over."""
        need, unless = self.sets[tier]
        found = [(n, *self._index_part(n)) for n in need]
        table = "customer_search_fts" if any(t == "customer_search_fts" for _, t, _, _ in found) \
            else "customer_search_words"
        query = " AND ".join(q for _, t, q, _ in found if t == table)
        tested = tuple(n for n, t, _, exact in found if t != table or not exact)
        tests = [self._row_test("s", tested)] if tested else []
        if unless:
            others = [self._index_part(n) for n in unless]
            if table == "customer_search_words" and all(t == table and exact for t, _, exact in others):
                query += " NOT (" + " AND ".join(q for _, q, _ in others) + ")"
            else:
                tests.append(_Sql("NOT (") + self._row_test("s", unless) + _Sql(")"))
        return table, query, (_join(tests, " AND ") if tests else None)

    def _postgres_need(self, need: Needles) -> _Sql:
        """Whole keys by the GIN index of the keys array (the trigram index can't see the
        line breaks that mark a whole key); word starts and substrings by LIKE on the
        pg_trgm GIN indexes."""
        whole = tuple(n for n in need if n[1].startswith(KEY_END) and n[1].endswith(KEY_END))
        keys = [text.strip(KEY_END) for _, text in whole]
        rest = tuple(n for n in need if n not in whole)
        parts = []
        if keys:
            parts.append(_Sql(f"s.keys @> ARRAY[{', '.join([self.d.p] * len(keys))}]::text[]", tuple(keys)))
        if rest:
            parts.append(self._like("s", rest))
        return _join(parts, " AND ")

    # --- PostgreSQL's GIN index of word starts --------------------------------------------

    @staticmethod
    def _start_keys(need: Needles) -> list[str]:
        """The keys of ``need``'s word starts in the GIN index of word starts (a start's first
        START_LENGTH characters: a longer one is then tested row by row)."""
        return list(dict.fromkeys(text[len(WORD_MARK):][:START_LENGTH] for column, text in need if column == "words"))

    def _starts_sql(self, keys: list[str]) -> _Sql:
        return _Sql(f"portal_search_starts(s.words) @> ARRAY[{', '.join([self.d.p] * len(keys))}]::text[]",
                    tuple(keys))

    def _postgres_estimate(self, tier: int | None) -> tuple[int | None, int | None]:
        """The planner's estimates of how many customers hold the rarest word start key of
        ``tier``'s set, and the rest of it (None: there is none), from one plan. Its
        statistics of the word starts are good to a few percent; the set is at most the
        rarest key's customers, and the index reads no more than those."""
        if tier not in self.estimated:
            need, _ = self.sets[tier]
            keys = self._start_keys(need)
            rest = tuple(n for n in need if n[0] != "words")
            branches = [self._starts_sql([key]) for key in keys] + ([self._postgres_need(rest)] if rest else [])
            sql = _Sql("EXPLAIN (FORMAT JSON) ") + _join(
                [_Sql("SELECT 1 FROM customer_search s WHERE ") + branch for branch in branches], " UNION ALL ")
            plan = self.run(sql)[0][0]
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            nodes = plan["Plans"] if plan["Node Type"] == "Append" else [plan]
            rows = [int(node["Plan Rows"]) for node in nodes]
            self.estimated[tier] = (min(rows[:len(keys)]) if keys else None, rows[-1] if rest else None)
        return self.estimated[tier]

    def _postgres_members(self, tier: int | None) -> tuple[str, _Sql]:
        """FROM and WHERE on PostgreSQL (see members); the set comes from the GIN indexes."""
        need, unless = self.sets[tier]
        keys = self._start_keys(need)
        by_keys, by_rest = self._postgres_estimate(tier)
        if keys and (by_rest is None or by_keys <= by_rest):
            # The set's rows as one bitmap of every word start's key, tested for the rest.
            # OFFSET 0 keeps the state and the cursor out of that scan: the planner would AND
            # the bitmap with one of the (state, sort key) index, 170,000 entries read to save
            # reading a few thousand rows.
            tables = _Sql("(SELECT * FROM customer_search s WHERE ") + self._starts_sql(keys) + _Sql(" OFFSET 0) s")
            tested = tuple(n for n in need if n[0] != "words" or len(n[1]) - len(WORD_MARK) > START_LENGTH)
            tests = [self._row_test("s", tested)] if tested else [_Sql("true")]
        else:
            # Whole keys and words inside words by their GIN indexes; word starts row by row.
            tables = _Sql("customer_search s")
            starts = tuple(n for n in need if n[0] == "words")
            tests = [self._postgres_need(tuple(n for n in need if n[0] != "words"))]
            tests += [self._row_test("s", starts)] if starts else []
        where = _join(tests, " AND ")
        if unless:
            where = where + _Sql(" AND NOT (") + self._row_test("s", unless) + _Sql(")")
        # The FROM's parameters come first in the statement.
        return tables.text, _Sql("", tables.params) + where

    def members(self, tier: int | None, *, keys_only: bool = False) -> tuple[str, _Sql]:
        """FROM and WHERE (alias s, one row per customer of the set) for ``tier``'s set."""
        if self.d.postgres:
            return self._postgres_members(tier)
        table, query, tests = self._sqlite_source(tier)
        # The FTS5 index finds the set; the CROSS JOIN keeps it the outer loop. Without row
        # tests left, the state and sort keys come from the narrow index on the customer id
        # (the rows' text is spread over ten times the pages).
        narrow = " INDEXED BY customer_search_keys" if tests is None and (tier is not None or keys_only) else ""
        where = _Sql(f"{table} MATCH {self.d.p}", (query,))
        if tests is not None:
            where = where + _Sql(" AND ") + tests
        return f"{table} CROSS JOIN customer_search s{narrow} ON s.customer_id = {table}.rowid", where

    def estimate(self, tier: int | None, bound: int) -> int:
        """How many customers the index's part of ``tier``'s set holds, up to ``bound`` + 1:
        at least as many as the set (row tests only take away). Counted on SQLite; on
        PostgreSQL the planner's estimate (_postgres_estimate)."""
        if self.d.postgres:
            return min(bound + 1, *(rows for rows in self._postgres_estimate(tier) if rows is not None))
        table, query, _ = self._sqlite_source(tier)
        sql = _Sql(f"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH {self.d.p} "
                   f"LIMIT {bound + 1}) m", (query,))
        return self.run(sql)[0][0]

    def _state(self, alias: str) -> list[_Sql]:
        return [] if self.state is None else [_Sql(f"{alias}.state = {STATE_CODES[self.state]}")]

    def bounded_count(self, tier: int | None, bound: int, *, with_state: bool = False) -> int:
        if not with_state and not self.d.postgres and self._sqlite_source(tier)[2] is None:
            return self.estimate(tier, bound)  # the index alone is exact here
        tables, where = self.members(tier, keys_only=True)
        if with_state:
            where = _join([where, *self._state("s")], " AND ")
        sql = _Sql(f"SELECT count(*) FROM (SELECT 1 FROM {tables} WHERE ") + where + _Sql(f" LIMIT {bound + 1}) m")
        return self.run(sql, bitmap=True)[0][0]

    # --- pages ---------------------------------------------------------------------------

    def _keyset(self, after: SearchCursor | None, tier: int) -> list[_Sql]:
        """Rows of ``tier`` after the cursor (all of them when the cursor is in an earlier tier)."""
        if after is None or after.tier != tier:
            return []
        p = self.d.p
        return [_Sql(f"(s.{self.key}, s.customer_id) > ({p}, {p})", (after.key, after.customer_id))]

    def sorted_set(self, tier: int, after: SearchCursor | None, limit: int) -> list[tuple]:
        """Every member of ``tier``'s set sorted; one page of it."""
        tables, where = self.members(tier)
        conditions = _join([where, *self._state("s"), *self._keyset(after, tier)], " AND ")
        inner = (_Sql(f"SELECT s.customer_id AS customer_id, s.state, s.{self.key} AS k, {tier} AS tier "
                      f"FROM {tables} WHERE ") + conditions
                 + _Sql(f" ORDER BY k, customer_id LIMIT {int(limit) + 1}"))
        return self.run(_Sql(_DISPLAY.format(inner=inner.text), inner.params), bitmap=True)

    def walked(self, tier: int, after: SearchCursor | None, limit: int) -> tuple[list[tuple], SearchCursor | None]:
        """Members of a big set in sort order, read from the sort index and tested row by row,
        at most WALK_ROWS rows of it. Returns the rows and, when those rows ran out before the
        page filled, where the next call goes on from (None: the set is done)."""
        start = [*self._state("s"), *self._keyset(after, tier)]
        where = (_Sql(" WHERE ") + _join(start, " AND ")) if start else _Sql("")
        stretch = WALK_ROWS_POSTGRES if self.d.postgres else WALK_ROWS
        bound = self.run(_Sql(f"SELECT s.{self.key}, s.customer_id FROM customer_search s") + where
                         + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT 1 OFFSET {stretch - 1}"))
        need, unless = self.sets[tier]
        test = [self._row_test("s", need)]
        if unless:
            test.append(_Sql("NOT (") + self._row_test("s", unless) + _Sql(")"))
        if bound:
            p = self.d.p
            test.append(_Sql(f"(s.{self.key}, s.customer_id) <= ({p}, {p})", tuple(bound[0])))
        conditions = _join([*start, *test], " AND ")
        inner = (_Sql(f"SELECT s.customer_id, s.state, s.{self.key} AS k, {tier} AS tier FROM customer_search s WHERE ")
                 + conditions + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT {int(limit) + 1}"))
        rows = self.run(_Sql(_DISPLAY.format(inner=inner.text), inner.params))
        if len(rows) > limit or not bound:
            return rows, None
        return rows, SearchCursor(tier=tier, key=bound[0][0], customer_id=bound[0][1])

    def listed(self, after: SearchCursor | None, limit: int) -> list[tuple]:
        """No words: every customer (of the state) in sort order, from the sort index."""
        start = [*self._state("s"), *self._keyset(after, EXACT)]
        where = (_Sql(" WHERE ") + _join(start, " AND ")) if start else _Sql("")
        inner = (_Sql(f"SELECT s.customer_id, s.state, s.{self.key} AS k, {EXACT} AS tier FROM customer_search s")
                 + where + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT {int(limit) + 1}"))
        return self.run(_Sql(_DISPLAY.format(inner=inner.text), inner.params))

    def page(self, after: SearchCursor | None, limit: int) -> tuple[list[tuple], SearchCursor | None, bool]:
        """Up to ``limit`` rows after ``after``, where the next page starts, and whether there is one."""
        if not self.terms:
            return self._finish(self.listed(after, limit), limit, None)
        # Tier by tier: whole keys and word starts come from the word index, cheap; the
        # trigram index (a word inside a word) is asked only when they don't fill the page.
        rows: list[tuple] = []
        for tier in range(after.tier if after else EXACT, ANYWHERE + 1):
            want = limit - len(rows)
            size = self.estimate(tier, SORT_BOUND)
            if size == 0:
                found, resume = [], None
            elif size <= SORT_BOUND:
                found, resume = self.sorted_set(tier, after, want), None
            else:
                found, resume = self.walked(tier, after, want)
                if resume is not None and not found and self.estimate(tier, CLUSTER_BOUND) <= CLUSTER_BOUND:
                    # The rows read ran out with none of the set in them: its members lie
                    # together further on in the sort order (50,000 Margarets, sorted by
                    # name), and walking there would take a call a stretch before the screen
                    # shows a row. Sorting the whole set costs one query, linear in its size,
                    # bounded here. With some found, the short page shows them at once and
                    # the next call walks on (PostgreSQL sorted 'z' of a million in 157 ms,
                    # where its walk showed the first rows in 23).
                    found, resume = self.sorted_set(tier, after, want), None
            rows.extend(found)
            if len(rows) > limit:
                return self._finish(rows, limit, None)
            if resume is not None:
                # The rows read ran out before the page filled: a short page, going on from there.
                return rows, resume, True
            after = None
        return rows, None, False

    @staticmethod
    def _finish(rows: list[tuple], limit: int, resume: SearchCursor | None) -> tuple[list[tuple], SearchCursor | None, bool]:
        if len(rows) > limit:
            last = rows[limit - 1]
            return rows[:limit], SearchCursor(tier=last[0], key=last[1], customer_id=last[2]), True
        return rows, resume, resume is not None

    # --- how many -----------------------------------------------------------------

    def count(self) -> MatchCount:
        """How many customers match, exactly up to COUNT_BOUND."""
        if not self.terms:
            where = "" if self.state is None else f" WHERE state = {STATE_CODES[self.state]}"
            found = self.run(_Sql(f"SELECT count(*) FROM (SELECT 1 FROM customer_search{where} "
                                  f"LIMIT {COUNT_BOUND + 1}) matches"))[0][0]
        elif self.d.postgres and self.estimate(None, COUNT_BOUND * 5) > COUNT_BOUND * 5:
            # Far beyond the bound by the planner's sample: counting would build a set of
            # hundreds of thousands to say "10,000+".
            found = COUNT_BOUND + 1
        else:
            found = self.bounded_count(None, COUNT_BOUND, with_state=self.state is not None)
        return MatchCount(min(found, COUNT_BOUND), more=found > COUNT_BOUND)


def _summary(row: tuple) -> CustomerSummary:
    _, _, _, state, reference, name, company, primary_email, username = row
    return CustomerSummary(reference=reference, name=name, company=company, primary_email=primary_email,
                           username=username, state=_STATES[state])


def search_customers(text: str = "", *, state: PortalState | None = None, limit: int = 50,
                     after: SearchCursor | None = None, order: CustomerOrder = CustomerOrder.name,
                     trace: Trace | None = None) -> SearchPage:
    """One page of customers matching every word of ``text``, best first (see the module's
    docstring); ``after`` is the previous page's ``next_after``. ``trace`` collects the SQL run."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    terms = terms_of(text)
    search = _Search(terms, state, order, trace)
    rows, resume, more = search.page(after, limit)
    return SearchPage(customers=tuple(_summary(r) for r in rows), offset=0, has_more=more,
                      next_after=resume if more else None, after=after, terms=terms)


def count_customers(text: str = "", *, state: PortalState | None = None, trace: Trace | None = None) -> MatchCount:
    """How many customers ``search_customers`` would find: exact up to COUNT_BOUND."""
    return _Search(terms_of(text), state, CustomerOrder.name, trace).count()


def skip_rows(text: str, state: PortalState | None, order: CustomerOrder, offset: int,
              fetch: Callable[..., SearchPage] = search_customers) -> SearchCursor | None:
    """The cursor after the first ``offset`` matches, for callers that still page by offset
    (reads them all: pages by cursor are the fast way)."""
    after: SearchCursor | None = None
    left = offset
    while left > 0:
        page = fetch(text, state=state, limit=min(left, 1000), after=after, order=order)
        left -= len(page.customers)
        after = page.next_after
        if after is None:
            break
    return after


def find_customers(text: str = "", *, state: PortalState | None = None, limit: int = 50, offset: int = 0,
                   order: CustomerOrder = CustomerOrder.name, after: SearchCursor | None = None) -> SearchPage:
    """One page of customers matching every word of ``text`` in name, company, reference,
    any address of the Primary Email Address or portal username, best match first (this
    module's docstring says how). Page on with ``after=page.next_after``; ``offset`` still
    works for old callers but reads every row before it."""
    if offset and after is None:
        after = skip_rows(text, state, order, offset)
        if after is None:
            return SearchPage(customers=(), offset=offset, has_more=False, terms=terms_of(text))
    page = search_customers(text, state=state, limit=limit, after=after, order=order)
    return replace(page, offset=offset)

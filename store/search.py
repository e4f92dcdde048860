"""Customer search over the index of store/search_index.py, fast at a million customers.

What matches: every word of the query (folded: no case, no accents) must match. A word of
three or more characters matches anywhere in the name, company, reference, any address
or the portal username; a word of one or two characters only at the start of a word there
('a' finds Ada and ada@x.example, not Barbara), because a letter found anywhere matches
nearly everyone and tells the agent nothing.

How results rank: tier 0 when every word is a whole reference, portal username or address;
tier 1 when every word is at least the start of a word; tier 2 otherwise. Within a tier,
the chosen order (name, company or reference, folded), then the customer's id. Pages follow
a keyset cursor (tier, sort key, id), never OFFSET.

How it stays fast: the longest word (the rarest, usually) picks candidates from the trigram
index. When at most SORT_BOUND candidates match, they are ranked and sorted whole. When more
match, the matches are dense, and each tier is read in sort order from its sort index
instead, checking each row, reading at most WALK_ROWS rows a call (a page can then come back
short, with a cursor to go on from). Every call does bounded work, however common the word.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .db import database, is_postgres
from .search_text import KEY_END, WORD_MARK, terms_of
from .values import CustomerOrder, CustomerSummary, MatchCount, PortalState, SearchCursor, SearchPage

# A candidate set this small is ranked and sorted whole (a few milliseconds).
SORT_BOUND = 5000
# Rows of a sort index one call reads at most when the matches are too many to sort.
WALK_ROWS = 20000
# Matches are counted exactly up to this many; beyond, the count says "10,000+".
COUNT_BOUND = 10000
# The most rows of a word's candidates a count reads (a rare second word over a common first).
COUNT_SCAN = 200000
SHORT = 2

STATE_CODES = {PortalState.not_set_up: 0, PortalState.awaiting_customer: 1, PortalState.active: 2}
_STATES = {code: state for state, code in STATE_CODES.items()}
SORT_COLUMNS = {CustomerOrder.name: "name_key", CustomerOrder.company: "company_key",
                CustomerOrder.reference: "reference_key"}
# Tiers: a whole key, a word start, anywhere.
EXACT, PREFIX, ANYWHERE = 0, 1, 2

# (SQL, parameters, whether PostgreSQL ran it with the table scans off) of each query a call ran.
Trace = list[tuple[str, tuple[Any, ...], bool]]


@dataclass(frozen=True)
class _Sql:
    """SQL text and its parameters, built together so they never drift apart."""

    text: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: "_Sql") -> "_Sql":
        return _Sql(self.text + other.text, self.params + other.params)


def _join(parts: list[_Sql], glue: str) -> _Sql:
    return _Sql(glue.join(p.text for p in parts), tuple(x for p in parts for x in p.params))


class _Dialect:
    """What differs between the backends: placeholders, the trigram source, the greatest()."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.p = "%s" if postgres else "?"

    def contains(self, alias: str, column: str, needle: str) -> _Sql:
        function = "strpos" if self.postgres else "instr"
        return _Sql(f"{function}({alias}.{column}, {self.p}) > 0", (needle,))

    def source(self, column: str, needle: str, limit: int | None = None) -> _Sql:
        """The ids of customers whose ``column`` holds ``needle``, from the trigram index."""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        if self.postgres:
            pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return _Sql(f"SELECT customer_id FROM customer_search WHERE {column} LIKE {self.p}{tail}", (pattern,))
        quoted = '"' + needle.replace('"', '""') + '"'
        return _Sql(f"SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH {self.p}{tail}",
                    (f"{column} : {quoted}",))

    def greatest(self, parts: list[_Sql]) -> _Sql:
        if len(parts) == 1:
            return parts[0]
        inner = _join(parts, ", ")
        return _Sql(("GREATEST(" if self.postgres else "max(") + inner.text + ")", inner.params)


def _exact(d: _Dialect, alias: str, term: str) -> _Sql:
    return d.contains(alias, "doc", KEY_END + term + KEY_END)


def _prefix(d: _Dialect, alias: str, term: str) -> _Sql:
    return d.contains(alias, "words", WORD_MARK + term)


def _matches(d: _Dialect, alias: str, term: str) -> _Sql:
    return d.contains(alias, "doc", term) if len(term) > SHORT else _prefix(d, alias, term)


def _tier(d: _Dialect, alias: str, terms: tuple[str, ...]) -> _Sql:
    per_term = []
    for term in terms:
        per_term.append(_Sql("(CASE WHEN ") + _exact(d, alias, term) + _Sql(f" THEN {EXACT} WHEN ")
                        + _prefix(d, alias, term) + _Sql(f" THEN {PREFIX} ELSE {ANYWHERE} END)"))
    return d.greatest(per_term)


def _where(d: _Dialect, alias: str, terms: tuple[str, ...], state: PortalState | None) -> list[_Sql]:
    parts = [_matches(d, alias, t) for t in terms]
    if state is not None:
        parts.append(_Sql(f"{alias}.state = {STATE_CODES[state]}"))
    return parts


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
        # The longest word is the rarest, usually: it picks the candidates.
        self.driver = max(terms, key=len) if terms else ""

    def run(self, sql: _Sql, *, bitmap: bool = False) -> list[tuple]:
        if self.trace is not None:
            self.trace.append((sql.text, sql.params, bitmap and self.d.postgres))
        if bitmap and self.d.postgres:
            # The planner can't know how rare a trigram is; candidates come from the GIN
            # index, never from reading the table in some order and hoping for matches.
            with database.atomic():
                database.execute_sql("SET LOCAL enable_seqscan = off")
                database.execute_sql("SET LOCAL enable_indexscan = off")
                return list(database.execute_sql(sql.text, sql.params).fetchall())
        return list(database.execute_sql(sql.text, sql.params).fetchall())

    # --- the pieces ---------------------------------------------------------------

    def source(self, tier: int) -> _Sql:
        if tier == EXACT:
            return self.d.source("doc", KEY_END + self.driver + KEY_END)
        if tier == PREFIX or len(self.driver) <= SHORT:
            return self.d.source("words", WORD_MARK + self.driver)
        return self.d.source("doc", self.driver)

    def bounded_count(self, source: _Sql, bound: int) -> int:
        limited = _Sql(f"SELECT count(*) FROM ({source.text} LIMIT {bound + 1}) candidates", source.params)
        return self.run(limited, bitmap=True)[0][0]

    def _filtered(self, alias: str, tier: int | None) -> _Sql:
        parts = _where(self.d, alias, self.terms, self.state)
        if tier is not None:
            parts.append(_tier(self.d, alias, self.terms) + _Sql(f" = {tier}"))
        return _join(parts, " AND ") if parts else _Sql("1 = 1")

    def ranked(self, source: _Sql, after: SearchCursor | None, limit: int, tier: int | None) -> list[tuple]:
        """Every candidate of ``source`` ranked and sorted (a small set); one page of it."""
        rank = _tier(self.d, "s", self.terms) if tier is None else _Sql(str(tier))
        inner = (_Sql("SELECT s.customer_id, s.state, s." + self.key + " AS k, ") + rank
                 + _Sql(" AS tier FROM customer_search s WHERE s.customer_id IN (") + source
                 + _Sql(") AND ") + self._filtered("s", tier))
        keyset = _Sql("")
        if after is not None:
            keyset = _Sql(f" WHERE (r.tier, r.k, r.customer_id) > ({self.d.p}, {self.d.p}, {self.d.p})",
                          (after.tier, after.key, after.customer_id))
        page = (_Sql("SELECT * FROM (") + inner + _Sql(") r") + keyset
                + _Sql(f" ORDER BY r.tier, r.k, r.customer_id LIMIT {int(limit) + 1}"))
        return self.run(_Sql(_DISPLAY.format(inner=page.text), page.params), bitmap=True)

    def _from_cursor(self, alias: str, after: SearchCursor | None, tier: int) -> list[_Sql]:
        parts = [] if self.state is None else [_Sql(f"{alias}.state = {STATE_CODES[self.state]}")]
        if after is not None and after.tier == tier:
            parts.append(_Sql(f"({alias}.{self.key}, {alias}.customer_id) > ({self.d.p}, {self.d.p})",
                              (after.key, after.customer_id)))
        return parts

    def walked(self, after: SearchCursor | None, limit: int, tier: int) -> tuple[list[tuple], SearchCursor | None]:
        """Matches of ``tier`` in sort order, reading at most WALK_ROWS rows of the sort index.
        Returns the rows and, when the rows read ran out before the page filled, where the
        next call goes on from (None: this tier is done)."""
        start = self._from_cursor("s", after, tier)
        where = (_Sql(" WHERE ") + _join(start, " AND ")) if start else _Sql("")
        chunk = (_Sql(f"SELECT s.customer_id, s.state, s.{self.key}, s.doc, s.words FROM customer_search s")
                 + where + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT {WALK_ROWS}"))
        inner = (_Sql(f"SELECT w.customer_id, w.state, w.{self.key} AS k, {tier} AS tier FROM (") + chunk
                 + _Sql(") w WHERE ") + self._filtered("w", tier)
                 + _Sql(f" ORDER BY w.{self.key}, w.customer_id LIMIT {int(limit) + 1}"))
        rows = self.run(_Sql(_DISPLAY.format(inner=inner.text), inner.params))
        if len(rows) > limit:
            return rows, None
        last = self.run(_Sql(f"SELECT s.{self.key}, s.customer_id FROM customer_search s") + where
                        + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT 1 OFFSET {WALK_ROWS - 1}"))
        if not last:
            return rows, None
        return rows, SearchCursor(tier=tier, key=last[0][0], customer_id=last[0][1])

    def listed(self, after: SearchCursor | None, limit: int) -> list[tuple]:
        """No words: every customer (of the state) in sort order, from the sort index."""
        start = self._from_cursor("s", after, EXACT)
        where = (_Sql(" WHERE ") + _join(start, " AND ")) if start else _Sql("")
        inner = (_Sql(f"SELECT s.customer_id, s.state, s.{self.key} AS k, {EXACT} AS tier FROM customer_search s")
                 + where + _Sql(f" ORDER BY s.{self.key}, s.customer_id LIMIT {int(limit) + 1}"))
        return self.run(_Sql(_DISPLAY.format(inner=inner.text), inner.params))

    # --- a page -------------------------------------------------------------------

    def page(self, after: SearchCursor | None, limit: int) -> tuple[list[tuple], SearchCursor | None, bool]:
        """Up to ``limit`` rows after ``after``, where the next page starts, and whether there is one."""
        if not self.terms:
            return self._finish(self.listed(after, limit), limit, None)
        if self.bounded_count(self.source(ANYWHERE), SORT_BOUND) <= SORT_BOUND:
            return self._finish(self.ranked(self.source(ANYWHERE), after, limit, None), limit, None)
        rows: list[tuple] = []
        last_tier = ANYWHERE if len(self.driver) > SHORT else PREFIX
        for tier in range(after.tier if after else EXACT, last_tier + 1):
            want = limit - len(rows)
            source = self.source(tier)
            dense = tier == ANYWHERE or self.bounded_count(source, SORT_BOUND) > SORT_BOUND
            if dense:
                found, resume = self.walked(after, want, tier)
            else:
                found, resume = self.ranked(source, after, want, tier), None
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
            return MatchCount(min(found, COUNT_BOUND), more=found > COUNT_BOUND)
        source = self.source(ANYWHERE)
        capped = _Sql(f"{source.text} LIMIT {COUNT_SCAN}", source.params)
        matches = (_Sql("SELECT count(*) FROM (SELECT 1 FROM customer_search s WHERE s.customer_id IN (")
                   + capped + _Sql(") AND ") + self._filtered("s", None)
                   + _Sql(f" LIMIT {COUNT_BOUND + 1}) matches"))
        found = self.run(matches, bitmap=True)[0][0]
        if found > COUNT_BOUND:
            return MatchCount(COUNT_BOUND, more=True)
        # Fewer than the bound among the first COUNT_SCAN candidates: exact unless there were more.
        exact = self.bounded_count(source, COUNT_SCAN) < COUNT_SCAN
        return MatchCount(found, more=not exact)


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

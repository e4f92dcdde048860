"""SQLite (FTS5 trigram) and PostgreSQL (pg_trgm) give the same answers: the same customers
in the same order, page by page, and the same counts, for the same data and queries."""
from __future__ import annotations

import random

from store import db, demo
from store.customers import add_customer
from store.search import count_customers, find_customers
from store.panel import set_username
from store.values import CustomerOrder, PortalState

AGENT = "alice"
EXTRA = [  # accents, shared companies and addresses, odd punctuation
    ("Zoë Müller", "Straße & Söhne", "zoe@strasse.example; billing@strasse.example", "zoe.m"),
    ("Zoe Muller", "Strasse und Sohne", "zoe.muller@post.example", None),
    ("José Núñez", "Café Ørsted", "jose@cafe.example", "jnunez"),
    ("Łukasz Wiśniewski", "Straße & Söhne", "billing@strasse.example", None),
    ("Renée O'Brien-Smith", "O'Brien Ltd", "renee@obrien.example, ops@obrien.example", "r.obrien"),
    ("Ada Adams", "Canada Dry", "ada@canada.example", "ada"),
]


def _fill() -> list[str]:
    """The same customers on whichever database the store points at; returns texts to search."""
    demo.seed(customers=120, actor=AGENT)
    for name, company, email, username in EXTRA:
        reference = add_customer(name=name, company=company, primary_email=email, actor=AGENT).reference
        if username:
            set_username(reference, username, expected_version=None, actor=AGENT)
    rng = random.Random(14)
    texts = {"", "a", "z", "zz", "ad", "ada", "lovelace", "c00001", "C000005", "billing@", "example",
             "muller", "MÜLLER", "straße", "o'brien", "brien-sm", "nunez orsted", "ada canada", "zz top",
             "@", ".", "-", "x" * 40}
    page = find_customers("", limit=1000).customers
    for customer in rng.sample(page, 15):
        for field in (customer.name, customer.company, customer.reference, customer.primary_email,
                      customer.username or ""):
            for length in (1, 2, 3, 5, 8, 12):
                if field[:length].strip():
                    texts.add(field[:length])
            words = field.split()
            if len(words) > 1:
                texts.add(words[-1][:4])
    return sorted(texts)


def _answers(texts: list[str]) -> dict:
    found = {}
    for text in texts:
        for state, order in ((None, CustomerOrder.name), (PortalState.active, CustomerOrder.company),
                             (PortalState.not_set_up, CustomerOrder.reference)):
            whole = [c.reference for c in find_customers(text, state=state, order=order, limit=1000).customers]
            pages, after = [], None
            for _ in range(200):
                page = find_customers(text, state=state, order=order, limit=9, after=after)
                pages.extend(c.reference for c in page.customers)
                if not page.has_more:
                    break
                after = page.next_after
            count = count_customers(text, state=state)
            found[(text, state, order)] = (whole, pages, (count.count, count.more))
    return found


def test_sqlite_and_postgres_answer_every_query_alike(tmp_path, postgres_url, fixed_clock):
    results = []
    for url in (f"sqlite:///{tmp_path / 'portal.db'}", postgres_url):
        db.init(url)
        try:
            if db.is_postgres():
                db.database.execute_sql("TRUNCATE customer RESTART IDENTITY CASCADE")
            texts = _fill()
            results.append((texts, _answers(texts)))
        finally:
            db.close()
    (texts_sqlite, on_sqlite), (texts_postgres, on_postgres) = results
    assert texts_sqlite == texts_postgres and len(texts_sqlite) > 150
    differing = [key for key in on_sqlite if on_sqlite[key] != on_postgres[key]]
    assert not differing, f"{len(differing)} queries differ, e.g. {differing[:5]}"
    # The queries found something worth comparing, and every page joined up to the whole answer.
    assert sum(1 for whole, _, _ in on_sqlite.values() if whole) > len(on_sqlite) // 2
    assert all(whole == pages for whole, pages, _ in on_sqlite.values())

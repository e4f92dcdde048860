"""The console's service-layer calls (tui/calls.py), each on a worker thread of its own."""
from __future__ import annotations

import sqlite3
import threading

from store import db
from store.customers import add_customer
from store.search import search_customers
from tui.calls import call


def test_calls_on_new_threads_reuse_one_sqlite_connection_with_its_page_cache(sqlite_db) -> None:
    """Textual starts a thread for each worker; the connection (and the index pages it has
    read) must outlive it, or every keystroke's search starts reading the file afresh."""
    with db.database.connection_context():
        add_customer(name="Ada Lovelace", primary_email="ada@example.com", actor="test")
    used = []

    def one_search() -> None:
        def search() -> None:
            assert search_customers("ada").customers[0].name == "Ada Lovelace"
            # Kept, so a closed connection can't be freed and its address reused by the next.
            used.append(db.database.connection())
        call(search)

    for _ in range(3):
        worker = threading.Thread(target=one_search)
        worker.start()
        worker.join()
    assert len(used) == 3 and len({id(conn) for conn in used}) == 1
    cached = used[0].execute("PRAGMA cache_size").fetchone()[0]
    assert cached == -db.SQLITE_CACHE_KIB


def test_a_burst_of_calls_leaves_at_most_two_idle_connections(sqlite_db) -> None:
    """Five calls at once use five connections; each idle one holds a page cache, so only
    SQLITE_IDLE stay open for the next calls."""
    together = threading.Barrier(5)
    used = []

    def one_call() -> None:
        def hold() -> None:
            used.append(db.database.connection())
            together.wait(timeout=10)
        call(hold)

    workers = [threading.Thread(target=one_call) for _ in range(5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({id(conn) for conn in used}) == 5
    open_ones = []
    for conn in used:
        try:
            conn.execute("SELECT 1")
            open_ones.append(conn)
        except sqlite3.ProgrammingError:  # closed
            pass
    assert len(open_ones) == db.SQLITE_IDLE == 2

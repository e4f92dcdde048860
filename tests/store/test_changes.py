"""The dashboard's change marker: one query whose answer moves with every change the
dashboard shows, and stays put when nothing changed (else every open console reads
the whole customer every second)."""
import pytest

from store.changes import dashboard_marker
from store.customers import update_customer
from store.errors import CustomerNotFound
from store.dispatch import claim_due
from store.panel import send_portal_email, set_username
from store.settings import update_setting

from .conftest import AGENT


def test_the_marker_stays_put_while_nothing_changes(customer):
    assert dashboard_marker(customer) == dashboard_marker(customer.lower())


@pytest.mark.parametrize("change", ["username", "details", "email queued", "switch", "email claimed"])
def test_every_change_the_dashboard_shows_moves_the_marker(customer, change):
    """Each kind of change made elsewhere (another console, the portal, the mailer) is seen."""
    if change == "email claimed":
        send_portal_email(customer, actor=AGENT)
    before = dashboard_marker(customer)
    if change == "username":
        set_username(customer, "ada.l", expected_version=None, actor=AGENT)
    elif change == "details":
        update_customer(customer, expected_version=None, actor=AGENT, company="Engines Ltd")
    elif change == "email queued":
        send_portal_email(customer, actor=AGENT)
    elif change == "switch":
        update_setting("password_reset_email", "on", actor=AGENT)
    else:
        assert len(claim_due("test-mailer", limit=10, lease_seconds=60).emails) == 1
    assert dashboard_marker(customer) != before


def test_an_unknown_reference_is_not_found(store_db):
    with pytest.raises(CustomerNotFound):
        dashboard_marker("C999999")



# --- a team on PostgreSQL: pooled connections -------------------------------------------

def _admin(url: str):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _poll(reference: str):
    """What an open dashboard does each second (tui/calls.py): a connection from the pool, one marker."""
    from store import db

    with db.database.connection_context():
        marker = dashboard_marker(reference)
        pid = db.database.connection().get_backend_pid()
    return marker, pid


def test_a_poll_costs_the_database_one_query_not_a_check_and_a_query(customer, database_url):
    """The pool trusts a connection used within seconds: no SELECT 1 before each poll's marker."""
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL only: it reads the server's pg_stat_activity")
    from store import db

    _, pid = _poll(customer)
    admin = _admin(database_url)
    try:
        with db.database.connection_context():
            assert db.database.connection().get_backend_pid() == pid  # the pooled one again
            with admin.cursor() as cur:
                cur.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,))
                last = cur.fetchone()[0]
        assert "account_setting" in last and "SELECT 1" not in last
    finally:
        admin.close()


def test_no_idle_console_holds_a_transaction_open(customer, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL only")
    _poll(customer)
    admin = _admin(database_url)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state LIKE 'idle in transaction%%'")
            assert cur.fetchone()[0] == 0
    finally:
        admin.close()


@pytest.mark.parametrize("then", ["poll", "write"])
def test_a_server_restart_heals_by_itself_on_the_next_call(customer, database_url, then):
    """Every pooled connection is killed, as a restart does; the next call just works."""
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL only")
    from store import db

    before, pid = _poll(customer)
    admin = _admin(database_url)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        admin.close()
    with db.database.connection_context():
        if then == "poll":
            assert dashboard_marker(customer) == before
        else:
            set_username(customer, "after.restart", expected_version=None, actor=AGENT)
    assert _poll(customer)[1] != pid

"""Races between connections: the database decides, exactly one wins, the other gets a sentence."""
import threading
from typing import Callable

from store import db
from store.customers import add_customer
from store.errors import PortalError
from store.panel import set_username
from store.records import portal_view

from .conftest import AGENT, count


def _race(*actions: Callable[[], object]) -> list[str]:
    """Run the actions at the same instant on their own connections; report each outcome."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            actions[i]()
            results[i] = "ok"
        except PortalError as error:
            results[i] = type(error).__name__
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_customers_racing_for_one_username_exactly_one_gets_it(store_db):
    """Rule 1 under a race: the unique index picks one; the other is told the name is in use."""
    refs = [add_customer(name=f"C{i}", primary_email=f"c{i}@x.com", actor=AGENT).reference for i in range(2)]
    for _ in range(5):
        outcome = _race(*(lambda r=r: set_username(r, "Same.Name", expected_version=None, actor=AGENT) for r in refs))
        assert sorted(outcome) == ["UsernameTaken", "ok"]
        assert count("portal_login") == 1
        from store.panel import delete_username
        winner = refs[outcome.index("ok")]
        delete_username(winner, expected_version=None, actor=AGENT)


def test_two_agents_editing_one_customer_the_later_is_refused(store_db):
    """Rule 9 under a race: both read version 1; one write lands, the other is StaleEdit."""
    ref = add_customer(name="Ada", primary_email="ada@x.com", actor=AGENT).reference
    outcome = _race(
        lambda: set_username(ref, "from.agent.a", expected_version=1, actor="agent-a"),
        lambda: set_username(ref, "from.agent.b", expected_version=1, actor="agent-b"),
    )
    assert sorted(outcome) == ["StaleEdit", "ok"]
    winner = ["from.agent.a", "from.agent.b"][outcome.index("ok")]
    assert portal_view(ref).username == winner and portal_view(ref).version == 2


def test_many_customers_racing_for_one_username(store_db):
    refs = [add_customer(name=f"C{i}", primary_email=f"c{i}@x.com", actor=AGENT).reference for i in range(6)]
    outcome = _race(*(lambda r=r: set_username(r, "popular", expected_version=1, actor=AGENT) for r in refs))
    assert outcome.count("ok") == 1 and outcome.count("UsernameTaken") == 5
    assert count("portal_login") == 1


def test_two_retries_of_one_failed_email_at_once_queue_it_once(store_db):
    """Rule 10 under a race (a double press of r, or two agents): one retry wins; the other is
    told, and the winner's fresh link is not revoked by a second one."""
    from store.outbox import retry_email
    from store.panel import send_portal_email

    ref = add_customer(name="Ada", primary_email="ada@x.com", actor=AGENT).reference
    for _ in range(3):
        queued = send_portal_email(ref, actor=AGENT)
        placeholder = "%s" if db.is_postgres() else "?"
        db.database.execute_sql(f"UPDATE outbox_email SET status = 'failed' WHERE id = {placeholder}",
                                (queued.outbox_id,))
        outcome = _race(*(lambda: retry_email(queued.outbox_id, actor=AGENT) for _ in range(2)))
        assert sorted(outcome) == ["ActionNotAllowed", "ok"]
        assert count("portal_link", "revoked_at IS NULL") == 1
        assert count("outbox_email", "status = 'queued'") == 1
        db.database.execute_sql("UPDATE outbox_email SET status = 'sent'")

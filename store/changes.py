"""Whether anything an open Customer Dashboard shows has changed: one small query a poll.

The dashboard asks this every second; when the answer differs from the last one it reads
the customer again. Everything it shows moves one of these figures: the customer's version
(details, username, password), its newest activity event (every change and every email
event), the two Email Notifications switches (the PORTAL panel's note), its emails'
statuses and attempts (a claim, a retry, a delivery), and its newest sign-in event (a sign-in,
a wrong password, a lockout, a sign out: the portal writes no activity event for those).
"""
from __future__ import annotations

from .db import database
from .errors import CustomerNotFound

ChangeMarker = tuple[object, ...]

_MARKER = """
SELECT c.version,
       (SELECT MAX(a.id) FROM activity_event a WHERE a.customer_id = c.id),
       (SELECT s.credential_create_email FROM account_setting s ORDER BY s.id LIMIT 1),
       (SELECT s.password_reset_email FROM account_setting s ORDER BY s.id LIMIT 1),
       (SELECT COUNT(*) FROM outbox_email o WHERE o.customer_id = c.id),
       (SELECT SUM(o.attempts) FROM outbox_email o WHERE o.customer_id = c.id),
       (SELECT COUNT(*) FROM outbox_email o WHERE o.customer_id = c.id AND o.status = 'sending'),
       (SELECT COUNT(*) FROM outbox_email o WHERE o.customer_id = c.id AND o.status = 'sent'),
       (SELECT COUNT(*) FROM outbox_email o WHERE o.customer_id = c.id AND o.status = 'failed'),
       (SELECT MAX(e.id) FROM sign_in_event e WHERE e.customer_id = c.id)
FROM customer c WHERE lower(c.reference) = lower({param})
"""

def dashboard_marker(reference: str) -> ChangeMarker:
    """Figures that change whenever anything the dashboard shows of ``reference`` changes."""
    sql = _MARKER.format(param=database.param)
    row = database.execute_sql(sql, (reference.strip(),)).fetchone()
    if row is None:
        raise CustomerNotFound(f"There is no customer with reference {reference!r}.")
    return tuple(row)
